// Counting, listing and replaying orders across the shards' streams and hashes.
#include "sale/order_queues.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/parse.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::sale {

namespace {

// KEYS: dead-letter stream, order stream, queued hash (one shard: one hash tag). ARGV: the dead
// letter's id. Returns 1 replayed, 0 gone (replayed or deleted meanwhile), -1 not a whole order.
// Reading the entry inside the script makes two concurrent replays of it append it once.
const redis::Script kReplay(R"lua(
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #e == 0 then return 0 end
local f = e[1][2]
local o = {}
for i = 1, #f, 2 do o[f[i]] = f[i + 1] end
local num = '^[1-9]%d*$'
if not (o.userId and o.voucherId and o.id and string.match(o.userId, num)
        and string.match(o.voucherId, num) and string.match(o.id, num)) then
  return -1
end
redis.call('XADD', KEYS[2], '*', 'userId', o.userId, 'voucherId', o.voucherId, 'id', o.id)
redis.call('HSET', KEYS[3], o.id, o.userId .. ':' .. o.voucherId)
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
)lua");

std::optional<int64_t> id_field(const redis::StreamEntry& e, std::string_view name) {
  return core::parse_id(e.field(name));
}

// Every entry of a stream, oldest first, read in pages so no single reply is large.
asio::awaitable<Result<std::vector<redis::StreamEntry>>> read_all(redis::Client& c,
                                                                  const std::string& key) {
  std::vector<redis::StreamEntry> out;
  std::string start = "-";
  while (true) {
    auto r = co_await c.exec(redis::Request::keyed(1, "XRANGE", key, start, "+", "COUNT", 1000));
    if (!r) co_return r.error();
    if (r->is_error() || !r->is_array()) co_return make_error_code(Errc::kProtocol);
    for (const auto& item : r->elements) {
      auto e = redis::to_stream_entry(item);
      if (!e) co_return e.error();
      out.push_back(std::move(*e));
    }
    if (r->elements.size() < 1000) co_return out;
    start = "(" + out.back().id;
  }
}

}  // namespace

