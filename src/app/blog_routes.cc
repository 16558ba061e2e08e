// /blog/**: notes with their authors and the reader's like, like toggles, top likers, the hot
// list, and the followers' feed. The engines live in src/social; this file parses, calls one of
// them, and renders.
#include <algorithm>
#include <variant>

#include <fmt/format.h>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/request.h"
#include "app/routes.h"
#include "core/parse.h"
#include "core/sanitize.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

constexpr int64_t kPage = 10;  // the original's MAX_PAGE_SIZE

class BlogApi {
 public:
  explicit BlogApi(Services& s) : s_(s) {}

  // POST /blog {shopId, title, images, content} → data: id; pushed to every follower's feed.
  awaitable<Response> create(Context& ctx) {
    auto body = parse_object(ctx.request.body());
    if (auto* msg = std::get_if<std::string>(&body)) co_return bad_request(*msg);
    const auto& o = std::get<json::object>(body);
    int64_t shop = 0;
    std::string title, images, content;
    FieldReader r(o);
    r.integer("shopId", 1, INT64_MAX, shop, true)
        .plain_text("title", 255, title, true)
        .text("images", 2048, images)
        .text("content", 2048, content);
    if (!r.ok()) co_return bad_request(r.error());
    // The original pages put images in src="..." and render content as HTML (v-html): only
    // upload paths or http(s) URLs, and content with every tag but a few inert ones escaped.
    if (!core::is_safe_image_list(images, 9)) {
      co_return bad_request("invalid field: images (at most 9 upload paths or http(s) URLs)");
    }
    content = core::sanitize_rich_text(content);
    // The column holds 2048 characters; escaping may have made it longer.
    if (content.size() > 2048)
      co_return bad_request("invalid field: content (too long once escaped)");
    // The shop check goes through the shop cache, which the social layer does not see.
    auto known = co_await s_.shop_cache->get(ctx.worker, std::to_string(shop));
    if (!known) co_return error_response(known.error());
    if (!*known) co_return business_failure("店铺不存在");
    db::NewBlog blog{shop, ctx.me().id, std::move(title), std::move(images), std::move(content)};
    auto id = co_await s_.blog_pages->publish(s_.local_redis(), std::move(blog));
    if (!id) co_return error_response(id.error());
    if (!*id) co_return business_failure("新增笔记失败");
    co_return http::json(200, envelope::ok(json::value(**id)));
  }

  // PUT /blog/like/{id}: toggles the reader's like.
  awaitable<Response> like(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto done = co_await s_.likes->toggle(s_.local_redis(), *id, ctx.me().id);
    if (!done) co_return error_response(done.error());
    if (*done == social::LikeOutcome::kNoSuchBlog) co_return business_failure("笔记不存在");
    co_return http::json(200, envelope::ok());
  }

  // GET /blog/likes/{id}: the five earliest likers.
  awaitable<Response> likes(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto users = co_await s_.likes->first_likers(s_.local_redis(), *id);
    if (!users) co_return error_response(users.error());
    co_return http::json(200, envelope::ok_raw(to_json(*users)));
  }

  // GET /blog/of/me?current=: my blogs, raw rows, 10 a page.
  awaitable<Response> of_me(Context& ctx) {
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    co_return co_await raw_page(ctx.me().id, *current);
  }

  // GET /blog/of/user?id=&current=
  awaitable<Response> of_user(Context& ctx) {
    auto text = ctx.query_param("id");
    auto id = text ? core::parse_id(*text) : std::nullopt;
    if (!id) co_return bad_request("invalid id");
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    co_return co_await raw_page(*id, *current);
  }

  // GET /blog/hot?current=: most liked first, with authors and (for a logged-in reader) isLike.
  awaitable<Response> hot(Context& ctx) {
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    auto items =
        co_await s_.blog_pages->hot(s_.local_redis(), (*current - 1) * kPage, kPage, reader(ctx));
    if (!items) co_return error_response(items.error());
    co_return http::json(200, envelope::ok_raw(to_json(*items)));
  }

  // GET /blog/{id}
  awaitable<Response> by_id(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto item = co_await s_.blog_pages->find(s_.local_redis(), *id, reader(ctx));
    if (!item) co_return error_response(item.error());
    if (!*item) co_return business_failure("笔记不存在");
    co_return http::json(200, envelope::ok_raw(to_json(**item)));
  }

  // GET /blog/of/follow?lastId=&offset=: one page of my feed, newest first, as ScrollResult
  // {list, minTime, offset}; success without data once the feed is exhausted.
  awaitable<Response> of_follow(Context& ctx) {
    auto last_text = ctx.query_param("lastId");
    auto last = last_text ? core::parse_int64(*last_text, 0) : std::nullopt;
    if (!last) co_return bad_request("invalid lastId");
    auto offset_text = ctx.query_param("offset");
    auto offset = offset_text ? core::parse_int64(*offset_text, 0, 1000000) : int64_t{0};
    if (!offset) co_return bad_request("invalid offset");
    auto page = co_await s_.blog_pages->following(s_.local_redis(), ctx.me().id, *last, *offset);
    if (!page) co_return error_response(page.error());
    if (!*page) co_return http::json(200, envelope::ok());
    std::string data = "{\"list\":" + to_json((*page)->items);
    fmt::format_to(std::back_inserter(data), ",\"minTime\":{},\"offset\":{}}}",
                   (*page)->next.min_time, (*page)->next.offset);
    co_return http::json(200, envelope::ok_raw(data));
  }

 private:
  static std::optional<int64_t> reader(const Context& ctx) {
    if (!ctx.user) return std::nullopt;
    return ctx.me().id;
  }

  awaitable<Response> raw_page(int64_t user_id, int64_t current) {
    auto blogs = co_await s_.blogs.page_by_user(user_id, (current - 1) * kPage, kPage);
    if (!blogs) co_return error_response(blogs.error());
    co_return http::json(200, envelope::ok_raw(to_json(*blogs)));
  }

  Services& s_;
};

}  // namespace

void register_blog_routes(RouteTable& t) {
  auto api = std::make_shared<BlogApi>(t.services());
  using enum Access;
  t.add(verb::post, "/blog", kLogin, api, &BlogApi::create);
  t.add(verb::put, "/blog/like/{id}", kLogin, api, &BlogApi::like);
  t.add(verb::get, "/blog/likes/{id}", kLogin, api, &BlogApi::likes);
  t.add(verb::get, "/blog/of/me", kLogin, api, &BlogApi::of_me);
  t.add(verb::get, "/blog/of/user", kLogin, api, &BlogApi::of_user);
  t.add(verb::get, "/blog/of/follow", kLogin, api, &BlogApi::of_follow);
  t.add(verb::get, "/blog/hot", kPublic, api, &BlogApi::hot);
  t.add(verb::get, "/blog/{id}", kLogin, api, &BlogApi::by_id);
}

}  // namespace surge::app
