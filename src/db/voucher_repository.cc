// SQL for vouchers and orders.
#include "db/voucher_repository.h"

#include <algorithm>
#include <bit>
#include <map>
#include <set>

namespace surge::db {

namespace {

std::string text(const std::optional<std::string>& v) { return v ? *v : std::string(); }

// Milliseconds as the session's time zone sees them: FROM_UNIXTIME/UNIX_TIMESTAMP convert both
// ways in the same zone, so the stored wall-clock value never matters.
constexpr const char* kVoucherColumns =
    "v.id, v.shop_id, v.title, v.sub_title, v.rules, v.pay_value, v.actual_value, v.type, "
    "v.status, s.stock, CAST(UNIX_TIMESTAMP(s.begin_time) * 1000 AS SIGNED), "
    "CAST(UNIX_TIMESTAMP(s.end_time) * 1000 AS SIGNED), "
    "DATE_FORMAT(v.create_time, '%Y-%m-%dT%H:%i:%s'), "
    "DATE_FORMAT(v.update_time, '%Y-%m-%dT%H:%i:%s')";

Result<void> checked(const std::vector<OrderRow>& batch) {
  for (const auto& o : batch) {
    if (o.id <= 0 || o.user_id <= 0 || o.voucher_id <= 0 || o.create_ms < 0) {
      return make_error_code(Errc::kInvalidArgument);
    }
  }
  return {};
}

// INSERT IGNORE of `n` rows; one statement text per power of two keeps the per-connection
// statement cache small whatever the batch sizes.
std::string insert_sql(size_t n) {
  std::string sql =
      "INSERT IGNORE INTO tb_voucher_order (id, user_id, voucher_id, create_time) VALUES ";
  for (size_t i = 0; i < n; ++i) {
    sql += i ? ", (?, ?, ?, FROM_UNIXTIME(? / 1000))" : "(?, ?, ?, FROM_UNIXTIME(? / 1000))";
  }
  return sql;
}

// Inserts `rows` in power-of-two chunks; returns how many were new.
Result<uint64_t> insert_rows(Connection& c, const std::vector<const OrderRow*>& rows) {
  uint64_t inserted = 0;
  size_t at = 0;
  while (at < rows.size()) {
    size_t n = 1;
    while (n * 2 <= rows.size() - at && n < 512) n *= 2;
    Params params;
    params.reserve(4 * n);
    for (size_t i = at; i < at + n; ++i) {
      params.emplace_back(rows[i]->id);
      params.emplace_back(rows[i]->user_id);
      params.emplace_back(rows[i]->voucher_id);
      params.emplace_back(rows[i]->create_ms);
    }
    auto r = c.execute(insert_sql(n), params);
    if (!r) return r.error();
    inserted += r->affected_rows;
    at += n;
  }
  return inserted;
}

// The rows among `rows` that are stored already, the same order under the same id (a replay):
// read with a locking read so rows committed by a concurrent writer after this transaction began
// are seen. A stored row with the same id but another user or voucher is not a replay: the id
// was handed out twice (an id counter that lost its state), and the order behind `rows`' row was
// never stored. The IN list is padded to a power of two (by repeating an id) so only a few
// statement shapes exist.
Result<std::set<int64_t>> replayed_ids(Connection& c, const std::vector<const OrderRow*>& rows) {
  std::map<int64_t, std::pair<int64_t, int64_t>> stored;  // id -> (user, voucher)
  size_t at = 0;
  while (at < rows.size()) {
    size_t n = std::min<size_t>(512, std::bit_ceil(rows.size() - at));
    std::string sql = "SELECT id, user_id, voucher_id FROM tb_voucher_order WHERE id IN (";
    Params params;
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", ?" : "?";
      params.emplace_back(rows[std::min(at + i, rows.size() - 1)]->id);
    }
    sql += ") LOCK IN SHARE MODE";
    auto found = c.query(sql, params);
    if (!found) return found.error();
    for (const auto& r : found->rows) {
      stored[to_int64(r[0]).value_or(0)] = {to_int64(r[1]).value_or(0), to_int64(r[2]).value_or(0)};
    }
    at += n;
  }
  std::set<int64_t> out;
  for (const OrderRow* r : rows) {
    auto it = stored.find(r->id);
    if (it != stored.end() && it->second == std::pair{r->user_id, r->voucher_id}) out.insert(r->id);
  }
  return out;
}

Result<VoucherRepository::Persisted> persist_in(Connection& c, const std::vector<OrderRow>& batch) {
  std::map<int64_t, std::vector<const OrderRow*>> by_voucher;
  for (const auto& o : batch) by_voucher[o.voucher_id].push_back(&o);
  if (auto r = c.begin(); !r) return r.error();
  VoucherRepository::Persisted out;
  for (const auto& [voucher, rows] : by_voucher) {
    auto inserted = insert_rows(c, rows);
    if (!inserted) {
      (void)c.rollback();
      return inserted.error();
    }
    if (*inserted < rows.size()) {
      // INSERT IGNORE skipped some rows: the same order stored under its id is a replay;
      // anything else collided (the (user, voucher) key refused a different order for a pair
      // that already has one, or the id is taken by another order).
      auto replayed = replayed_ids(c, rows);
      if (!replayed) {
        (void)c.rollback();
        return replayed.error();
      }
      size_t collided = 0;
      for (const OrderRow* r : rows) {
        if (!replayed->contains(r->id)) {
          out.collisions.push_back(r->id);
          ++collided;
        }
      }
      out.replayed += rows.size() - *inserted - collided;
    }
    if (*inserted == 0) continue;
    Params p;
    auto n = static_cast<int64_t>(*inserted);
    p.emplace_back(n);
    p.emplace_back(voucher);
    p.emplace_back(n);
    auto updated = c.execute(
        "UPDATE tb_seckill_voucher SET stock = stock - ? WHERE voucher_id = ? AND stock >= ?", p);
    if (!updated || updated->affected_rows != 1) {
      (void)c.rollback();
      return updated ? make_error_code(Errc::kConflict) : updated.error();
    }
    out.inserted += *inserted;
  }
  if (auto r = c.commit(); !r) return r.error();
  return out;
}

}  // namespace

