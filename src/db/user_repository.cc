// SQL for users.
#include "db/user_repository.h"

#include "db/sql_list.h"

namespace surge::db {

namespace {

constexpr const char* kUserColumns = "SELECT id, phone, nick_name, icon FROM tb_user ";

Result<std::vector<User>> users_from(const Result<Rows>& rows) {
  if (!rows) return rows.error();
  std::vector<User> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    auto id = to_int64(r[0]);
    if (!id) return Errc::kInternal;
    out.push_back({*id, text_or_empty(r[1]), text_or_empty(r[2]), text_or_empty(r[3])});
  }
  return out;
}

Result<std::optional<User>> first_user(const Result<Rows>& rows) {
  auto users = users_from(rows);
  if (!users) return users.error();
  if (users->empty()) return std::optional<User>();
  return std::optional<User>(std::move(users->front()));
}

}  // namespace

asio::awaitable<Result<std::optional<User>>> UserRepository::find(int64_t id) {
  static const std::string sql = std::string(kUserColumns) + "WHERE id = ?";
  Params params;
  params.emplace_back(id);
  co_return first_user(co_await pool_.query(sql, std::move(params)));
}

asio::awaitable<Result<std::optional<User>>> UserRepository::find_by_phone(std::string phone) {
  static const std::string sql = std::string(kUserColumns) + "WHERE phone = ?";
  Params params;
  params.emplace_back(std::move(phone));
  co_return first_user(co_await pool_.query(sql, std::move(params)));
}

asio::awaitable<Result<User>> UserRepository::find_or_create(std::string phone,
                                                             std::string nick_name) {
  auto found = co_await find_by_phone(phone);
  if (!found) co_return found.error();
  if (*found) co_return std::move(**found);
  Params params;
  params.emplace_back(phone);
  params.emplace_back(nick_name);
  auto inserted =
      co_await pool_.execute("INSERT INTO tb_user (phone, nick_name) VALUES (?, ?)", params);
  if (inserted) co_return User{static_cast<int64_t>(inserted->insert_id), phone, nick_name, ""};
  if (inserted.error() != Errc::kConflict) co_return inserted.error();
  // Another first login for this phone won the insert.
  auto again = co_await find_by_phone(phone);
  if (!again) co_return again.error();
  if (!*again) co_return make_error_code(Errc::kInternal);
  co_return std::move(**again);
}

asio::awaitable<Result<std::vector<User>>> UserRepository::find_many(std::vector<int64_t> ids) {
  if (ids.empty()) co_return std::vector<User>();
  Params params;
  std::string sql = std::string(kUserColumns) + where_id_in_order(ids, params);
  co_return users_from(co_await pool_.query(std::move(sql), std::move(params)));
}

asio::awaitable<Result<std::optional<UserInfo>>> UserRepository::info(int64_t user_id) {
  Params params;
  params.emplace_back(user_id);
  auto rows = co_await pool_.query(
      "SELECT user_id, city, introduce, fans, followee, gender, "
      "DATE_FORMAT(birthday, '%Y-%m-%d'), credits, level FROM tb_user_info WHERE user_id = ?",
      std::move(params));
  if (!rows) co_return rows.error();
  if (rows->empty()) co_return std::optional<UserInfo>();
  const auto& r = rows->rows[0];
  UserInfo info;
  info.user_id = to_int64(r[0]).value_or(user_id);
  info.city = r[1];
  info.introduce = r[2];
  info.fans = to_int64(r[3]);
  info.followee = to_int64(r[4]);
  info.gender = to_int64(r[5]);
  info.birthday = r[6];
  info.credits = to_int64(r[7]);
  info.level = to_int64(r[8]);
  co_return std::optional<UserInfo>(std::move(info));
}

}  // namespace surge::db
