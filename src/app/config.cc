// Flag definitions; defaults match scripts/services so a bare `surge serve` finds ./var's stores.
#include "app/config.h"

#include "core/net.h"
#include "core/parse.h"
#include "redis/cluster.h"

namespace surge::app {

namespace {

// "host:port" with a non-empty host and a port 0..65535; "[v6]:port" keeps the brackets off.
std::optional<std::pair<std::string, uint16_t>> split_host_port(std::string_view v) {
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  auto port = core::parse_int64(v.substr(colon + 1), 0, 65535);
  std::string_view host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!port) return std::nullopt;
  return std::pair{std::string(host), static_cast<uint16_t>(*port)};
}

}  // namespace

void add_http_flags(CLI::App& cmd, Config& c) {
  cmd.add_option("--listen", c.http.address, "Address to listen on")
      ->envname("SURGE_HTTP_ADDRESS")
      ->capture_default_str();
  cmd.add_option("-p,--port", c.http.port, "HTTP port (0 picks a free one)")
      ->envname("SURGE_HTTP_PORT")
      ->capture_default_str();
  cmd.add_option("-w,--workers", c.workers, "Worker threads, one io_context each (0 = cores)")
      ->envname("SURGE_WORKERS")
      ->capture_default_str();
  cmd.add_option("--shop-cache", c.shop_cache,
                 "Shop cache strategy: mutex (TTL, rebuild under a lock), logical (no TTL, stale "
                 "while one rebuild runs), early-refresh (mutex plus XFetch)")
      ->envname("SURGE_SHOP_CACHE")
      ->check(CLI::IsMember({"mutex", "logical", "early-refresh"}))
      ->capture_default_str();
  cmd.add_option("--login-ttl", c.login_ttl_minutes,
                 "Session lifetime in minutes; every authenticated request renews it")
      ->envname("SURGE_LOGIN_TTL")
      ->check(CLI::Range(1, 60 * 24 * 365))
      ->capture_default_str();
  cmd.add_option("--login-max-age", c.login_max_age_minutes,
                 "Absolute session lifetime in minutes from login, however busy (0: none)")
      ->envname("SURGE_LOGIN_MAX_AGE")
      ->check(CLI::Range(0, 60 * 24 * 365))
      ->capture_default_str();
  cmd.add_option("--session-cache-ms", c.session_cache_ms,
                 "Each worker reuses a session read from Redis for this long (0: off); closes "
                 "reach every worker and instance at once")
      ->envname("SURGE_SESSION_CACHE_MS")
      ->check(CLI::Range(0, 60'000))
      ->capture_default_str();
  cmd.add_option("--session-cache-size", c.session_cache_size,
                 "Sessions kept per worker by that cache")
      ->envname("SURGE_SESSION_CACHE_SIZE")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  add_order_shards_flag(cmd, c);
  cmd.add_option("--instance", c.instance,
                 "This instance's name in the order writers' group; keep it across restarts so "
                 "a restart finishes its own pending orders (default: hostname-port)")
      ->envname("SURGE_INSTANCE");
  cmd.add_option("--order-writer", c.order_writer,
                 "Persist flash-sale orders from the streams in this instance")
      ->envname("SURGE_ORDER_WRITER")
      ->capture_default_str();
  cmd.add_option("--order-claim-idle", c.order_claim_idle_ms,
                 "Milliseconds after which another instance's unacknowledged orders are taken over")
      ->envname("SURGE_ORDER_CLAIM_IDLE")
      ->check(CLI::Range(100, 3'600'000))
      ->capture_default_str();
  cmd.add_option("--order-writer-pool", c.order_writer_pool,
                 "MariaDB connections reserved for the order writer (apart from --db-pool)")
      ->envname("SURGE_ORDER_WRITER_POOL")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd.add_option_function<int64_t>(
         "--db-queue-timeout",
         [&c](int64_t ms) { c.db.queue_timeout = std::chrono::milliseconds(ms); },
         "Milliseconds a database job may wait for a connection before it is dropped unrun "
         "(default 5000)")
      ->envname("SURGE_DB_QUEUE_TIMEOUT")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  cmd.add_option("--drain-delay", c.drain_delay_ms,
                 "Milliseconds /health answers 503 after SIGTERM before the listener closes "
                 "(requests are served meanwhile; a second signal ends the wait)")
      ->envname("SURGE_DRAIN_DELAY")
      ->check(CLI::Range(0, 600'000))
      ->capture_default_str();
  cmd.add_option("--order-retention", c.order_retention_s,
                 "Seconds an acknowledged order stays in its stream before it is trimmed")
      ->envname("SURGE_ORDER_RETENTION")
      ->check(CLI::Range(0, 30 * 86'400))
      ->capture_default_str();
  cmd.add_option_function<std::string>(
         "--admin-listen",
         [&c](const std::string& v) {
           auto hp = split_host_port(v);  // checked below
           c.admin_address = hp->first;
           c.admin_port = hp->second;
         },
         "host:port of the operations listener (/metrics, /health in full, /dashboard); port 0 "
         "picks a free one (default 127.0.0.1:0)")
      ->envname("SURGE_ADMIN_LISTEN")
      ->check([](const std::string& v) {
        return split_host_port(v) ? std::string() : "want host:port, e.g. 127.0.0.1:9081";
      });
  cmd.add_option("--admin-token", c.admin_token,
                 "Administrator credential (32+ characters) for shop and voucher writes, sent as "
                 "the authorization header; without one those routes refuse everyone")
      ->envname("SURGE_ADMIN_TOKEN")
      ->check([](const std::string& t) {
        return t.empty() || t.size() >= 32 ? std::string() : "must have at least 32 characters";
      });
  cmd.add_option("--trusted-proxy", c.trusted_proxies,
                 "CIDR ranges (comma-separated) of proxies whose X-Real-IP / X-Forwarded-For are "
                 "believed; other peers are counted by their own address (default: none)")
      ->envname("SURGE_TRUSTED_PROXY")
      ->delimiter(',')
      ->check([](const std::string& t) {
        return core::Cidr::parse(t) ? std::string() : "not an address range: " + t;
      });
  cmd.add_option("--sale-rate", c.sale_rate,
                 "Purchases per second (burst the same) per user and per client address, on each "
                 "worker, checked before the sale script runs; 0 = unlimited")
      ->envname("SURGE_SALE_RATE")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd.add_option("--sale-durability", c.sale_durability,
                 "When a purchase answers success: replica (after a replica acknowledged it, "
                 "WAIT), none (when the master has it), auto (replica on --redis-cluster, none on "
                 "a single node)")
      ->envname("SURGE_SALE_DURABILITY")
      ->check(CLI::IsMember({"auto", "replica", "none"}))
      ->capture_default_str();
  cmd.add_option("--sale-durability-timeout", c.sale_durability_timeout_ms,
                 "Milliseconds a purchase waits for its replica before answering 503")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  cmd.add_option("--header-limit", c.http.header_limit, "Largest request header, bytes")
      ->capture_default_str();
  cmd.add_option("--body-limit", c.http.body_limit, "Largest request body, bytes")
      ->capture_default_str();
  cmd.add_option("--max-connections", c.http.max_connections,
                 "Open client connections; one more is answered 503 and closed")
      ->envname("SURGE_MAX_CONNECTIONS")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
      ->capture_default_str();
  add_social_flags(cmd, c.social);
}

void add_social_flags(CLI::App& cmd, SocialOptions& s) {
  cmd.add_flag("--dev-return-code", s.dev_return_code,
               "POST /user/code answers the login code (development only; it is always logged)")
      ->envname("SURGE_DEV_RETURN_CODE");
  cmd.add_option("--code-ttl", s.code_ttl_seconds, "Login code lifetime, seconds")
      ->check(CLI::Range(10, 3600))
      ->capture_default_str();
  cmd.add_option("--code-per-phone-minute", s.code_per_phone_minute,
                 "Login codes one phone may request per minute")
      ->envname("SURGE_CODE_PER_PHONE_MINUTE")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--code-per-phone-hour", s.code_per_phone_hour,
                 "Login codes one phone may request per hour")
      ->envname("SURGE_CODE_PER_PHONE_HOUR")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--code-per-ip-hour", s.code_per_ip_hour,
                 "Login codes one client address may request per hour")
      ->envname("SURGE_CODE_PER_IP_HOUR")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--code-attempts", s.code_max_attempts,
                 "Wrong codes tolerated before a login code is withdrawn")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd.add_option("--feed-page-size", s.feed_page_size, "Blogs per page of /blog/of/follow")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd.add_option("--feed-keep", s.feed_keep, "Newest blogs kept in each follower's feed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--upload-dir", s.upload_dir, "Root folder of uploaded images")
      ->envname("SURGE_UPLOAD_DIR")
      ->capture_default_str();
  cmd.add_option("--upload-max", s.upload_max_bytes, "Largest uploaded image, bytes")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20))
      ->capture_default_str();
  cmd.add_option("--upload-daily-count", s.upload_daily_count,
                 "Images one user may upload per day (files still stored)")
      ->envname("SURGE_UPLOAD_DAILY_COUNT")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}))
      ->capture_default_str();
  cmd.add_option("--upload-daily-bytes", s.upload_daily_bytes,
                 "Bytes one user may upload per day (files still stored)")
      ->envname("SURGE_UPLOAD_DAILY_BYTES")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  cmd.add_option("--upload-per-minute", s.upload_per_minute,
                 "Uploads one user may make per minute (a burst of as many), on each worker; "
                 "0 = unlimited")
      ->envname("SURGE_UPLOAD_PER_MINUTE")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
}

