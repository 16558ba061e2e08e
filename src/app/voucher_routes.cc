// Voucher, flash-sale and order-status handlers (routes 28-31 of the original, plus
// GET /voucher-order/{id}).
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/request.h"
#include "app/route_table.h"
#include "app/routes.h"
#include "core/parse.h"
#include "http/envelope.h"
#include "sale/new_sale.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

// Reads the fields of a voucher body; returns the message for a 400 when one is unusable.
std::optional<std::string> voucher_fields(const json::object& o, bool flash_sale, db::Voucher& v) {
  FieldReader r(o);
  r.integer("shopId", 1, INT64_MAX, v.shop_id, true)
      .plain_text("title", 255, v.title, true)
      .plain_text("subTitle", 255, v.sub_title)
      .plain_text("rules", 1024, v.rules)
      .integer("payValue", 0, sale::kMaxValue, v.pay_value, true)
      .integer("actualValue", 0, sale::kMaxValue, v.actual_value, true)
      .integer("type", 0, 1, v.type)
      .integer("status", 1, 3, v.status);
  if (!r.ok()) return r.error();
  if (!flash_sale) return std::nullopt;
  int64_t stock = 0;
  if (!r.integer("stock", 1, sale::kMaxStock, stock, true).ok()) return r.error();
  v.stock = stock;
  // A LocalDateTime string as the original's pages send it, or Unix milliseconds; within the
  // range of the original's TIMESTAMP columns (1970-01-01T00:00:01 .. 2038-01-19T03:14:07).
  constexpr int64_t kFirst = sale::kFirstSaleMs, kLast = sale::kLastSaleMs;
  for (auto [name, out] : {std::pair{"beginTime", &v.begin_ms}, std::pair{"endTime", &v.end_ms}}) {
    const json::value* x = o.if_contains(name);
    if (x && x->is_string()) {
      auto ms = core::parse_datetime_ms(std::string_view(x->as_string()));
      if (!ms || *ms < kFirst || *ms > kLast) return std::string("invalid field: ") + name;
      *out = *ms;
    } else if (!r.integer(name, kFirst, kLast, *out, true).ok()) {
      return r.error();
    }
  }
  if (v.end_ms <= v.begin_ms) return "endTime must be after beginTime";
  return std::nullopt;
}

class VoucherApi {
 public:
  explicit VoucherApi(Services& s) : s_(s) {}

  // POST /voucher: a normal voucher.
  awaitable<Response> create(Context& ctx) { return create_voucher(ctx, false); }
  // POST /voucher/seckill: a flash-sale voucher; its Redis state is written before answering, so
  // the sale can start at once (the original left the stock key to a separate step).
  awaitable<Response> create_flash_sale(Context& ctx) { return create_voucher(ctx, true); }

  // GET /voucher/list/{shopId}
  awaitable<Response> list(Context& ctx) {
    auto shop = core::parse_id(ctx.params[0]);
    if (!shop) co_return bad_request("invalid shop id");
    auto vouchers = co_await s_.vouchers->on_sale_for_shop(*shop);
    if (!vouchers) co_return error_response(vouchers.error());
    co_return http::json(200, envelope::ok_raw(to_json(*vouchers)));
  }

  // POST /voucher-order/seckill/{id}: one script in Redis decides; the order id is the answer.
  awaitable<Response> seckill(Context& ctx) {
    auto voucher = core::parse_id(ctx.params[0]);
    if (!voucher) co_return bad_request("invalid voucher id");
    // Before any Redis work: a flood from one user or address ends here, in memory.
    if (!purchase_allowed(ctx)) {
      co_return http::json(429, envelope::fail("抢购过于频繁，请稍后再试 (too many purchases)"));
    }
    auto order_id = co_await s_.order_ids.local()->next();
    if (!order_id) co_return error_response(order_id.error());
    auto outcome = co_await s_.sale->buy(s_.local_redis(), *voucher, ctx.me().id, *order_id);
    if (!outcome) co_return error_response(outcome.error());
    switch (*outcome) {
      case sale::SaleOutcome::kAccepted:
        co_return http::json(200, envelope::ok(json::value(*order_id)));
      case sale::SaleOutcome::kNoStock:
        co_return business_failure("库存不足");
      case sale::SaleOutcome::kDuplicate:
        co_return business_failure("不能重复下单");
      case sale::SaleOutcome::kNotStarted:
        co_return business_failure("秒杀尚未开始");
      case sale::SaleOutcome::kEnded:
        co_return business_failure("秒杀已经结束");
      case sale::SaleOutcome::kUnconfirmed:
        co_return http::json(
            503, envelope::fail(fmt::format("订单 {} 未确认: not acknowledged by a replica; "
                                            "GET /voucher-order/{} tells whether it stands",
                                            *order_id, *order_id)));
      case sale::SaleOutcome::kNoSuchVoucher:
        break;
    }
    co_return business_failure("秒杀券不存在");
  }

