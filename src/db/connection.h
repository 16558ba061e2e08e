// One blocking MariaDB Connector/C connection with a prepared-statement cache. Used by one pool
// thread at a time; never touched by an io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "db/value.h"

struct st_mysql;
struct st_mysql_stmt;

namespace surge::db {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string socket;  // a unix socket, when set, wins over host/port
  std::string user = "surge";
  std::string password;
  std::string database = "hmdp";
  size_t pool_size = 8;
  // Operations waiting for a pool thread beyond this fail at once with kUnavailable: the
  // bulkhead that keeps a miss storm from queueing without bound.
  size_t max_queue = 4096;
  std::chrono::seconds connect_timeout{2};
  std::chrono::seconds io_timeout{10};
  // Prepared statements each connection keeps (least recently used closed first). The server's
  // statement limit is global, so this times every pool's size must stay well under it.
  size_t max_statements = 64;
  // A job that waited in the pool's queue longer than this is dropped with kTimeout without
  // running: its client has most likely given up, and the work would only delay newer requests.
  std::chrono::milliseconds queue_timeout{5000};
};

class Connection {
 public:
  explicit Connection(const Options& options) : options_(options) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepared statements only. Errors: kUnavailable (connection lost; the next call reconnects),
  // kConflict (duplicate key), kServerError (anything else the server refused).
  Result<Rows> query(std::string_view sql, const Params& params = {});
  Result<ExecResult> execute(std::string_view sql, const Params& params = {});

  // A connection lost inside a transaction is not silently reopened: every statement fails with
  // kUnavailable until commit() or rollback() ends the transaction, so nothing meant to be part
  // of it runs in autocommit on a fresh connection.
  Result<void> begin();
  Result<void> commit();
  Result<void> rollback();
  // Text protocol, for fixed statements with no parameters (transactions, schema, seed steps).
  Result<void> simple(std::string_view sql);
  Result<void> ping();

  bool is_open() const { return mysql_ != nullptr; }
  // Prepared statements this connection holds open on the server.
  size_t cached_statements() const { return statements_.size(); }

 private:
  Result<void> ensure_open();
  Result<st_mysql_stmt*> prepare(std::string_view sql, bool& fresh);
  Result<st_mysql_stmt*> run(std::string_view sql, const Params& params);
  error_code fail(const char* what, unsigned err, const char* msg);
  void close();

  const Options& options_;
  st_mysql* mysql_ = nullptr;
  bool in_transaction_ = false;
  // The statement cache: SQL → handle and its place in `recent_` (most recently used first).
  struct Cached {
    st_mysql_stmt* stmt;
    std::list<std::string>::iterator place;
  };
  std::unordered_map<std::string, Cached> statements_;
  std::list<std::string> recent_;
};

}  // namespace surge::db
