// /blog/**: notes with their authors and the reader's like, likes toggled atomically in Redis
// with the database counter following the set, top likers, the hot list, and the followers'
// feed (push model: a new blog is added to every follower's feed:{id} sorted set).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/request.h"
#include "app/routes.h"
#include "core/parse.h"
#include "core/social.h"
#include "http/envelope.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

constexpr int64_t kPage = 10;  // the original's MAX_PAGE_SIZE

std::string liked_key(int64_t blog_id) { return "blog:liked:" + std::to_string(blog_id); }
std::string feed_key(int64_t user_id) { return "feed:" + std::to_string(user_id); }

// Adds or removes the reader in one step, so concurrent clicks cannot both add; answers the
// number of likers afterwards (what tb_blog.liked must say).
const redis::Script kToggleLike(
    "if redis.call('ZSCORE', KEYS[1], ARGV[1]) then "
    "redis.call('ZREM', KEYS[1], ARGV[1]) "
    "else redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end "
    "return redis.call('ZCARD', KEYS[1])");

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
        .text("title", 255, title, true)
        .text("images", 2048, images)
        .text("content", 2048, content);
    if (!r.ok()) co_return bad_request(r.error());
    if (std::count(images.begin(), images.end(), ',') >= 9) {
      co_return bad_request("invalid field: images (at most 9, comma-separated)");
    }
    auto known = co_await s_.shop_cache->get(ctx.worker, std::to_string(shop));
    if (!known) co_return error_response(known.error());
    if (!*known) co_return business_failure("店铺不存在");

    db::NewBlog blog{shop, ctx.user->id, std::move(title), std::move(images), std::move(content)};
    auto id = co_await s_.blogs.insert(std::move(blog));
    if (!id) {
      if (id.error() == Errc::kUnavailable || id.error() == Errc::kTimeout) {
        co_return error_response(id.error());
      }
      spdlog::warn("blog: insert failed: {}", id.error().message());
      co_return business_failure("新增笔记失败");
    }
    auto fans = co_await s_.follows.followers(ctx.user->id);
    if (!fans) co_return error_response(fans.error());
    if (!fans->empty()) {
      std::vector<redis::Command> adds;
      adds.reserve(fans->size());
      int64_t now = now_ms();
      // Each feed keeps its newest entries only: ZADD, then drop everything below them.
      int64_t keep = s_.config.social.feed_keep;
      for (int64_t fan : *fans) {
        auto c = redis::Command::make("ZADD", feed_key(fan), now, *id);
        c.add("ZREMRANGEBYRANK", feed_key(fan), 0, -(keep + 1));
        adds.push_back(std::move(c));
      }
      auto pushed = co_await redis::bulk(s_.redis_for(ctx.worker), std::move(adds));
      if (!pushed) co_return error_response(pushed.error());
      if (pushed->error_replies > 0) {
        spdlog::warn("blog {}: {} of {} feed pushes failed", *id, pushed->error_replies,
                     fans->size());
      }
    }
    co_return http::json(200, envelope::ok(json::value(*id)));
  }

  // PUT /blog/like/{id}: toggles the reader's like.
  awaitable<Response> like(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto exists = co_await s_.blogs.exists(*id);
    if (!exists) co_return error_response(exists.error());
    if (!*exists) co_return business_failure("笔记不存在");
    redis::Connection& r = s_.redis_for(ctx.worker);
    std::vector<std::string> keys{liked_key(*id)};
    std::vector<std::string> args{std::to_string(ctx.user->id), std::to_string(now_ms())};
    auto count = redis::to_integer(co_await kToggleLike.run(r, std::move(keys), std::move(args)));
    if (!count) co_return error_response(count.error());
    // Concurrent toggles may write their counts out of order. Each writer re-reads the set
    // after writing and writes again until they agree, so the last write to land is always
    // followed by a check that saw the final set.
    for (int round = 0; round < 16; ++round) {
      auto written = co_await s_.blogs.set_liked(*id, *count);
      if (!written) co_return error_response(written.error());
      auto now = co_await r.exec(redis::Command::make("ZCARD", liked_key(*id)));
      auto card = redis::to_integer(now);
      if (!card) co_return error_response(card.error());
      if (*card == *count) break;
      count = card;
    }
    co_return http::json(200, envelope::ok());
  }

  // GET /blog/likes/{id}: the five earliest likers.
  awaitable<Response> likes(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto members = co_await redis::zrange(s_.redis_for(ctx.worker), liked_key(*id), 0, 4);
    if (!members) co_return error_response(members.error());
    std::vector<int64_t> ids;
    for (const auto& m : *members) {
      if (auto uid = core::parse_id(m)) ids.push_back(*uid);
    }
    auto users = co_await s_.users.find_many(std::move(ids));
    if (!users) co_return error_response(users.error());
    co_return http::json(200, envelope::ok_raw(to_json(*users)));
  }

  // GET /blog/of/me?current=: my blogs, raw rows, 10 a page.
  awaitable<Response> of_me(Context& ctx) {
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    co_return co_await raw_page(ctx.user->id, *current);
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
    auto blogs = co_await s_.blogs.page_hot((*current - 1) * kPage, kPage);
    if (!blogs) co_return error_response(blogs.error());
    auto out = co_await render(ctx.worker, std::move(*blogs), reader(ctx));
    if (!out) co_return error_response(out.error());
    co_return http::json(200, envelope::ok_raw(*out));
  }

  // GET /blog/{id}
  awaitable<Response> by_id(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid blog id");
    auto blog = co_await s_.blogs.find(*id);
    if (!blog) co_return error_response(blog.error());
    if (!*blog) co_return business_failure("笔记不存在");
    std::vector<db::Blog> one{std::move(**blog)};
    auto out = co_await render(ctx.worker, std::move(one), reader(ctx));
    if (!out) co_return error_response(out.error());
    // render() made a one-element array; the API answers the object.
    co_return http::json(200, envelope::ok_raw(std::string_view(*out).substr(1, out->size() - 2)));
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
    auto page = co_await redis::zrevrangebyscore(s_.redis_for(ctx.worker), feed_key(ctx.user->id),
                                                 static_cast<double>(*last), 0, *offset,
                                                 s_.config.social.feed_page_size);
    if (!page) co_return error_response(page.error());
    std::vector<int64_t> ids, scores;
    for (const auto& [member, score] : *page) {
      scores.push_back(std::llround(score));
      if (auto id = core::parse_id(member)) ids.push_back(*id);
    }
    auto cursor = core::next_scroll_cursor(scores, *last, *offset);
    if (!cursor) co_return http::json(200, envelope::ok());
    auto blogs = co_await s_.blogs.find_many(std::move(ids));
    if (!blogs) co_return error_response(blogs.error());
    auto list = co_await render(ctx.worker, std::move(*blogs), reader(ctx));
    if (!list) co_return error_response(list.error());
    std::string data = "{\"list\":" + *list;
    fmt::format_to(std::back_inserter(data), ",\"minTime\":{},\"offset\":{}}}", cursor->min_time,
                   cursor->offset);
    co_return http::json(200, envelope::ok_raw(data));
  }

 private:
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static std::optional<int64_t> reader(const Context& ctx) {
    if (!ctx.user) return std::nullopt;
    return ctx.user->id;
  }

  awaitable<Response> raw_page(int64_t user_id, int64_t current) {
    auto blogs = co_await s_.blogs.page_by_user(user_id, (current - 1) * kPage, kPage);
    if (!blogs) co_return error_response(blogs.error());
    co_return http::json(200, envelope::ok_raw(to_json(*blogs)));
  }

  // The blogs as a JSON array with author name/icon, and isLike when there is a reader.
  awaitable<Result<std::string>> render(size_t worker, std::vector<db::Blog> blogs,
                                        std::optional<int64_t> reader) {
    std::vector<int64_t> author_ids;
    for (const auto& b : blogs) author_ids.push_back(b.user_id);
    std::sort(author_ids.begin(), author_ids.end());
    author_ids.erase(std::unique(author_ids.begin(), author_ids.end()), author_ids.end());
    auto authors = co_await s_.users.find_many(std::move(author_ids));
    if (!authors) co_return authors.error();
    std::map<int64_t, const db::User*> by_id;
    for (const auto& u : *authors) by_id[u.id] = &u;

    std::vector<std::optional<bool>> liked(blogs.size());
    if (reader && !blogs.empty()) {
      redis::Command cmd;
      for (const auto& b : blogs) cmd.add("ZSCORE", liked_key(b.id), *reader);
      auto replies = co_await s_.redis_for(worker).exec_all(std::move(cmd));
      if (!replies) co_return replies.error();
      for (size_t i = 0; i < blogs.size(); ++i) {
        const redis::Reply& rep = (*replies)[i];
        if (rep.is_error()) co_return make_error_code(Errc::kServerError);
        liked[i] = !rep.is_nil();
      }
    }
    core::JsonWriter w;
    w.begin_array();
    for (size_t i = 0; i < blogs.size(); ++i) {
      auto it = by_id.find(blogs[i].user_id);
      write_json(w, BlogView{&blogs[i], it == by_id.end() ? nullptr : it->second, liked[i]});
    }
    w.end_array();
    co_return w.take();
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
