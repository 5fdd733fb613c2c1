// SPDX-License-Identifier: Apache-2.0
// LMHEAD_CHECK / LMHEAD_DCHECK: abort on programmer errors, never on user input.
#ifndef LMHEAD_BASE_CHECK_H_
#define LMHEAD_BASE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace lmhead {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond,
                                     const std::string& what) {
  std::fprintf(stderr, "%s:%d: LMHEAD_CHECK(%s) failed: %s\n", file, line, cond, what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace lmhead

// Always on. Usage: LMHEAD_CHECK(n > 0, "n={}", n);
#define LMHEAD_CHECK(cond, ...)                                                           \
  do {                                                                                    \
    if (!(cond)) [[unlikely]] {                                                           \
      ::lmhead::CheckFailed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__));    \
    }                                                                                     \
  } while (0)

// Compiled out of release builds; for hot loops.
#ifdef NDEBUG
#define LMHEAD_DCHECK(cond, ...) \
  do {                           \
  } while (0)
#else
#define LMHEAD_DCHECK(cond, ...) LMHEAD_CHECK(cond, __VA_ARGS__)
#endif

#endif  // LMHEAD_BASE_CHECK_H_