Result<Voucher> voucher_from_row(const Rows& rows, size_t i) {
  const auto& r = rows.rows.at(i);
  if (r.size() != 14) return Errc::kInternal;
  Voucher v;
  auto id = to_int64(r[0]);
  if (!id) return Errc::kInternal;
  v.id = *id;
  v.shop_id = to_int64(r[1]).value_or(0);
  v.title = text(r[2]);
  v.sub_title = text(r[3]);
  v.rules = text(r[4]);
  v.pay_value = to_int64(r[5]).value_or(0);
  v.actual_value = to_int64(r[6]).value_or(0);
  v.type = to_int64(r[7]).value_or(0);
  v.status = to_int64(r[8]).value_or(0);
  v.stock = to_int64(r[9]);
  v.begin_ms = to_int64(r[10]).value_or(0);
  v.end_ms = to_int64(r[11]).value_or(0);
  v.create_time = text(r[12]);
  v.update_time = text(r[13]);
  return v;
}

asio::awaitable<Result<int64_t>> VoucherRepository::insert(Voucher v) {
  return pool_.run([v = std::move(v)](Connection& c) -> Result<int64_t> {
    bool sale = v.stock.has_value();
    if (sale) {
      if (auto r = c.begin(); !r) return r.error();
    }
    Params p;
    p.emplace_back(v.shop_id);
    p.emplace_back(v.title);
    p.emplace_back(v.sub_title);
    p.emplace_back(v.rules);
    p.emplace_back(v.pay_value);
    p.emplace_back(v.actual_value);
    p.emplace_back(sale ? int64_t{1} : v.type);
    p.emplace_back(v.status);
    auto ins = c.execute(
        "INSERT INTO tb_voucher (shop_id, title, sub_title, rules, pay_value, actual_value, type, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        p);
    if (!ins) {
      if (sale) (void)c.rollback();
      return ins.error();
    }
    auto id = static_cast<int64_t>(ins->insert_id);
    if (!sale) return id;
    Params s;
    s.emplace_back(id);
    s.emplace_back(*v.stock);
    s.emplace_back(v.begin_ms);
    s.emplace_back(v.end_ms);
    auto row = c.execute(
        "INSERT INTO tb_seckill_voucher (voucher_id, stock, begin_time, end_time) VALUES (?, ?, "
        "FROM_UNIXTIME(? / 1000), FROM_UNIXTIME(? / 1000))",
        s);
    if (!row) {
      (void)c.rollback();
      return row.error();
    }
    if (auto r = c.commit(); !r) return r.error();
    return id;
  });
}

asio::awaitable<Result<std::vector<Voucher>>> VoucherRepository::on_sale_for_shop(int64_t shop_id) {
  static const std::string sql = std::string("SELECT ") + kVoucherColumns +
                                 " FROM tb_voucher v LEFT JOIN tb_seckill_voucher s ON "
                                 "s.voucher_id = v.id WHERE v.shop_id = ? AND v.status = 1 "
                                 "ORDER BY v.id";
  Params p;
  p.emplace_back(shop_id);
  auto rows = co_await pool_.query(sql, std::move(p));
  if (!rows) co_return rows.error();
  std::vector<Voucher> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    auto v = voucher_from_row(*rows, i);
    if (!v) co_return v.error();
    out.push_back(std::move(*v));
  }
  co_return out;
}