void add_store_flags(CLI::App& cmd, Config& c) {
  c.redis.port = 16379;
  c.db.port = 13306;
  c.db.password = "surge";
  cmd.add_option("--redis-host", c.redis.host)->envname("SURGE_REDIS_HOST")->capture_default_str();
  cmd.add_option("--redis-port", c.redis.port)->envname("SURGE_REDIS_PORT")->capture_default_str();
  cmd.add_option("--redis-password", c.redis.password)->envname("SURGE_REDIS_PASSWORD");
  cmd.add_option("--redis-db", c.redis.db)->envname("SURGE_REDIS_DB")->capture_default_str();
  cmd.add_option("--redis-cluster", c.redis_cluster,
                 "Redis Cluster seed nodes host:port[,host:port...]: every feature runs on the "
                 "cluster instead of --redis-host/--redis-port (list several: pub/sub listens "
                 "on the first that answers)")
      ->envname("SURGE_REDIS_CLUSTER")
      ->check([](const std::string& list) {
        return list.empty() || redis::parse_seeds(list) ? std::string()
                                                        : "expected host:port[,host:port...]";
      });
  cmd.add_option("--mysql-host", c.db.host)->envname("SURGE_MYSQL_HOST")->capture_default_str();
  cmd.add_option("--mysql-port", c.db.port)->envname("SURGE_MYSQL_PORT")->capture_default_str();
  cmd.add_option("--mysql-socket", c.db.socket, "Unix socket; wins over host/port when set")
      ->envname("SURGE_MYSQL_SOCKET");
  cmd.add_option("--mysql-user", c.db.user)->envname("SURGE_MYSQL_USER")->capture_default_str();
  cmd.add_option("--mysql-password", c.db.password)->envname("SURGE_MYSQL_PASSWORD");
  cmd.add_option("--mysql-database", c.db.database)
      ->envname("SURGE_MYSQL_DATABASE")
      ->capture_default_str();
  cmd.add_option_function<std::string>(
         "--mysql",
         [&c](const std::string& dsn) {
           if (!apply_mysql_dsn(dsn, c.db)) {
             throw CLI::ValidationError("--mysql", "expected mysql://user:pass@host:port/db");
           }
         },
         "MariaDB DSN, e.g. mysql://surge:surge@127.0.0.1:3306/hmdp (overrides the flags above)")
      ->envname("SURGE_MYSQL_DSN");
  cmd.add_option("--db-pool", c.db.pool_size, "MariaDB connections (and threads)")
      ->envname("SURGE_DB_POOL")
      ->capture_default_str();
  cmd.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, off")
      ->envname("SURGE_LOG_LEVEL")
      ->capture_default_str();
}

