// The flash-sale scripts.
#include "sale/flash_sale.h"

#include <fmt/format.h>

#include "core/exposition.h"
#include "core/parse.h"
#include "redis/commands.h"
#include "redis/pipeline.h"
#include "redis/script.h"

namespace surge::sale {

namespace {

// KEYS: voucher hash, buyers set, order stream, queued hash. ARGV: user, voucher, order id.
// Returns the SaleOutcome number. TIME is Redis's clock, so every instance judges the window
// alike; Redis 7 replicates a script's effects, so reading it is allowed. A buyer whose queued
// marker carries this very order id is a retry of a call whose answer was lost (a failover):
// accepted again, not a duplicate. The field names come from sale::field.
const redis::Script kBuy(fmt::format(R"lua(
local v = redis.call('HMGET', KEYS[1], '{stock}', '{begin}', '{end}')
if not v[1] then return 3 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(v[2]) then return 4 end
if now >= tonumber(v[3]) then return 5 end
if tonumber(v[1]) <= 0 then return 1 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  if redis.call('HGET', KEYS[4], ARGV[3]) == ARGV[1] .. ':' .. ARGV[2] then return 0 end
  return 2
end
redis.call('HINCRBY', KEYS[1], '{stock}', -1)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', '{user}', ARGV[1], '{voucher}', ARGV[2], '{order}', ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1] .. ':' .. ARGV[2])
return 0
)lua",
                                     fmt::arg("stock", field::kStock),
                                     fmt::arg("begin", field::kBegin), fmt::arg("end", field::kEnd),
                                     fmt::arg("user", field::kUserId),
                                     fmt::arg("voucher", field::kVoucherId),
                                     fmt::arg("order", field::kOrderId)));

// KEYS: voucher hash, buyers set. ARGV: stock, begin ms, end ms, buyer ids...
const redis::Script kPrime(fmt::format(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], '{stock}', ARGV[1])
  redis.call('DEL', KEYS[2])
  for i = 4, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
end
redis.call('HSET', KEYS[1], '{begin}', ARGV[2], '{end}', ARGV[3])
return 1
)lua",
                                       fmt::arg("stock", field::kStock),
                                       fmt::arg("begin", field::kBegin),
                                       fmt::arg("end", field::kEnd)));

// The purchase script's return codes, by value: the enum's order is free to change.
std::optional<SaleOutcome> outcome_of_code(int64_t code) {
  switch (code) {
    case 0:
      return SaleOutcome::kAccepted;
    case 1:
      return SaleOutcome::kNoStock;
    case 2:
      return SaleOutcome::kDuplicate;
    case 3:
      return SaleOutcome::kNoSuchVoucher;
    case 4:
      return SaleOutcome::kNotStarted;
    case 5:
      return SaleOutcome::kEnded;
    default:
      return std::nullopt;
  }
}

constexpr const char* kOutcomeNames[kSaleOutcomes] = {
    "accepted", "no_stock", "duplicate", "no_such_voucher", "not_started", "ended", "unconfirmed"};

}  // namespace

const redis::Script& FlashSale::purchase_script() { return kBuy; }

const char* outcome_name(SaleOutcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }

FlashSale::FlashSale(int shards, std::string prefix, Durability durability)
    : shards_(shards < 1 ? 1 : shards), prefix_(std::move(prefix)), durability_(durability) {}

int FlashSale::shard_of(int64_t voucher_id) const {
  return static_cast<int>(static_cast<uint64_t>(voucher_id) % static_cast<uint64_t>(shards_));
}
std::string FlashSale::tag(int shard) const { return fmt::format("{}:{{sk{}}}", prefix_, shard); }
std::string FlashSale::voucher_key(int64_t v) const {
  return fmt::format("{}:voucher:{}", tag(shard_of(v)), v);
}
std::string FlashSale::buyers_key(int64_t v) const {
  return fmt::format("{}:buyers:{}", tag(shard_of(v)), v);
}
std::string FlashSale::stream_key(int shard) const { return tag(shard) + ":orders"; }
std::string FlashSale::queued_key(int shard) const { return tag(shard) + ":queued"; }
std::string FlashSale::dead_letter_key(int shard) const { return tag(shard) + ":dead"; }

