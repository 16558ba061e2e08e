// Runs a test scenario in a child process, so that a memory-safety bug in the code under test
// fails one test instead of killing every test after it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace surge::test {

// Uses GoogleTest's death-test machinery and expects the child to finish with no failed
// expectation. The child's own failures are relayed on stderr, since GoogleTest does not print
// them there.
inline void expect_survives(const std::function<void()>& scenario) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::testing::TestPartResultArray failures;
        {
          ::testing::ScopedFakeTestPartResultReporter intercept(
              ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS, &failures);
          scenario();
        }
        for (int i = 0; i < failures.size(); ++i) {
          const auto& f = failures.GetTestPartResult(i);
          std::fprintf(stderr, "%s:%d: %s\n", f.file_name() ? f.file_name() : "?", f.line_number(),
                       f.message());
        }
        std::fflush(stderr);
        std::_Exit(failures.size() == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace surge::test