namespace {
std::vector<SaleState> states_from(const Rows& rows) {
  std::vector<SaleState> out;
  for (const auto& r : rows.rows) {
    out.push_back({to_int64(r[0]).value_or(0), to_int64(r[1]).value_or(0),
                   to_int64(r[2]).value_or(0), to_int64(r[3]).value_or(0)});
  }
  return out;
}
constexpr const char* kSaleStateSql =
    "SELECT voucher_id, stock, CAST(UNIX_TIMESTAMP(begin_time) * 1000 AS SIGNED), "
    "CAST(UNIX_TIMESTAMP(end_time) * 1000 AS SIGNED) FROM tb_seckill_voucher";
}  // namespace

asio::awaitable<Result<std::vector<SaleState>>> VoucherRepository::sale_states() {
  auto rows = co_await pool_.query(std::string(kSaleStateSql) + " ORDER BY voucher_id");
  if (!rows) co_return rows.error();
  co_return states_from(*rows);
}

asio::awaitable<Result<std::optional<SaleState>>> VoucherRepository::sale_state(
    int64_t voucher_id) {
  Params p;
  p.emplace_back(voucher_id);
  auto rows =
      co_await pool_.query(std::string(kSaleStateSql) + " WHERE voucher_id = ?", std::move(p));
  if (!rows) co_return rows.error();
  auto states = states_from(*rows);
  if (states.empty()) co_return std::optional<SaleState>();
  co_return std::optional<SaleState>(states.front());
}

asio::awaitable<Result<std::vector<int64_t>>> VoucherRepository::buyers(int64_t voucher_id) {
  Params p;
  p.emplace_back(voucher_id);
  auto rows = co_await pool_.query("SELECT user_id FROM tb_voucher_order WHERE voucher_id = ?",
                                   std::move(p));
  if (!rows) co_return rows.error();
  std::vector<int64_t> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) out.push_back(to_int64(r[0]).value_or(0));
  co_return out;
}

asio::awaitable<Result<std::map<int64_t, int64_t>>> VoucherRepository::order_counts() {
  auto rows =
      co_await pool_.query("SELECT voucher_id, COUNT(*) FROM tb_voucher_order GROUP BY voucher_id");
  if (!rows) co_return rows.error();
  std::map<int64_t, int64_t> out;
  for (const auto& r : rows->rows) out[to_int64(r[0]).value_or(0)] = to_int64(r[1]).value_or(0);
  co_return out;
}

asio::awaitable<Result<std::optional<Order>>> VoucherRepository::find_order(int64_t order_id) {
  Params p;
  p.emplace_back(order_id);
  auto rows = co_await pool_.query(
      "SELECT id, user_id, voucher_id, CAST(UNIX_TIMESTAMP(create_time) * 1000 AS SIGNED), status, "
      "pay_type, DATE_FORMAT(create_time, '%Y-%m-%dT%H:%i:%s') FROM tb_voucher_order WHERE id = ?",
      std::move(p));
  if (!rows) co_return rows.error();
  if (rows->empty()) co_return std::optional<Order>();
  const auto& r = rows->rows[0];
  Order o;
  o.row = {to_int64(r[0]).value_or(0), to_int64(r[1]).value_or(0), to_int64(r[2]).value_or(0),
           to_int64(r[3]).value_or(0)};
  o.status = to_int64(r[4]).value_or(0);
  o.pay_type = to_int64(r[5]).value_or(0);
  o.create_time = text(r[6]);
  co_return std::optional<Order>(std::move(o));
}

// Not a coroutine: returning the pool's awaitable directly avoids a GCC 12 frame bug with
// `co_return co_await` of an operation whose lambda owns the batch.
asio::awaitable<Result<VoucherRepository::Persisted>> VoucherRepository::persist_orders(
    std::vector<OrderRow> batch) {
  return pool_.run([rows = std::move(batch)](Connection& c) -> Result<Persisted> {
    auto valid = checked(rows);
    if (!valid) return valid.error();
    return persist_in(c, rows);
  });
}

}  // namespace surge::db
