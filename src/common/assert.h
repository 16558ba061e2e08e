// Assert taxonomy (after Envoy): SURGE_ASSERT is debug-only; SURGE_CHECK aborts in every build
// because continuing would corrupt state; SURGE_BUG logs and counts a bug we can survive.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace surge {
inline std::atomic<unsigned long> bug_count{0};
}

#define SURGE_CHECK(cond)                                                           \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#ifdef NDEBUG
#define SURGE_ASSERT(cond) ((void)0)
#else
#define SURGE_ASSERT(cond) SURGE_CHECK(cond)
#endif

#define SURGE_BUG(...)                                                            \
  do {                                                                            \
    ::surge::bug_count.fetch_add(1, std::memory_order_relaxed);                   \
    spdlog::error("BUG {}:{}: {}", __FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (0)
