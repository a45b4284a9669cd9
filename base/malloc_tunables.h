// glibc's malloc gives every thread a cache of the chunks it freed (tcache: up to 7 per size
// class, up to 1 KiB each), which only that thread can use again and which malloc_trim does not
// return. signetd has about a hundred HTTP workers (issuance/signing_gate.h), each of which
// serves a connection only now and then: their caches filled one after another, pinning chunks
// all over the heap, and resident memory crept up for hundreds of thousands of requests
// (docs/PERFORMANCE.md, "Where the memory went"). The cache can only be turned off through
// GLIBC_TUNABLES, which glibc reads when the process starts, so signetd re-executes itself once
// with it (main.cpp). A launcher that must keep the first program image (valgrind, which does
// not follow an exec by default: tools/profile-token) sets GLIBC_TUNABLES itself.
#pragma once

#include <optional>
#include <string>

namespace signet {

// GLIBC_TUNABLES with glibc.malloc.tcache_count=0 added to what it holds (`current`, nullptr
// when unset), or nullopt when it already names glibc.malloc.tcache_count: an operator's own
// setting, or this process's after it re-executed itself.
std::optional<std::string> tunables_without_thread_cache(const char* current);

}  // namespace signet
