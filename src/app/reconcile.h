// `surge reconcile`: compares the flash sale's Redis state with MariaDB for every voucher.
#pragma once

#include <cstdint>
#include <vector>

#include "app/config.h"

namespace surge::app {

// Prints every difference; with `repair`, makes Redis agree with MariaDB plus the queued orders.
// Exit code: 0 clean (or repaired), 1 differences found, 2 a store could not be read.
// `only` limits the run to those vouchers (all when empty).
int run_reconcile(const Config& config, bool repair, std::vector<int64_t> only);

}  // namespace surge::app
