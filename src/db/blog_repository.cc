// SQL for blogs.
#include "db/blog_repository.h"

#include "db/sql_list.h"

namespace surge::db {

namespace {

constexpr const char* kBlogSelect =
    "SELECT id, shop_id, user_id, title, images, content, liked, comments, "
    "DATE_FORMAT(create_time, '%Y-%m-%dT%H:%i:%s'), DATE_FORMAT(update_time, '%Y-%m-%dT%H:%i:%s') "
    "FROM tb_blog ";

Result<std::vector<Blog>> blogs_from(const Result<Rows>& rows) {
  if (!rows) return rows.error();
  std::vector<Blog> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    auto id = to_int64(r[0]);
    if (!id) return Errc::kInternal;
    Blog b;
    b.id = *id;
    b.shop_id = to_int64(r[1]).value_or(0);
    b.user_id = to_int64(r[2]).value_or(0);
    b.title = text_or_empty(r[3]);
    b.images = text_or_empty(r[4]);
    b.content = text_or_empty(r[5]);
    b.liked = to_int64(r[6]).value_or(0);
    b.comments = to_int64(r[7]);
    b.create_time = text_or_empty(r[8]);
    b.update_time = text_or_empty(r[9]);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

asio::awaitable<Result<int64_t>> BlogRepository::insert(NewBlog b) {
  Params params;
  params.emplace_back(b.shop_id);
  params.emplace_back(b.user_id);
  params.emplace_back(std::move(b.title));
  params.emplace_back(std::move(b.images));
  params.emplace_back(std::move(b.content));
  auto r = co_await pool_.execute(
      "INSERT INTO tb_blog (shop_id, user_id, title, images, content, liked, comments) "
      "VALUES (?, ?, ?, ?, ?, 0, 0)",
      std::move(params));
  if (!r) co_return r.error();
  co_return static_cast<int64_t>(r->insert_id);
}

asio::awaitable<Result<std::optional<Blog>>> BlogRepository::find(int64_t id) {
  static const std::string sql = std::string(kBlogSelect) + "WHERE id = ?";
  Params params;
  params.emplace_back(id);
  auto blogs = blogs_from(co_await pool_.query(sql, std::move(params)));
  if (!blogs) co_return blogs.error();
  if (blogs->empty()) co_return std::optional<Blog>();
  co_return std::optional<Blog>(std::move(blogs->front()));
}

asio::awaitable<Result<std::vector<Blog>>> BlogRepository::find_many(std::vector<int64_t> ids) {
  if (ids.empty()) co_return std::vector<Blog>();
  Params params;
  std::string sql = std::string(kBlogSelect) + where_id_in_order(ids, params);
  co_return blogs_from(co_await pool_.query(std::move(sql), std::move(params)));
}

asio::awaitable<Result<std::vector<Blog>>> BlogRepository::page_by_user(int64_t user_id,
                                                                        int64_t offset,
                                                                        int64_t limit) {
  if (!page_allowed(offset, limit)) co_return make_error_code(Errc::kInvalidArgument);
  static const std::string sql =
      std::string(kBlogSelect) + "WHERE user_id = ? ORDER BY id LIMIT ? OFFSET ?";
  Params params;
  params.emplace_back(user_id);
  params.emplace_back(limit);
  params.emplace_back(offset);
  co_return blogs_from(co_await pool_.query(sql, std::move(params)));
}

asio::awaitable<Result<std::vector<Blog>>> BlogRepository::page_hot(int64_t offset, int64_t limit) {
  if (!page_allowed(offset, limit)) co_return make_error_code(Errc::kInvalidArgument);
  static const std::string sql =
      std::string(kBlogSelect) + "ORDER BY liked DESC, id LIMIT ? OFFSET ?";
  Params params;
  params.emplace_back(limit);
  params.emplace_back(offset);
  co_return blogs_from(co_await pool_.query(sql, std::move(params)));
}

asio::awaitable<Result<bool>> BlogRepository::set_liked(int64_t id, int64_t liked) {
  Params params;
  params.emplace_back(liked);
  params.emplace_back(id);
  auto r = co_await pool_.execute("UPDATE tb_blog SET liked = ? WHERE id = ?", std::move(params));
  if (!r) co_return Result<bool>(boost::system::in_place_error, r.error());
  if (r->affected_rows > 0) co_return true;
  co_return co_await exists(id);
}

asio::awaitable<Result<bool>> BlogRepository::exists(int64_t id) {
  Params params;
  params.emplace_back(id);
  auto rows = co_await pool_.query("SELECT 1 FROM tb_blog WHERE id = ?", std::move(params));
  if (!rows) co_return Result<bool>(boost::system::in_place_error, rows.error());
  co_return !rows->empty();
}

}  // namespace surge::db
