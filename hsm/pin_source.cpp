// open_pin_source: where the Hsm gets the PIN for each login (hsm.h). Why two ways:
//  - a PIN file is read again at every login, so that no copy of the PIN stays in memory
//    between logins and a PIN the operator changed on disk is the one used;
//  - a PIN in the environment cannot stay there (it would be readable in /proc/PID/environ by
//    the same user, and inherited by any child), so it is moved at start into one page of
//    memory locked out of swap and core dumps, wiped from the environment's own bytes, and
//    copied out of the page only for the moment of a login.
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "hsm/hsm.h"

namespace signet::hsm {
namespace {

// One page, mapped privately, never swapped (mlock) and left out of core dumps (MADV_DONTDUMP);
// wiped and unmapped at destruction.
class LockedSecret {
 public:
  static Result<std::shared_ptr<LockedSecret>> hold(std::string_view secret) {
    const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    if (secret.size() >= size) return make_error(Code::kConfig, "the PIN is too long");
    void* page = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return make_error(Code::kInternal, "cannot map memory for the PIN");
    // Best effort: without CAP_IPC_LOCK the RLIMIT_MEMLOCK (64 KiB by default) still allows a page.
    static_cast<void>(mlock(page, size));
    static_cast<void>(madvise(page, size, MADV_DONTDUMP));
    std::memcpy(page, secret.data(), secret.size());
    return std::shared_ptr<LockedSecret>(new LockedSecret(static_cast<char*>(page), size, secret.size()));
  }
  LockedSecret(const LockedSecret&) = delete;
  LockedSecret& operator=(const LockedSecret&) = delete;
  ~LockedSecret() {
    OPENSSL_cleanse(page_, size_);
    munlock(page_, size_);
    munmap(page_, size_);
  }

  SecretString copy() const { return SecretString(std::string(page_, length_)); }

 private:
  LockedSecret(char* page, std::size_t size, std::size_t length) : page_(page), size_(size), length_(length) {}
  char* page_;
  std::size_t size_;
  std::size_t length_;
};

// Overwrites the variable's value where the process's environment keeps it (the bytes that
// /proc/PID/environ shows), then removes the variable.
void scrub_environment(const std::string& name) {
  if (char* value = std::getenv(name.c_str())) OPENSSL_cleanse(value, std::strlen(value));
  unsetenv(name.c_str());
}

}  // namespace

Result<PinSource> open_pin_source(const std::string& pin_file, const std::string& pin_env) {
  // read_pin checks the choice, the file's mode and the value once now, so that a bad setting
  // fails at start rather than at the first login after a reboot of the token.
  auto pin = read_pin(pin_file, pin_env);
  if (!pin.ok()) return pin.error();
  if (!pin_file.empty()) {
    return PinSource([pin_file]() { return read_pin(pin_file, ""); });
  }
  auto held = LockedSecret::hold(pin->view());
  scrub_environment(pin_env);
  if (!held.ok()) return held.error();
  return PinSource([secret = std::move(*held)]() -> Result<SecretString> { return secret->copy(); });
}

}  // namespace signet::hsm