  // --sale-rate: one token from the user's bucket and one from the address's, on this worker's
  // buckets; both must have one (the user's is not spent when the address is empty).
  bool purchase_allowed(const Context& ctx) {
    core::TokenBuckets* limits = s_.sale_limits.local().get();
    if (!limits) return true;
    int64_t now = s_.clock->now_ms();
    if (!limits->take("ip:" + client_address(ctx, s_.trusted_proxies), now)) return false;
    return limits->take("u:" + std::to_string(ctx.me().id), now);
  }

  // GET /voucher-order/{id}: the buyer's own order, "queued" until the writer persists it.
  awaitable<Response> order(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid order id");
    // Queued first: the marker is removed only after the commit, so an order is always in one
    // of the two places when looked up in this order.
    auto queued = co_await s_.sale->queued(s_.local_redis(), *id);
    if (!queued) co_return error_response(queued.error());
    if (*queued) {
      const auto& q = **queued;
      if (q.user_id != ctx.me().id) co_return business_failure("订单不存在");
      core::JsonWriter w;
      w.begin_object()
          .field("id", q.order_id)
          .field("userId", q.user_id)
          .field("voucherId", q.voucher_id)
          .field("state", q.dead ? "dead_letter" : "queued")
          .end_object();
      co_return http::json(200, envelope::ok_raw(w.str()));
    }
    auto found = co_await s_.vouchers->find_order(*id);
    if (!found) co_return error_response(found.error());
    if (!*found || (*found)->row.user_id != ctx.me().id) co_return business_failure("订单不存在");
    const db::Order& o = **found;
    core::JsonWriter w;
    w.begin_object()
        .field("id", o.row.id)
        .field("userId", o.row.user_id)
        .field("voucherId", o.row.voucher_id)
        .field("payType", o.pay_type)
        .field("status", o.status)
        .field("createTime", o.create_time)
        .field("state", "persisted")
        .end_object();
    co_return http::json(200, envelope::ok_raw(w.str()));
  }

 private:
  awaitable<Response> create_voucher(Context& ctx, bool flash_sale) {
    auto body = parse_object(ctx.request.body());
    if (auto* msg = std::get_if<std::string>(&body)) co_return bad_request(*msg);
    db::Voucher v;
    if (auto bad = voucher_fields(std::get<json::object>(body), flash_sale, v)) {
      co_return bad_request(*bad);
    }
    auto id = flash_sale ? co_await sale::create_flash_sale(*s_.vouchers, *s_.sale,
                                                            s_.local_redis(), std::move(v))
                         : co_await s_.vouchers->insert(std::move(v));
    if (!id) co_return error_response(id.error());
    co_return http::json(200, envelope::ok(json::value(*id)));
  }

  Services& s_;
};

}  // namespace

void register_voucher_routes(RouteTable& t) {
  auto api = std::make_shared<VoucherApi>(t.services());
  using enum Access;
  t.add(verb::post, "/voucher", kAdmin, api, &VoucherApi::create);
  t.add(verb::post, "/voucher/seckill", kAdmin, api, &VoucherApi::create_flash_sale);
  t.add(verb::get, "/voucher/list/{shopId}", kPublic, api, &VoucherApi::list);
  t.add(verb::post, "/voucher-order/seckill/{id}", kLogin, api, &VoucherApi::seckill);
  t.add(verb::get, "/voucher-order/{id}", kLogin, api, &VoucherApi::order);
}

}  // namespace surge::app
