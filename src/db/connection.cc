// Connector/C plumbing: connect with timeouts, cache prepared statements, bind parameters, fetch
// rows as text, and turn client/server error numbers into Surge errors.
#include "db/connection.h"

#include <algorithm>
#include <cstring>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <spdlog/spdlog.h>

namespace surge::db {

namespace {

bool connection_lost(unsigned err) {
  return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
         err == CR_CONN_HOST_ERROR || err == CR_SERVER_LOST_EXTENDED ||
         err == ER_CONNECTION_KILLED || err == ER_SERVER_SHUTDOWN || err == CR_COMMANDS_OUT_OF_SYNC;
}

}  // namespace

Connection::~Connection() { close(); }

void Connection::close() {
  for (auto& [sql, cached] : statements_) mysql_stmt_close(cached.stmt);
  statements_.clear();
  recent_.clear();
  if (mysql_) mysql_close(mysql_);
  mysql_ = nullptr;
}

error_code Connection::fail(const char* what, unsigned err, const char* msg) {
  if (err == ER_DUP_ENTRY) return Errc::kConflict;
  // A lost lock race (the server rolled back the statement, or for a deadlock the whole
  // transaction): nothing is wrong with the data, and the transaction can simply run again.
  if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT) {
    spdlog::warn("mariadb: {}: {} {}; the transaction may be retried", what, err, msg);
    return Errc::kTimeout;
  }
  if (connection_lost(err)) {
    spdlog::warn("mariadb: {}: connection lost ({} {}); will reconnect", what, err, msg);
    close();
    return Errc::kUnavailable;
  }
  spdlog::error("mariadb: {}: error {}: {}", what, err, msg);
  return Errc::kServerError;
}

Result<void> Connection::ensure_open() {
  if (mysql_) return {};
  if (in_transaction_) return Errc::kUnavailable;
  mysql_ = mysql_init(nullptr);
  if (!mysql_) return Errc::kInternal;
  unsigned connect_timeout = static_cast<unsigned>(options_.connect_timeout.count());
  unsigned io_timeout = static_cast<unsigned>(options_.io_timeout.count());
  mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(mysql_, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_optionsv(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_optionsv(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const char* sock = options_.socket.empty() ? nullptr : options_.socket.c_str();
  const char* host = sock ? "localhost" : options_.host.c_str();
  if (!mysql_real_connect(mysql_, host, options_.user.c_str(), options_.password.c_str(),
                          options_.database.c_str(), options_.port, sock,
                          CLIENT_MULTI_STATEMENTS)) {
    spdlog::warn("mariadb: connect to {} failed: {}",
                 sock ? options_.socket : options_.host + ":" + std::to_string(options_.port),
                 mysql_error(mysql_));
    mysql_close(mysql_);
    mysql_ = nullptr;
    return Errc::kUnavailable;
  }
  // Sessions speak UTC so timestamps mean the same on every instance.
  if (mysql_query(mysql_, "SET time_zone = '+00:00'") != 0) {
    return fail("set time_zone", mysql_errno(mysql_), mysql_error(mysql_));
  }
  return {};
}

Result<void> Connection::begin() {
  auto r = simple("START TRANSACTION");
  in_transaction_ = static_cast<bool>(r);
  return r;
}

Result<void> Connection::commit() {
  auto r = simple("COMMIT");
  in_transaction_ = false;
  return r;
}

Result<void> Connection::rollback() {
  // On a lost connection the server has already rolled back.
  auto r = mysql_ ? simple("ROLLBACK") : Result<void>();
  in_transaction_ = false;
  return r;
}

Result<void> Connection::ping() {
  if (auto r = ensure_open(); !r) return r;
  if (mysql_ping(mysql_) != 0) return fail("ping", mysql_errno(mysql_), mysql_error(mysql_));
  return {};
}

Result<void> Connection::simple(std::string_view sql) {
  if (auto r = ensure_open(); !r) return r;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return fail("query", mysql_errno(mysql_), mysql_error(mysql_));
  }
  // Drain every result (multi-statement text), so the connection stays in sync.
  do {
    if (MYSQL_RES* res = mysql_store_result(mysql_)) mysql_free_result(res);
  } while (mysql_next_result(mysql_) == 0);
  if (mysql_errno(mysql_) != 0) return fail("query", mysql_errno(mysql_), mysql_error(mysql_));
  return {};
}

Result<st_mysql_stmt*> Connection::prepare(std::string_view sql, bool& fresh) {
  fresh = false;
  if (auto r = ensure_open(); !r) return r.error();
  std::string key(sql);
  if (auto it = statements_.find(key); it != statements_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.place);
    return it->second.stmt;
  }
  // Make room first: a client that can vary a statement's shape must not be able to grow the
  // server's prepared statements (a global limit that, once reached, fails every new prepare).
  while (!statements_.empty() &&
         statements_.size() >= std::max<size_t>(options_.max_statements, 1)) {
    auto oldest = statements_.find(recent_.back());
    mysql_stmt_close(oldest->second.stmt);
    statements_.erase(oldest);
    recent_.pop_back();
  }
  MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
  if (!stmt) return Errc::kInternal;
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
    unsigned err = mysql_stmt_errno(stmt);
    std::string msg = mysql_stmt_error(stmt);
    mysql_stmt_close(stmt);
    return fail("prepare", err, msg.c_str());
  }
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  recent_.push_front(key);
  statements_.emplace(std::move(key), Cached{stmt, recent_.begin()});
  fresh = true;
  return stmt;
}

