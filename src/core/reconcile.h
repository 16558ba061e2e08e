// The flash sale's consistency rule between Redis and MariaDB for one voucher, as pure logic:
//   Redis buyers  = users with a persisted order  ∪  users whose order is still queued
//   Redis stock   = persisted stock (initial − persisted orders)  −  queued orders
// An order the writer has committed but whose queued marker it has not removed yet is persisted,
// not queued: the writer commits first and drops the marker after, so a live report sees both.
// Anything else is a difference that `surge reconcile` reports (and can repair).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace surge::core {

struct VoucherSnapshot {
  int64_t db_stock = 0;
  std::set<int64_t> db_buyers;
  std::optional<int64_t> redis_stock;  // nullopt: Redis holds no state for the voucher
  std::set<int64_t> redis_buyers;
  std::set<int64_t> queued_buyers;  // accepted, marker still in the queued hash
};

struct VoucherDiff {
  int64_t expected_stock = 0;
  int64_t queued = 0;          // queued buyers with no persisted order yet
  bool missing_state = false;  // Redis knows nothing of the voucher
  bool stock_differs = false;
  std::vector<int64_t> lost;     // in Redis as buyers, but no order persisted or queued
  std::vector<int64_t> missing;  // a persisted order Redis does not count (could buy twice)

  bool clean() const { return !missing_state && !stock_differs && lost.empty() && missing.empty(); }
};

VoucherDiff compare(const VoucherSnapshot& s);

}  // namespace surge::core
