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

TEST(Exposition, ParsesWhatItWrites) {
  std::string out;
  Exposition e(out);
  e.family("surge_x_total", "counter", "Things.")
      .sample("surge_x_total", "route=\"/shop/{id}\",le=\"+Inf\"", uint64_t{3})
      .sample("surge_x_total", "", 0.5);
  out += "surge_quoted{v=\"a\\\"b\\\\c\\nd\"} 2 1700000000\n\nbroken{x=\"1\" 4\n";
  auto samples = parse_exposition(out);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].name, "surge_x_total");
  ASSERT_EQ(samples[0].labels.size(), 2u);
  EXPECT_EQ(samples[0].labels[0].first, "route");
  EXPECT_EQ(samples[0].labels[0].second, "/shop/{id}");
  EXPECT_EQ(samples[0].labels[1].second, "+Inf");
  EXPECT_EQ(samples[0].value, 3);
  EXPECT_TRUE(samples[1].labels.empty());
  EXPECT_EQ(samples[1].value, 0.5);
  EXPECT_EQ(samples[2].labels[0].second, "a\"b\\c\nd");
  EXPECT_EQ(samples[2].value, 2);
}

}  // namespace
}  // namespace surge::core
