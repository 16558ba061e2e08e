#include "core/exposition.h"

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Exposition, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  std::string out;
  Exposition e(out);
  e.family("surge_x_total", "counter", "Things.\nSecond line with a \\ backslash.")
      .sample("surge_x_total", "class=\"shop\"", uint64_t{3})
      .sample("surge_x_total", "", uint64_t{4});
  e.single("surge_depth", "gauge", "Queue depth.", 7);
  e.family("surge_t_seconds", "histogram", "Durations.").sample("surge_t_seconds_sum", "", 0.25);
  EXPECT_EQ(out,
            "# HELP surge_x_total Things.\\nSecond line with a \\\\ backslash.\n"
            "# TYPE surge_x_total counter\n"
            "surge_x_total{class=\"shop\"} 3\n"
            "surge_x_total 4\n"
            "# HELP surge_depth Queue depth.\n"
            "# TYPE surge_depth gauge\n"
            "surge_depth 7\n"
            "# HELP surge_t_seconds Durations.\n"
            "# TYPE surge_t_seconds histogram\n"
            "surge_t_seconds_sum 0.25\n");
}

}  // namespace
}  // namespace surge::core
