// The fault module's test fixture (see fault_fixture.h).
#include "tests/p11fault/fault_fixture.h"

#include "tests/p11fault/fault_files.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#ifndef SIGNET_P11FAULT_PATH
#error "SIGNET_P11FAULT_PATH: the built libsignet-p11fault.so (set by CMake)"
#endif

#if defined(__SANITIZE_ADDRESS__)
// SoftHSM 2.6.1 leaks the small OpenSSL objects it decodes in C_SignInit and
// C_GenerateKeyPair; that is not this module's memory (the same suppression as tests/hsm).
// The real module is never unloaded, so LeakSanitizer can name it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libsofthsm2.so\n"; }
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif

namespace signet::p11fault::testing {
namespace {

// Per process: the module reads its environment (fault_files.h) once, when first loaded.
struct Process {
  Process() {
    error = fault_files().error;
    if (!error.empty()) return;
    fault_library = ::dlopen(SIGNET_P11FAULT_PATH, RTLD_NOW | RTLD_LOCAL);
    if (fault_library == nullptr) {
      error = std::string("dlopen " SIGNET_P11FAULT_PATH ": ") + ::dlerror();
      return;
    }
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(
        ::dlsym(fault_library, "C_GetFunctionList"));
    if (get_list == nullptr || get_list(&fault) != CKR_OK) {
      error = "the fault module's C_GetFunctionList failed";
      fault = nullptr;
      return;
    }
    // Already loaded by the fault module: the same library, the same Cryptoki state.
    void* real_library = ::dlopen(signet::testing::softhsm_module_path(), RTLD_NOW | RTLD_LOCAL);
    auto get_real = real_library == nullptr ? nullptr
                                            : reinterpret_cast<CK_C_GetFunctionList>(
                                                  ::dlsym(real_library, "C_GetFunctionList"));
    if (get_real == nullptr || get_real(&real) != CKR_OK) {
      error = "SoftHSM2's C_GetFunctionList failed";
      fault = nullptr;
    }
  }
  std::string error;
  void* fault_library = nullptr;
  CK_FUNCTION_LIST* fault = nullptr;
  CK_FUNCTION_LIST* real = nullptr;
};

Process& process() {
  static Process instance;
  return instance;
}

std::string padded_label(const std::string& label) {
  std::string padded = label;
  padded.resize(32, ' ');
  return padded;
}

}  // namespace

CK_FUNCTION_LIST& FaultModuleTest::p11() { return *process().fault; }
CK_FUNCTION_LIST& FaultModuleTest::real_p11() { return *process().real; }
void* FaultModuleTest::fault_library() { return process().fault_library; }

void FaultModuleTest::SetUp() {
  ASSERT_NE(process().fault, nullptr) << process().error;
  write_control("");
  auto token = signet::testing::SoftHsmToken::create();
  ASSERT_TRUE(token.ok()) << token.error().message;
  token_.emplace(std::move(token).value());

  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_EQ(p11().C_Initialize(&args), CKR_OK);
  initialized_ = true;

  CK_ULONG count = 0;
  ASSERT_EQ(p11().C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
  std::vector<CK_SLOT_ID> slots(count);
  ASSERT_EQ(p11().C_GetSlotList(CK_TRUE, slots.data(), &count), CKR_OK);
  bool found = false;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (p11().C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if (std::string(reinterpret_cast<const char*>(info.label), sizeof info.label) ==
        padded_label(token_->label())) {
      slot_ = slot;
      found = true;
      break;
    }
  }
  ASSERT_TRUE(found) << "no slot holds the token " << token_->label();
  session_ = open_session();
  ASSERT_EQ(login(session_), CKR_OK);
  clear_trace();
}

void FaultModuleTest::TearDown() {
  write_control("");
  if (initialized_) {
    EXPECT_EQ(p11().C_Finalize(nullptr), CKR_OK);
  }
  token_.reset();
}

void FaultModuleTest::write_control(const std::string& text) {
  ASSERT_TRUE(testing::write_control(text)) << "cannot replace " << fault_files().control;
}

std::vector<TraceLine> FaultModuleTest::trace() {
  std::vector<TraceLine> lines;
  for (const std::string& line : read_trace()) {
    std::size_t space = line.find(' ');
    if (space == std::string::npos) {
      lines.emplace_back(line, "");
    } else {
      lines.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
  }
  return lines;
}

void FaultModuleTest::clear_trace() { testing::clear_trace(); }

std::int64_t FaultModuleTest::next_reboot_generation() {
  static std::int64_t generation = 0;
  return ++generation;
}

CK_SESSION_HANDLE FaultModuleTest::open_session() {
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  EXPECT_EQ(p11().C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                &session),
            CKR_OK);
  return session;
}

CK_RV FaultModuleTest::login(CK_SESSION_HANDLE session) {
  std::string pin = token_->user_pin();
  return p11().C_Login(session, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                       pin.size());
}

FaultModuleTest::KeyPair FaultModuleTest::generate_p256(CK_SESSION_HANDLE session,
                                                        const std::string& id) {
  // DER OBJECT IDENTIFIER 1.2.840.10045.3.1.7 (prime256v1).
  unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  CK_BBOOL yes = CK_TRUE;
  std::string key_id = id;
  CK_ATTRIBUTE public_template[] = {
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_VERIFY, &yes, sizeof yes},
      {CKA_EC_PARAMS, p256, sizeof p256},
      {CKA_ID, key_id.data(), key_id.size()},
  };
  CK_ATTRIBUTE private_template[] = {
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes},
      {CKA_SIGN, &yes, sizeof yes},
      {CKA_ID, key_id.data(), key_id.size()},
  };
  CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  KeyPair pair;
  EXPECT_EQ(p11().C_GenerateKeyPair(session, &mechanism, public_template,
                                    std::size(public_template), private_template,
                                    std::size(private_template), &pair.public_key,
                                    &pair.private_key),
            CKR_OK);
  return pair;
}

