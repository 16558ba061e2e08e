// SQL for follows.
#include "db/follow_repository.h"

namespace surge::db {

namespace {

Params pair_params(int64_t user_id, int64_t followed_id) {
  Params params;
  params.emplace_back(user_id);
  params.emplace_back(followed_id);
  return params;
}

Result<bool> bool_error(error_code ec) { return {boost::system::in_place_error, ec}; }

}  // namespace

asio::awaitable<Result<bool>> FollowRepository::follow(int64_t user_id, int64_t followed_id) {
  auto r = co_await pool_.execute("INSERT INTO tb_follow (user_id, follow_user_id) VALUES (?, ?)",
                                  pair_params(user_id, followed_id));
  if (r) co_return true;
  if (r.error() == Errc::kConflict) co_return false;
  co_return bool_error(r.error());
}

asio::awaitable<Result<bool>> FollowRepository::unfollow(int64_t user_id, int64_t followed_id) {
  auto r = co_await pool_.execute("DELETE FROM tb_follow WHERE user_id = ? AND follow_user_id = ?",
                                  pair_params(user_id, followed_id));
  if (!r) co_return bool_error(r.error());
  co_return r->affected_rows > 0;
}

asio::awaitable<Result<bool>> FollowRepository::is_following(int64_t user_id, int64_t followed_id) {
  auto rows =
      co_await pool_.query("SELECT 1 FROM tb_follow WHERE user_id = ? AND follow_user_id = ?",
                           pair_params(user_id, followed_id));
  if (!rows) co_return bool_error(rows.error());
  co_return !rows->empty();
}

asio::awaitable<Result<std::vector<int64_t>>> FollowRepository::followers(int64_t user_id) {
  Params params;
  params.emplace_back(user_id);
  auto rows = co_await pool_.query("SELECT user_id FROM tb_follow WHERE follow_user_id = ?",
                                   std::move(params));
  if (!rows) co_return rows.error();
  std::vector<int64_t> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    if (auto id = to_int64(r[0])) out.push_back(*id);
  }
  co_return out;
}

asio::awaitable<Result<std::vector<std::pair<int64_t, int64_t>>>> FollowRepository::all() {
  auto rows = co_await pool_.query("SELECT user_id, follow_user_id FROM tb_follow");
  if (!rows) co_return rows.error();
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    auto a = to_int64(r[0]), b = to_int64(r[1]);
    if (a && b) out.emplace_back(*a, *b);
  }
  co_return out;
}

}  // namespace surge::db
