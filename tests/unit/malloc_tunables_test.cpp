#include "base/malloc_tunables.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

TEST(MallocTunables, TurnsTheThreadCacheOffWhenUnset) {
  EXPECT_EQ(tunables_without_thread_cache(nullptr), "glibc.malloc.tcache_count=0");
  EXPECT_EQ(tunables_without_thread_cache(""), "glibc.malloc.tcache_count=0");
}

TEST(MallocTunables, KeepsWhatTheOperatorSet) {
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.arena_max=2"),
            "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0");
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.tcache_max=64:glibc.malloc.check=0"),
            "glibc.malloc.tcache_max=64:glibc.malloc.check=0:glibc.malloc.tcache_count=0");
}

// Its own setting after the re-execution, or the operator's: nothing to do, so no second exec.
TEST(MallocTunables, LeavesAnExistingTcacheCountAlone) {
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.tcache_count=0"), std::nullopt);
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.tcache_count=7"), std::nullopt);
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.arena_max=2:glibc.malloc.tcache_count=3"), std::nullopt);
  EXPECT_EQ(tunables_without_thread_cache("glibc.malloc.tcache_count"), std::nullopt);
}

}  // namespace
}  // namespace signet