namespace {
std::vector<unsigned char> test_digest() { return std::vector<unsigned char>(32, 0x5a); }
}  // namespace

CK_RV FaultModuleTest::sign(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                            std::vector<unsigned char>* signature) {
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  CK_RV rv = p11().C_SignInit(session, &mechanism, key);
  if (rv != CKR_OK) return rv;
  std::vector<unsigned char> digest = test_digest();
  std::vector<unsigned char> out(72);
  CK_ULONG length = out.size();
  rv = p11().C_Sign(session, digest.data(), digest.size(), out.data(), &length);
  if (rv == CKR_OK && signature != nullptr) {
    out.resize(length);
    *signature = out;
  }
  return rv;
}

CK_RV FaultModuleTest::verify(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                              const std::vector<unsigned char>& signature) {
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  CK_RV rv = p11().C_VerifyInit(session, &mechanism, key);
  if (rv != CKR_OK) return rv;
  std::vector<unsigned char> digest = test_digest();
  std::vector<unsigned char> copy = signature;
  return p11().C_Verify(session, digest.data(), digest.size(), copy.data(), copy.size());
}

std::optional<CK_OBJECT_HANDLE> FaultModuleTest::find_private_key(CK_SESSION_HANDLE session,
                                                                  const std::string& id) {
  CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
  std::string key_id = id;
  CK_ATTRIBUTE search[] = {
      {CKA_CLASS, &key_class, sizeof key_class},
      {CKA_ID, key_id.data(), key_id.size()},
  };
  if (p11().C_FindObjectsInit(session, search, std::size(search)) != CKR_OK) return std::nullopt;
  CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
  CK_ULONG count = 0;
  CK_RV rv = p11().C_FindObjects(session, &found, 1, &count);
  p11().C_FindObjectsFinal(session);
  if (rv != CKR_OK || count != 1) return std::nullopt;
  return found;
}

}  // namespace signet::p11fault::testing