void add_order_shards_flag(CLI::App& cmd, Config& c) {
  cmd.add_option("--order-shards", c.order_shards,
                 "Order streams the flash sale spreads vouchers over (same on every instance)")
      ->envname("SURGE_ORDER_SHARDS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

void add_seed_flags(CLI::App& cmd, SeedOptions& s) {
  cmd.add_option("--scale", s.scale, "Data set size; 1 = seed scale (102,005 users, 50,114 shops)")
      ->check(CLI::Range(0.0001, 100.0))
      ->capture_default_str();
  cmd.add_option("--seed", s.seed, "Generator seed; the same seed gives the same rows")
      ->capture_default_str();
  cmd.add_flag("--force", s.force, "Reload even if data exists (empties the tables first)");
  cmd.add_flag("--schema-only", s.schema_only, "Migrate the schema and stop");
  cmd.add_option("--sql-dir", s.sql_dir, "Folder with seed.sql");
}

bool apply_mysql_dsn(std::string_view dsn, db::Options& out) {
  constexpr std::string_view kScheme = "mysql://";
  if (!dsn.starts_with(kScheme)) return false;
  std::string_view rest = dsn.substr(kScheme.size());
  db::Options o = out;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!query.starts_with("socket=")) return false;
    auto sock = core::url_decode(query.substr(7));
    if (!sock) return false;
    o.socket = *sock;
  }
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    auto user = core::url_decode(cred.substr(0, colon));
    auto pass = colon == std::string_view::npos ? std::optional<std::string>("")
                                                : core::url_decode(cred.substr(colon + 1));
    if (!user || !pass || user->empty()) return false;
    o.user = *user;
    o.password = *pass;
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) return false;
  o.database = std::string(rest.substr(slash + 1));
  std::string_view hostport = rest.substr(0, slash);
  if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    auto port = core::parse_int64(hostport.substr(colon + 1), 1, 65535);
    if (!port) return false;
    o.port = static_cast<uint16_t>(*port);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty() && o.socket.empty()) return false;
  if (!hostport.empty()) o.host = std::string(hostport);
  out = std::move(o);
  return true;
}

}  // namespace surge::app