asio::awaitable<Result<SaleOutcome>> FlashSale::buy(redis::Client& c, int64_t voucher_id,
                                                    int64_t user_id, int64_t order_id) {
  int shard = shard_of(voucher_id);
  std::vector<std::string> keys{voucher_key(voucher_id), buyers_key(voucher_id), stream_key(shard),
                                queued_key(shard)};
  std::vector<std::string> args{std::to_string(user_id), std::to_string(voucher_id),
                                std::to_string(order_id)};
  auto w = co_await c.exec_at(redis::Request::script_call(kBuy, std::move(keys), std::move(args)));
  if (!w) co_return w.error();
  auto n = redis::to_integer(Result<redis::Reply>(std::move(w->reply)));
  if (!n) co_return n.error();
  auto outcome = outcome_of_code(*n);
  if (!outcome) co_return make_error_code(Errc::kProtocol);
  // Only an accepted order wrote anything worth waiting for; the WAIT is shared with every
  // purchase on the same node connection since the last one.
  if (*outcome == SaleOutcome::kAccepted && durability_.replicas > 0) {
    auto acked = co_await redis::replicated(*w, durability_.replicas, durability_.timeout);
    if (!acked || *acked < durability_.replicas) outcome = SaleOutcome::kUnconfirmed;
  }
  counts_[static_cast<size_t>(*outcome)].fetch_add(1, std::memory_order_relaxed);
  co_return *outcome;
}

asio::awaitable<Result<void>> FlashSale::prime(redis::Client& c, db::SaleState state,
                                               std::vector<int64_t> buyers) {
  std::vector<std::string> keys{voucher_key(state.voucher_id), buyers_key(state.voucher_id)};
  std::vector<std::string> args{std::to_string(state.stock), std::to_string(state.begin_ms),
                                std::to_string(state.end_ms)};
  for (int64_t b : buyers) args.push_back(std::to_string(b));
  auto r = co_await c.run(kPrime, std::move(keys), std::move(args));
  auto n = redis::to_integer(r);
  if (!n) co_return n.error();
  co_return Result<void>();
}

asio::awaitable<Result<FlashSale::VoucherState>> FlashSale::state_of(redis::Client& c,
                                                                     int64_t voucher_id) const {
  auto reads =
      redis::batch(redis::Request::keyed(1, "HGET", voucher_key(voucher_id), field::kStock),
                   redis::Request::keyed(1, "SMEMBERS", buyers_key(voucher_id)));
  auto read = co_await redis::exec_as<std::optional<std::string>, std::vector<std::string>>(
      c, std::move(reads));
  if (!read) co_return read.error();
  const auto& stock = std::get<0>(*read);
  VoucherState out;
  if (stock) out.stock = core::parse_int64(*stock);
  for (const auto& m : std::get<1>(*read)) {
    if (auto id = core::parse_id(m)) out.buyers.insert(*id);
  }
  co_return out;
}

asio::awaitable<Result<void>> FlashSale::repair(redis::Client& c, const db::SaleState& state,
                                                int64_t stock,
                                                const std::vector<int64_t>& remove_buyers,
                                                const std::vector<int64_t>& add_buyers) const {
  std::vector<redis::Request> fix;
  fix.push_back(redis::Request::keyed(1, "HSET", voucher_key(state.voucher_id), field::kStock,
                                      stock, field::kBegin, state.begin_ms, field::kEnd,
                                      state.end_ms));
  for (const auto& [verb, users] :
       {std::pair{"SREM", &remove_buyers}, std::pair{"SADD", &add_buyers}}) {
    if (users->empty()) continue;
    fix.push_back(redis::Request::keyed(1, verb, buyers_key(state.voucher_id)));
    for (int64_t u : *users) fix.back().args.push_back(std::to_string(u));
  }
  auto done = co_await redis::exec_each<redis::Done>(c, std::move(fix));
  if (!done) co_return done.error();
  co_return Result<void>();
}

