#include "hsm/module.h"

#include <dlfcn.h>

#include <filesystem>
#include <utility>

namespace signet::hsm {
namespace {

// Loading, initializing, finalizing and unloading one module path must not interleave, and
// the Cryptoki library itself is a process-wide thing: hence this one registry per process.
std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}

// Users are counted here, under the mutex, rather than by weak_ptr: an expired weak_ptr can
// belong to a Module whose finalization has not run yet, and initializing again in that gap
// would leave the new user with a module finalized behind its back.
struct Entry {
  Module* module;
  unsigned users;
};

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> modules;
  return modules;
}

std::shared_ptr<Module> share(const std::string& key, Module* module) {
  return std::shared_ptr<Module>(module, [key](Module* m) {
    std::lock_guard lock(registry_mutex());
    auto it = registry().find(key);
    if (it != registry().end() && --it->second.users == 0) {
      registry().erase(it);
      delete m;
    }
  });
}

std::string dl_error_text() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}

}  // namespace

Module::Module(std::string path, void* library, CK_FUNCTION_LIST* api, bool owns_init)
    : path_(std::move(path)), library_(library), api_(api), owns_init_(owns_init) {}

Module::~Module() {
  if (owns_init_) api_->C_Finalize(nullptr);
  dlclose(library_);
}

Result<std::shared_ptr<Module>> Module::load(const std::string& path) {
  if (path.empty()) return make_error(Code::kHsmModule, "no PKCS#11 module path is configured");
  // Two spellings of one file are one library to dlopen, so key the registry by the real path.
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec || key.empty()) key = path;

  std::lock_guard lock(registry_mutex());
  if (auto it = registry().find(key); it != registry().end()) {
    ++it->second.users;
    return share(key, it->second.module);
  }

  // RTLD_LOCAL keeps the module's symbols (its own OpenSSL, say) out of our namespace.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return make_error(Code::kHsmModule,
                      "cannot load the PKCS#11 module '" + path + "': " + dl_error_text());
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    std::string why = dl_error_text();
    dlclose(library);
    return make_error(Code::kHsmModule, "'" + path + "' is not a PKCS#11 module: " + why);
  }
  CK_FUNCTION_LIST* api = nullptr;
  CK_RV rv = get_function_list(&api);
  if (rv != CKR_OK || api == nullptr) {
    dlclose(library);
    return make_error(Code::kHsmModule,
                      "C_GetFunctionList of '" + path + "' failed (" + rv_name(rv) + ")");
  }

  // CKF_OS_LOCKING_OK: we call from many threads and the module may use the OS's mutexes.
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = api->C_Initialize(&args);
  bool owns_init = true;
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    // Someone else in this process owns the initialization: use it, never finalize it.
    owns_init = false;
  } else if (rv != CKR_OK) {
    dlclose(library);
    if (rv == CKR_CANT_LOCK) {
      // Serialising every call ourselves would put a lock on the signing path; refuse instead.
      return make_error(Code::kHsmModule, "the PKCS#11 module '" + path +
                                              "' cannot use OS locking (CKR_CANT_LOCK); Signet "
                                              "needs a module that is safe to call from threads");
    }
    return rv_error("C_Initialize of '" + path + "'", rv);
  }

  auto* module = new Module(path, library, api, owns_init);
  registry()[key] = Entry{module, 1};
  return share(key, module);
}

}  // namespace signet::hsm
