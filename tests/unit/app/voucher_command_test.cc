// The sale window `surge voucher create` builds from its flags.
#include <gtest/gtest.h>

#include "app/voucher_command.h"

namespace surge::app {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

SaleWindow ok(const std::variant<SaleWindow, std::string>& w) {
  if (auto* bad = std::get_if<std::string>(&w)) ADD_FAILURE() << *bad;
  return std::holds_alternative<SaleWindow>(w) ? std::get<SaleWindow>(w) : SaleWindow{};
}

TEST(SaleWindow, DefaultsToAnHourFromNow) {
  auto w = ok(sale_window("", "", std::nullopt, kNow));
  EXPECT_EQ(w.begin_ms, kNow);
  EXPECT_EQ(w.end_ms, kNow + 3'600'000);
}

TEST(SaleWindow, BeginAndMinutesOrEndInUtc) {
  auto w = ok(sale_window("2030-01-01T00:00:00Z", "", 90, kNow));
  EXPECT_EQ(w.begin_ms, 1'893'456'000'000);
  EXPECT_EQ(w.end_ms, 1'893'456'000'000 + 90 * 60'000);
  auto e = ok(sale_window("2030-01-01 00:00:00", "2030-01-02T00:00:00", std::nullopt, kNow));
  EXPECT_EQ(e.end_ms - e.begin_ms, 86'400'000);
}

TEST(SaleWindow, RefusesUnreadableTimesAndAnEndBeforeTheBeginning) {
  EXPECT_TRUE(std::holds_alternative<std::string>(sale_window("tomorrow", "", 5, kNow)));
  EXPECT_TRUE(
      std::holds_alternative<std::string>(sale_window("", "2030-13-01T00:00:00", {}, kNow)));
  auto back = sale_window("2030-01-02T00:00:00", "2030-01-01T00:00:00", std::nullopt, kNow);
  ASSERT_TRUE(std::holds_alternative<std::string>(back));
  EXPECT_NE(std::get<std::string>(back).find("end after it begins"), std::string::npos);
}

}  // namespace
}  // namespace surge::app