std::optional<FlashSale::QueuedOrder> FlashSale::parse_marker(int64_t order_id,
                                                              std::string_view marker) {
  size_t colon = marker.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view rest = marker.substr(colon + 1);
  bool dead = rest.ends_with(kDeadSuffix);
  if (dead) rest.remove_suffix(kDeadSuffix.size());
  auto user = core::parse_id(marker.substr(0, colon));
  auto voucher = core::parse_id(rest);
  if (!user || !voucher) return std::nullopt;
  return QueuedOrder{order_id, *user, *voucher, dead};
}

std::string FlashSale::dead_marker(int64_t user_id, int64_t voucher_id) {
  return fmt::format("{}:{}{}", user_id, voucher_id, kDeadSuffix);
}

asio::awaitable<Result<std::optional<FlashSale::QueuedOrder>>> FlashSale::queued(
    redis::Client& c, int64_t order_id) const {
  // The order id does not say which shard holds it; one HGET per shard, sent together.
  std::vector<redis::Request> gets;
  for (int s = 0; s < shards_; ++s) {
    gets.push_back(redis::Request::keyed(1, "HGET", queued_key(s), order_id));
  }
  auto markers = co_await redis::exec_each<std::optional<std::string>>(c, std::move(gets));
  if (!markers) co_return markers.error();
  for (const auto& m : *markers) {
    if (m) co_return parse_marker(order_id, *m);
  }
  co_return std::optional<QueuedOrder>();
}

namespace {

std::vector<FlashSale::QueuedOrder> parse_queued(
    const redis::FieldValues& all,
    std::optional<FlashSale::QueuedOrder> (*parse)(int64_t, std::string_view)) {
  std::vector<FlashSale::QueuedOrder> out;
  for (const auto& [order, marker] : all) {
    auto id = core::parse_id(order);
    auto q = id ? parse(*id, marker) : std::nullopt;
    if (q) out.push_back(*q);
  }
  return out;
}

}  // namespace

asio::awaitable<Result<std::vector<FlashSale::QueuedOrder>>> FlashSale::queued_in(redis::Client& c,
                                                                                  int shard) const {
  auto all =
      redis::to_pairs(co_await c.exec(redis::Request::keyed(1, "HGETALL", queued_key(shard))));
  if (!all) co_return all.error();
  co_return parse_queued(*all, &FlashSale::parse_marker);
}

asio::awaitable<Result<std::vector<std::vector<FlashSale::QueuedOrder>>>> FlashSale::queued_in_all(
    redis::Client& c) const {
  std::vector<redis::Request> requests;
  for (int s = 0; s < shards_; ++s) {
    requests.push_back(redis::Request::keyed(1, "HGETALL", queued_key(s)));
  }
  auto all = co_await redis::exec_each<redis::FieldValues>(c, std::move(requests));
  if (!all) co_return all.error();
  std::vector<std::vector<QueuedOrder>> out;
  for (const auto& shard : *all) out.push_back(parse_queued(shard, &FlashSale::parse_marker));
  co_return out;
}

void FlashSale::render_metrics(std::string& out) const {
  core::Exposition e(out);
  e.family("surge_flash_sale_requests_total", "counter", "Purchase attempts by outcome.");
  for (size_t i = 0; i < kSaleOutcomes; ++i) {
    e.sample("surge_flash_sale_requests_total", fmt::format("result=\"{}\"", kOutcomeNames[i]),
             counts_[i].load(std::memory_order_relaxed));
  }
  e.single("surge_orders_accepted_total", "counter",
           "Purchases accepted and queued for the order writer.", count(SaleOutcome::kAccepted));
}

}  // namespace surge::sale
