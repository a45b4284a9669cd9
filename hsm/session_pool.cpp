#include "hsm/session_pool.h"

#include <thread>

namespace signet::hsm {
namespace {

// Each thread gets a start index once; consecutive threads start on consecutive slots.
std::size_t thread_start_index() {
  static std::atomic<std::size_t> next{0};
  thread_local std::size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

}  // namespace

SessionPool::SessionPool(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot, std::size_t capacity)
    : api_(api), slot_id_(slot), capacity_(capacity), slots_(new Slot[capacity]) {}

SessionPool::~SessionPool() {
  for (std::size_t i = 0; i < capacity_; ++i) close(slots_[i]);
}

Result<std::unique_ptr<SessionPool>> SessionPool::create(const CK_FUNCTION_LIST& api,
                                                         CK_SLOT_ID slot, std::size_t capacity,
                                                         std::size_t preopen) {
  if (capacity == 0) capacity = 1;
  std::unique_ptr<SessionPool> pool(new SessionPool(api, slot, capacity));
  for (std::size_t i = 0; i < preopen && i < capacity; ++i) {
    CK_RV rv = pool->open_into(pool->slots_[i]);
    if (rv != CKR_OK) return rv_error("C_OpenSession", rv);
    pool->slots_[i].state.store(kIdle, std::memory_order_release);
  }
  return pool;
}

CK_RV SessionPool::open_into(Slot& slot) {
  // Read-write: generation, data objects and destruction change token objects.
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  CK_RV rv = api_.C_OpenSession(slot_id_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                &handle);
  slot.handle = rv == CKR_OK ? handle : CK_INVALID_HANDLE;
  return rv;
}

void SessionPool::close(Slot& slot) {
  // The answer does not matter: a session the module already forgot is closed enough.
  if (slot.handle != CK_INVALID_HANDLE) api_.C_CloseSession(slot.handle);
  slot.handle = CK_INVALID_HANDLE;
}

Result<SessionPool::Lease> SessionPool::acquire(CK_RV* failure) {
  const std::size_t start = thread_start_index();
  const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
  CK_RV last_open_failure = CKR_OK;
  for (unsigned round = 0;; ++round) {
    // Prefer a session that is already open...
    for (std::size_t i = 0; i < capacity_; ++i) {
      std::size_t index = (start + i) % capacity_;
      int expected = kIdle;
      if (slots_[index].state.compare_exchange_strong(expected, kBusy,
                                                      std::memory_order_acquire)) {
        return Lease(this, index);
      }
    }
    // ...and only then open one more.
    for (std::size_t i = 0; i < capacity_; ++i) {
      std::size_t index = (start + i) % capacity_;
      Slot& slot = slots_[index];
      int expected = kEmpty;
      if (!slot.state.compare_exchange_strong(expected, kBusy, std::memory_order_acquire)) {
        continue;
      }
      CK_RV rv = open_into(slot);
      if (rv == CKR_OK) return Lease(this, index);
      slot.state.store(kEmpty, std::memory_order_release);
      // Other applications may hold the token's sessions: wait for one as for a busy slot.
      if (rv != CKR_SESSION_COUNT) {
        if (failure != nullptr) *failure = rv;
        return rv_error("C_OpenSession", rv);
      }
      last_open_failure = rv;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (failure != nullptr) *failure = last_open_failure;
      if (last_open_failure != CKR_OK) return rv_error("C_OpenSession", last_open_failure);
      return make_error(Code::kHsmUnavailable,
                        "all " + std::to_string(capacity_) + " HSM sessions stayed busy");
    }
    // A sign takes from tens of microseconds to a few milliseconds: yield first, then sleep a
    // little so that waiting threads do not starve the ones holding sessions of CPU.
    if (round < 16) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

std::size_t SessionPool::open_count() const {
  std::size_t open = 0;
  for (std::size_t i = 0; i < capacity_; ++i) {
    if (slots_[i].state.load(std::memory_order_relaxed) != kEmpty) ++open;
  }
  return open;
}

SessionPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), index_(other.index_) {
  other.pool_ = nullptr;
}

SessionPool::Lease::~Lease() {
  if (pool_ == nullptr) return;
  Slot& slot = pool_->slots_[index_];
  slot.state.store(slot.handle != CK_INVALID_HANDLE ? kIdle : kEmpty, std::memory_order_release);
}

CK_SESSION_HANDLE SessionPool::Lease::handle() const { return pool_->slots_[index_].handle; }

void SessionPool::Lease::drop() { pool_->close(pool_->slots_[index_]); }

Status SessionPool::Lease::reopen() {
  drop();
  CK_RV rv = pool_->open_into(pool_->slots_[index_]);
  if (rv != CKR_OK) return rv_error("C_OpenSession", rv);
  return ok_status();
}

}  // namespace signet::hsm
