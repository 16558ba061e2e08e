// Who owns each uploaded blog image (tb_upload): the file system holds the bytes, this table the
// owner, so a delete can be refused to anyone but the uploader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

// Borrows the pool, which must outlive it. Safe to share between threads.
class UploadRepository {
 public:
  explicit UploadRepository(Pool& pool) : pool_(pool) {}

  // Records `name` as `user_id`'s; kConflict when the name is taken already.
  asio::awaitable<Result<void>> record(std::string name, int64_t user_id, uint64_t size);
  // The uploader of `name`, nullopt when no upload of that name is recorded.
  asio::awaitable<Result<std::optional<int64_t>>> owner(std::string name);
  struct Usage {
    int64_t files = 0;
    int64_t bytes = 0;
  };
  // What `user_id` uploaded today (the database's date) and still has: the daily quota's count.
  asio::awaitable<Result<Usage>> usage_today(int64_t user_id);
  // Drops the record of `name` (nothing when there is none).
  asio::awaitable<Result<void>> forget(std::string name);

 private:
  Pool& pool_;
};

}  // namespace surge::db