asio::awaitable<Result<OrderQueues::Summary>> OrderQueues::summary(
    redis::Client& c, db::VoucherRepository& vouchers, const Selection& selection) const {
  const auto& only = selection.only;
  auto wanted = [&](int64_t v) {
    return only.empty() || std::find(only.begin(), only.end(), v) != only.end();
  };
  std::map<int64_t, VoucherCounts> by_voucher;
  auto at = [&](int64_t v) -> VoucherCounts& {
    auto& vc = by_voucher[v];
    vc.voucher_id = v;
    vc.shard = sale_.shard_of(v);
    return vc;
  };
  for (int64_t v : only) at(v);
  std::set<int64_t> open;  // sale window holds selection.active_at_ms
  auto states = co_await vouchers.sale_states();
  if (!states) co_return states.error();
  for (const auto& st : *states) {
    if (!wanted(st.voucher_id)) continue;
    at(st.voucher_id);
    if (selection.active_at_ms && st.begin_ms <= *selection.active_at_ms &&
        *selection.active_at_ms < st.end_ms) {
      open.insert(st.voucher_id);
    }
  }
  auto persisted = co_await vouchers.order_counts();
  if (!persisted) co_return persisted.error();
  for (const auto& [v, n] : *persisted) {
    if (wanted(v)) at(v).persisted = n;
  }
  auto dead = co_await dead_letters(c);
  if (!dead) co_return dead.error();
  // Every shard's length and groups in one round trip (the summary is polled during sales).
  std::vector<redis::Request> streams;
  for (int s = 0; s < sale_.shards(); ++s) {
    streams.push_back(redis::Request::keyed(1, "XLEN", sale_.stream_key(s)));
    streams.push_back(redis::Request::keyed(2, "XINFO", "GROUPS", sale_.stream_key(s)));
  }
  auto stream_replies = co_await c.exec_all(std::move(streams));
  if (!stream_replies) co_return stream_replies.error();
  if (stream_replies->size() != 2 * static_cast<size_t>(sale_.shards())) {
    co_return make_error_code(Errc::kProtocol);
  }
  auto queued = co_await sale_.queued_in_all(c);
  if (!queued) co_return queued.error();
  Summary out;
  for (int s = 0; s < sale_.shards(); ++s) {
    ShardBacklog b;
    b.shard = s;
    for (const auto& q : (*queued)[s]) {
      // A dead letter's marker stays until it is replayed; it is counted from the dead stream.
      if (!q.dead && wanted(q.voucher_id)) ++at(q.voucher_id).queued;
    }
    for (const auto& d : *dead) {
      if (d.shard != s) continue;
      ++b.dead_letters;
      if (d.voucher_id && wanted(*d.voucher_id)) ++at(*d.voucher_id).dead;
    }
    auto n = redis::to_integer((*stream_replies)[2 * s]);
    if (!n) co_return n.error();
    b.length = *n;
    // XINFO on a stream that does not exist is an error reply; its length is 0 then.
    if (b.length > 0) {
      const auto& groups = (*stream_replies)[2 * s + 1];
      if (groups.is_error()) co_return make_error_code(Errc::kServerError);
      if (auto g = redis::group_backlog(groups, group_)) {
        b.grouped = true;
        b.unread = g->unread;
        b.pending = g->pending;
      } else {
        b.unread = b.length;  // no writer has read this stream yet
      }
    }
    out.shards.push_back(b);
  }
  // Newest first for the limit, then back in id order.
  for (auto it = by_voucher.rbegin(); it != by_voucher.rend(); ++it) {
    const auto& vc = it->second;
    if (out.vouchers.size() >= selection.limit) break;
    if (selection.active_at_ms && !open.contains(vc.voucher_id) && vc.queued == 0 && vc.dead == 0) {
      continue;
    }
    out.vouchers.push_back(vc);
  }
  std::reverse(out.vouchers.begin(), out.vouchers.end());
  // Stock left and buyers accepted, in one round trip for all of them.
  std::vector<redis::Request> figures;
  for (const auto& vc : out.vouchers) {
    figures.push_back(redis::Request::keyed(1, "HGET", sale_.voucher_key(vc.voucher_id),
                                            std::string(field::kStock)));
    figures.push_back(redis::Request::keyed(1, "SCARD", sale_.buyers_key(vc.voucher_id)));
  }
  if (!out.vouchers.empty()) {
    auto replies = co_await c.exec_all(std::move(figures));
    if (!replies) co_return replies.error();
    if (replies->size() != 2 * out.vouchers.size()) co_return make_error_code(Errc::kProtocol);
    for (size_t i = 0; i < out.vouchers.size(); ++i) {
      auto stock = redis::to_optional_string((*replies)[2 * i]);
      if (!stock) co_return stock.error();
      auto accepted = redis::to_integer((*replies)[2 * i + 1]);
      if (!accepted) co_return accepted.error();
      // A voucher Redis does not know (never primed, or its data lost): no stock there.
      out.vouchers[i].stock = *stock ? core::parse_int64(**stock).value_or(0) : 0;
      out.vouchers[i].accepted = *accepted;
    }
  }
  co_return out;
}

asio::awaitable<Result<std::vector<OrderQueues::DeadLetter>>> OrderQueues::dead_letters(
    redis::Client& c, const std::vector<int64_t>& only) const {
  std::vector<DeadLetter> out;
  for (int s = 0; s < sale_.shards(); ++s) {
    auto entries = co_await read_all(c, sale_.dead_letter_key(s));
    if (!entries) co_return entries.error();
    for (const auto& e : *entries) {
      DeadLetter d;
      d.shard = s;
      d.id = e.id;
      d.entry = e.field("entry");
      d.reason = e.field("reason");
      d.order_id = id_field(e, field::kOrderId);
      d.user_id = id_field(e, field::kUserId);
      d.voucher_id = id_field(e, field::kVoucherId);
      if (!only.empty() &&
          (!d.voucher_id || std::find(only.begin(), only.end(), *d.voucher_id) == only.end())) {
        continue;
      }
      out.push_back(std::move(d));
    }
  }
  co_return out;
}

asio::awaitable<Result<OrderQueues::Replay>> OrderQueues::replay(redis::Client& c,
                                                                 const DeadLetter& d) const {
  std::vector<std::string> keys{sale_.dead_letter_key(d.shard), sale_.stream_key(d.shard),
                                sale_.queued_key(d.shard)};
  std::vector<std::string> args{d.id};
  auto r = co_await c.run(kReplay, std::move(keys), std::move(args));
  auto n = redis::to_integer(r);
  if (!n) co_return n.error();
  if (*n == 1) co_return Replay::kReplayed;
  if (*n == 0) co_return Replay::kGone;
  co_return Replay::kMalformed;
}

}  // namespace surge::sale
