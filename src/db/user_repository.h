// Users and their profiles in MariaDB (tb_user, tb_user_info).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

struct User {
  int64_t id = 0;
  std::string phone;
  std::string nick_name;
  std::string icon;
};

// tb_user_info; nullable columns stay optional so absent values are omitted from the JSON, as
// the original's non_null Jackson setting did.
struct UserInfo {
  int64_t user_id = 0;
  std::optional<std::string> city;
  std::optional<std::string> introduce;
  std::optional<int64_t> fans;
  std::optional<int64_t> followee;
  std::optional<int64_t> gender;        // 0 male, 1 female
  std::optional<std::string> birthday;  // YYYY-MM-DD
  std::optional<int64_t> credits;
  std::optional<int64_t> level;  // 0..9
};

// Borrows the pool, which must outlive it. Safe to share between threads.
class UserRepository {
 public:
  explicit UserRepository(Pool& pool) : pool_(pool) {}

  asio::awaitable<Result<std::optional<User>>> find(int64_t id);
  asio::awaitable<Result<std::optional<User>>> find_by_phone(std::string phone);
  // The user with this phone, created with `nick_name` if there is none yet. Two first logins
  // racing for one phone both get the same row (the unique key decides, the loser re-reads).
  asio::awaitable<Result<User>> find_or_create(std::string phone, std::string nick_name);
  // The users among `ids`, in the order of `ids` (missing ids are skipped).
  asio::awaitable<Result<std::vector<User>>> find_many(std::vector<int64_t> ids);
  asio::awaitable<Result<std::optional<UserInfo>>> info(int64_t user_id);

 private:
  Pool& pool_;
};

}  // namespace surge::db
