// SQL for upload ownership.
#include "db/upload_repository.h"

namespace surge::db {

asio::awaitable<Result<void>> UploadRepository::record(std::string name, int64_t user_id,
                                                       uint64_t size) {
  Params params;
  params.emplace_back(std::move(name));
  params.emplace_back(user_id);
  params.emplace_back(static_cast<int64_t>(size));
  auto r = co_await pool_.execute("INSERT INTO tb_upload (name, user_id, size) VALUES (?, ?, ?)",
                                  std::move(params));
  if (!r) co_return r.error();
  co_return Result<void>{};
}

asio::awaitable<Result<std::optional<int64_t>>> UploadRepository::owner(std::string name) {
  Params params;
  params.emplace_back(std::move(name));
  auto rows =
      co_await pool_.query("SELECT user_id FROM tb_upload WHERE name = ?", std::move(params));
  if (!rows) co_return rows.error();
  if (rows->empty()) co_return std::optional<int64_t>{};
  co_return to_int64(rows->rows[0][0]);
}

asio::awaitable<Result<UploadRepository::Usage>> UploadRepository::usage_today(int64_t user_id) {
  Params params;
  params.emplace_back(user_id);
  // idx_upload_user_time serves this range.
  auto rows = co_await pool_.query(
      "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM tb_upload "
      "WHERE user_id = ? AND create_time >= CURDATE()",
      std::move(params));
  if (!rows) co_return rows.error();
  Usage u;
  if (!rows->empty()) {
    u.files = to_int64(rows->rows[0][0]).value_or(0);
    u.bytes = to_int64(rows->rows[0][1]).value_or(0);
  }
  co_return u;
}

asio::awaitable<Result<void>> UploadRepository::forget(std::string name) {
  Params params;
  params.emplace_back(std::move(name));
  auto r = co_await pool_.execute("DELETE FROM tb_upload WHERE name = ?", std::move(params));
  if (!r) co_return r.error();
  co_return Result<void>{};
}

}  // namespace surge::db
