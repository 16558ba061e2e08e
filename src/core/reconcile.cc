// Redis-vs-MariaDB comparison of one flash-sale voucher.
#include "core/reconcile.h"

namespace surge::core {

VoucherDiff compare(const VoucherSnapshot& s) {
  VoucherDiff d;
  for (int64_t u : s.queued_buyers) d.queued += s.db_buyers.contains(u) ? 0 : 1;
  d.expected_stock = s.db_stock - d.queued;
  if (!s.redis_stock) {
    d.missing_state = true;
  } else {
    d.stock_differs = *s.redis_stock != d.expected_stock;
  }
  for (int64_t u : s.redis_buyers) {
    if (!s.db_buyers.contains(u) && !s.queued_buyers.contains(u)) d.lost.push_back(u);
  }
  for (int64_t u : s.db_buyers) {
    if (!s.redis_buyers.contains(u)) d.missing.push_back(u);
  }
  return d;
}

}  // namespace surge::core
