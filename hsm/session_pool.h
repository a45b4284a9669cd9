// The sessions Signet works in, one per operation in flight: a PKCS#11 session runs at most one
// operation of a kind, so concurrent signers must never share one. Acquiring takes no lock:
// each slot of a fixed array has an atomic state, and a thread starts its scan at its own index
// so that signers spread out instead of fighting over slot 0. Sessions are opened lazily up to
// the capacity; when all are busy, acquire() yields and retries for a bounded time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include "base/result.h"
#include "hsm/ck.h"

namespace signet::hsm {

class SessionPool {
 public:
  // A session lent to one caller; it goes back to the pool when the Lease goes out of scope.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;  // two owners would run two operations in one session
    ~Lease();

    CK_SESSION_HANDLE handle() const;
    // Closes the session instead of returning it, for a session the module no longer knows or
    // one that may still hold an unfinished operation. The slot will open a fresh one later.
    void drop();
    // Drops the session and opens a fresh one in the same slot, for a retry.
    Status reopen();

   private:
    friend class SessionPool;
    Lease(SessionPool* pool, std::size_t index) : pool_(pool), index_(index) {}
    SessionPool* pool_;
    std::size_t index_;
  };

  // Opens `preopen` sessions now so that a token that cannot serve any fails at start-up.
  static Result<std::unique_ptr<SessionPool>> create(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot,
                                                     std::size_t capacity, std::size_t preopen);
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;
  // Closes every session. All Leases must have been returned.
  ~SessionPool();

  // Errors: kHsmUnavailable when no session frees up within the wait, or opening one fails;
  // then *failure (when given) holds the C_OpenSession code, CKR_OK for a plain wait.
  Result<Lease> acquire(CK_RV* failure = nullptr);

  std::size_t capacity() const { return capacity_; }
  // Sessions open right now (for tests and metrics; racy by nature).
  std::size_t open_count() const;

 private:
  enum State : int { kEmpty, kIdle, kBusy };
  // One cache line each: signers on different slots do not invalidate each other's line.
  struct alignas(64) Slot {
    std::atomic<int> state{kEmpty};
    // Written only by the thread that holds the slot kBusy; the state's acquire/release
    // ordering publishes it to the next holder.
    CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  };

  SessionPool(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot, std::size_t capacity);
  CK_RV open_into(Slot& slot);
  void close(Slot& slot);

  static constexpr std::chrono::milliseconds kMaxWait{2000};

  const CK_FUNCTION_LIST& api_;
  CK_SLOT_ID slot_id_;
  std::size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace signet::hsm