Result<st_mysql_stmt*> Connection::run(std::string_view sql, const Params& params) {
  // A statement that fails to prepare on a dead connection never reached the server, so one
  // retry on a fresh connection is safe; an execute that fails is never retried here.
  bool fresh = false;
  auto stmt = prepare(sql, fresh);
  if (!stmt && stmt.error() == Errc::kUnavailable) stmt = prepare(sql, fresh);
  if (!stmt) return stmt.error();
  MYSQL_STMT* s = *stmt;
  if (mysql_stmt_param_count(s) != params.size()) {
    spdlog::error("mariadb: {} parameters given for {} placeholders in: {}", params.size(),
                  mysql_stmt_param_count(s), sql);
    return Errc::kInternal;
  }
  std::vector<MYSQL_BIND> binds(params.size());
  std::vector<unsigned long> lengths(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& b = binds[i];
    std::memset(&b, 0, sizeof b);
    const Param& p = params[i];
    if (std::holds_alternative<std::nullptr_t>(p)) {
      b.buffer_type = MYSQL_TYPE_NULL;
    } else if (auto* iv = std::get_if<int64_t>(&p)) {
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = const_cast<int64_t*>(iv);
    } else if (auto* dv = std::get_if<double>(&p)) {
      b.buffer_type = MYSQL_TYPE_DOUBLE;
      b.buffer = const_cast<double*>(dv);
    } else {
      const auto& sv = std::get<std::string>(p);
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(sv.data());
      lengths[i] = sv.size();
      b.buffer_length = sv.size();
      b.length = &lengths[i];
    }
  }
  if (!binds.empty() && mysql_stmt_bind_param(s, binds.data()) != 0) {
    return fail("bind", mysql_stmt_errno(s), mysql_stmt_error(s));
  }
  if (mysql_stmt_execute(s) != 0) {
    unsigned err = mysql_stmt_errno(s);
    std::string msg = mysql_stmt_error(s);
    return fail("execute", err, msg.c_str());
  }
  return s;
}

Result<Rows> Connection::query(std::string_view sql, const Params& params) {
  auto stmt = run(sql, params);
  if (!stmt) return stmt.error();
  MYSQL_STMT* s = *stmt;
  Rows out;
  MYSQL_RES* meta = mysql_stmt_result_metadata(s);
  if (!meta) return out;  // a statement without a result set
  if (mysql_stmt_store_result(s) != 0) {
    mysql_free_result(meta);
    return fail("store", mysql_stmt_errno(s), mysql_stmt_error(s));
  }
  unsigned ncols = mysql_num_fields(meta);
  MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  std::vector<MYSQL_BIND> binds(ncols);
  std::vector<std::string> buffers(ncols);
  std::vector<unsigned long> lengths(ncols);
  std::vector<my_bool> nulls(ncols);
  out.columns.reserve(ncols);
  for (unsigned i = 0; i < ncols; ++i) {
    out.columns.emplace_back(fields[i].name);
    // max_length is exact after store_result (STMT_ATTR_UPDATE_MAX_LENGTH); numbers and dates
    // rendered as text need a little room of their own.
    buffers[i].resize(std::max<unsigned long>(fields[i].max_length, 64) + 1);
    std::memset(&binds[i], 0, sizeof(MYSQL_BIND));
    binds[i].buffer_type = MYSQL_TYPE_STRING;
    binds[i].buffer = buffers[i].data();
    binds[i].buffer_length = buffers[i].size();
    binds[i].length = &lengths[i];
    binds[i].is_null = &nulls[i];
  }
  mysql_free_result(meta);
  if (mysql_stmt_bind_result(s, binds.data()) != 0) {
    mysql_stmt_free_result(s);
    return fail("bind result", mysql_stmt_errno(s), mysql_stmt_error(s));
  }
  out.rows.reserve(mysql_stmt_num_rows(s));
  for (;;) {
    int rc = mysql_stmt_fetch(s);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) {
      auto ec = fail("fetch", mysql_stmt_errno(s), mysql_stmt_error(s));
      if (mysql_) mysql_stmt_free_result(s);
      return ec;
    }
    auto& row = out.rows.emplace_back(ncols);
    for (unsigned i = 0; i < ncols; ++i) {
      if (nulls[i]) continue;
      if (lengths[i] <= buffers[i].size()) {
        row[i].emplace(buffers[i].data(), lengths[i]);
        continue;
      }
      // Truncated (MYSQL_DATA_TRUNCATED): fetch this column again into a buffer that fits.
      std::string big(lengths[i], '\0');
      MYSQL_BIND b;
      std::memset(&b, 0, sizeof b);
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = big.data();
      b.buffer_length = big.size();
      unsigned long len = 0;
      b.length = &len;
      mysql_stmt_fetch_column(s, &b, i, 0);
      big.resize(std::min<unsigned long>(len, big.size()));
      row[i] = std::move(big);
    }
  }
  mysql_stmt_free_result(s);
  return out;
}

Result<ExecResult> Connection::execute(std::string_view sql, const Params& params) {
  auto stmt = run(sql, params);
  if (!stmt) return stmt.error();
  MYSQL_STMT* s = *stmt;
  ExecResult r{mysql_stmt_affected_rows(s), mysql_stmt_insert_id(s)};
  mysql_stmt_free_result(s);
  return r;
}

}  // namespace surge::db
