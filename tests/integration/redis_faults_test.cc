// The Redis connection under failure: a killed, a stalled and an absent server, a peer that
// breaks the protocol, and shutdown with work in flight. Every failure must be prompt and the
// connection must recover on its own once the server is back.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "redis/connection.h"
#include "support/drive.h"
#include "support/fake_redis.h"
#include "support/outcome.h"
#include "support/processes.h"
#include "support/stores.h"
#include "support/survive.h"

namespace surge::redis {
namespace {

using test::drive;
using test::drive_for;
using test::expect_survives;
using test::FakeRedis;
using test::Peer;
using test::run_co;
using namespace std::chrono_literals;
using ConnPtr = std::shared_ptr<Connection>;
using test::all_done;
using test::OutcomePtr;
using test::submit;

Options options_for(uint16_t port) {
  Options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.connect_timeout = 300ms;
  o.request_timeout = 2000ms;
  o.reconnect_min = 10ms;
  o.reconnect_max = 100ms;
  return o;
}

// Options for a FakeRedis: no handshake, so the first bytes the fake sees are the test's.
Options fake_options(uint16_t port) {
  Options o = options_for(port);
  o.client_name.clear();
  return o;
}

// Whether a request is refused at once: submitted, then only the handlers already ready are run
// (no waiting on I/O or timers). A request that queued behind a dead or absent server would
// still be pending; one refused at once has its error.
Result<void> refused_at_once(asio::io_context& ctx, const ConnPtr& conn) {
  auto o = submit(conn, Command::make("GET", "k"));
  ctx.restart();
  ctx.poll();
  if (!o->done()) return make_error_code(Errc::kTimeout);
  if (!*o->ec) return Result<void>();
  return *o->ec;
}

// Owns the io_context and one connection; stops it and lets its loop finish on destruction.
struct Client {
  explicit Client(Options o) : conn(Connection::create(ctx.get_executor(), std::move(o))) {
    conn->start();
  }
  ~Client() {
    conn->stop();
    ctx.restart();
    ctx.run_for(500ms);
  }
  Result<void> wait_ready(std::chrono::milliseconds t) { return run_co(ctx, conn->wait_ready(t)); }
  Result<Reply> exec(Command c) { return run_co(ctx, conn->exec(std::move(c))); }

  asio::io_context ctx;
  ConnPtr conn;
};

std::string describe(const Result<Reply>& r) {
  if (!r) return "error: " + r.error().message();
  return to_debug_string(*r);
}

TEST(RedisFaults, KillNineFailsEveryInFlightRequestPromptlyThenReconnects) {
  test::RedisServer server;
  Client client(options_for(server.port()));
  ASSERT_TRUE(client.wait_ready(3s));
  ASSERT_TRUE(client.exec(Command::make("SET", "k", "before")));

  // A stopped server reads nothing, so all 100 requests are surely in flight at the kill.
  server.pause(true);
  std::vector<OutcomePtr> outcomes;
  for (int i = 0; i < 100; ++i) outcomes.push_back(submit(client.conn, Command::make("GET", "k")));
  drive_for(client.ctx, 50ms);
  for (const auto& o : outcomes) ASSERT_FALSE(o->done());

  server.kill9();
  drive(
      client.ctx, [&] { return all_done(outcomes); }, 3s);
  for (const auto& o : outcomes) {
    // The reset, not the 2 s request timeout, ended them.
    EXPECT_EQ(*o->ec, Errc::kUnavailable) << o->ec->message();
  }

  // While the server is down, requests fail at once instead of queueing.
  auto down = refused_at_once(client.ctx, client.conn);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), Errc::kUnavailable) << down.error().message();

  server.start();
  ASSERT_TRUE(server.wait_ready(10s));
  auto ready = client.wait_ready(3s);
  ASSERT_TRUE(ready) << ready.error().message();
  EXPECT_GE(client.conn->stats().reconnects, 1u);
  auto set = client.exec(Command::make("SET", "k", "after"));
  ASSERT_TRUE(set) << set.error().message();
  auto get = client.exec(Command::make("GET", "k"));
  ASSERT_TRUE(get) << get.error().message();
  EXPECT_EQ(get->str, "after");
}

TEST(RedisFaults, StalledServerTimesOutThenRecovers) {
  test::RedisServer server;
  Options o = options_for(server.port());
  o.request_timeout = 300ms;
  o.connect_timeout = 200ms;
  Client client(o);
  ASSERT_TRUE(client.wait_ready(3s));
  ASSERT_TRUE(client.exec(Command::make("SET", "k", "v")));

  server.pause(true);
  auto started = Clock::now();
  std::vector<OutcomePtr> outcomes;
  for (int i = 0; i < 20; ++i) outcomes.push_back(submit(client.conn, Command::make("GET", "k")));
  drive(
      client.ctx, [&] { return all_done(outcomes); }, 3s);
  for (const auto& o : outcomes) {
    EXPECT_EQ(*o->ec, Errc::kTimeout) << o->ec->message();
    // Not before the timeout (a lower bound, which a slow machine cannot break).
    EXPECT_GE(o->at - started, 290ms);
  }
  EXPECT_GE(client.conn->stats().timeouts, 1u);

  // Reconnection cannot finish while the server is stopped; meanwhile requests fail at once.
  auto r = refused_at_once(client.ctx, client.conn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kUnavailable) << r.error().message();

  server.pause(false);
  auto ready = client.wait_ready(3s);
  ASSERT_TRUE(ready) << ready.error().message();
  auto get = client.exec(Command::make("GET", "k"));
  EXPECT_EQ(describe(get), "\"v\"");
  EXPECT_GE(client.conn->stats().reconnects, 1u);
}

TEST(RedisFaults, GarbageReplyFailsTheRequestWithProtocolError) {
  FakeRedis fake([](Peer& peer, int) {
    if (!peer.next_command()) return;
    peer.send("!!!not resp\r\n");
    peer.wait_closed();
  });
  Client client(fake_options(fake.port()));
  ASSERT_TRUE(client.wait_ready(2s));

  // kProtocol, not the 2 s request timeout: the garbage itself failed the request.
  auto r = client.exec(Command::make("GET", "k"));
  ASSERT_FALSE(r) << describe(r);
  EXPECT_EQ(r.error(), Errc::kProtocol) << r.error().message();

  // The connection drops the corrupt stream and reconnects; the fake keeps misbehaving, and the
  // client keeps failing cleanly.
  drive(
      client.ctx, [&] { return fake.accepted() >= 2 && client.conn->connected(); }, 2s);
  auto again = client.exec(Command::make("GET", "k"));
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error() == Errc::kProtocol || again.error() == Errc::kUnavailable)
      << again.error().message();
}

TEST(RedisFaults, GoodReplyThenGarbageInOneReadSplitsTheOutcomes) {
  FakeRedis fake([](Peer& peer, int index) {
    if (index > 0) return peer.serve("+OK\r\n");
    if (!peer.next_command() || !peer.next_command()) return;
    peer.send("+FIRST\r\n!!!not resp\r\n");
    peer.wait_closed();
  });
  Client client(fake_options(fake.port()));
  ASSERT_TRUE(client.wait_ready(2s));
  auto first = submit(client.conn, Command::make("GET", "a"));
  auto second = submit(client.conn, Command::make("GET", "b"));
  drive(
      client.ctx, [&] { return first->done() && second->done(); }, 2s);
  ASSERT_FALSE(*first->ec) << first->ec->message();
  ASSERT_EQ(first->replies.size(), 1u);
  EXPECT_EQ(first->replies[0].str, "FIRST");
  EXPECT_EQ(*second->ec, Errc::kProtocol) << second->ec->message();

  // After the reset, a fresh stream works.
  drive(
      client.ctx, [&] { return fake.accepted() >= 2 && client.conn->connected(); }, 2s);
  EXPECT_EQ(describe(client.exec(Command::make("PING"))), "OK");
}

TEST(RedisFaults, UnsolicitedReplyResetsTheConnection) {
  FakeRedis fake([](Peer& peer, int index) {
    if (index > 0) return peer.serve("+PONG\r\n");
    peer.send("+SURPRISE\r\n");
    peer.wait_closed();
  });
  Client client(fake_options(fake.port()));
  // The first connection is dropped as soon as the stray reply arrives, and replaced.
  drive(
      client.ctx,
      [&] {
        return client.conn->stats().reconnects >= 1 && client.conn->connected() &&
               fake.accepted() >= 2;
      },
      3s);
  EXPECT_EQ(fake.accepted(), 2);
  EXPECT_EQ(fake.finished(), 1);  // the first connection was closed by the client
  EXPECT_EQ(describe(client.exec(Command::make("PING"))), "PONG");
}

TEST(RedisFaults, ExtraReplyAfterAnAnswerResetsTheConnection) {
  FakeRedis fake([](Peer& peer, int index) {
    if (index > 0) return peer.serve("+PONG\r\n");
    if (!peer.next_command()) return;
    peer.send("+OK\r\n+EXTRA\r\n");
    peer.wait_closed();
  });
  Client client(fake_options(fake.port()));
  ASSERT_TRUE(client.wait_ready(2s));
  // The request itself got its answer; the surplus reply only costs a reconnect.
  EXPECT_EQ(describe(client.exec(Command::make("PING"))), "OK");
  drive(
      client.ctx, [&] { return client.conn->stats().reconnects >= 1 && client.conn->connected(); },
      3s);
  EXPECT_EQ(describe(client.exec(Command::make("PING"))), "PONG");
}

TEST(RedisFaults, NothingListeningFailsFastAndWaitReadyTimesOut) {
  Options o = options_for(test::free_port());
  o.connect_timeout = 200ms;
  Client client(o);

  auto r = refused_at_once(client.ctx, client.conn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kUnavailable) << r.error().message();

  auto before = Clock::now();
  auto ready = client.wait_ready(300ms);
  auto waited = Clock::now() - before;
  ASSERT_FALSE(ready);
  EXPECT_EQ(ready.error(), Errc::kTimeout) << ready.error().message();
  EXPECT_GE(waited, 290ms);  // a lower bound: it waited, it did not give up early

  // Still refusing at once after several failed connection attempts.
  r = refused_at_once(client.ctx, client.conn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kUnavailable);
  EXPECT_EQ(client.conn->stats().requests, 0u);
}

TEST(RedisFaults, StopFailsInFlightRequestsWithShuttingDown) {
  std::atomic<int> received{0};
  FakeRedis fake([&received](Peer& peer, int) {
    // Reads everything and answers nothing, so requests stay in flight.
    while (peer.next_command()) ++received;
  });
  Client client(fake_options(fake.port()));
  ASSERT_TRUE(client.wait_ready(2s));
  std::vector<OutcomePtr> outcomes;
  for (int i = 0; i < 100; ++i) outcomes.push_back(submit(client.conn, Command::make("GET", "k")));
  drive(
      client.ctx, [&] { return received == 100; }, 2s);

  // stop() fails them itself: the handlers ready right after it complete all of them.
  client.conn->stop();
  client.ctx.restart();
  client.ctx.poll();
  ASSERT_TRUE(all_done(outcomes));
  for (const auto& o : outcomes) EXPECT_EQ(*o->ec, Errc::kShuttingDown) << o->ec->message();
  EXPECT_FALSE(client.conn->connected());

  auto after = client.exec(Command::make("GET", "k"));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), Errc::kShuttingDown);
  auto ready = client.wait_ready(100ms);
  ASSERT_FALSE(ready);
  EXPECT_EQ(ready.error(), Errc::kShuttingDown);

  // The fake sees the client hang up.
  auto until = Clock::now() + 2s;
  while (fake.finished() < 1 && Clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(fake.finished(), 1);
}

TEST(RedisFaults, TransportLossIsReportedAsUnavailable) {
  // connection.h promises transport failures in Surge's vocabulary, and app/errors.cc maps only
  // that to 503: a peer hanging up mid-reply must not surface as a raw asio::error::eof.
  FakeRedis fake([](Peer& peer, int) {
    if (!peer.next_command()) return;
    peer.send("$10\r\nhalf");  // then hang up mid-reply
  });
  Client client(fake_options(fake.port()));
  ASSERT_TRUE(client.wait_ready(2s));
  auto r = client.exec(Command::make("GET", "k"));
  ASSERT_FALSE(r) << describe(r);
  EXPECT_EQ(r.error(), Errc::kUnavailable)
      << r.error().message() << " (" << r.error().category().name() << ")";
}

// Blocks the io_context thread, as a slow handler on a busy worker would, once `flag` is set.
// Blocks the io_context's thread for `d` once `flag` is set, and says so in `stalled`.
asio::awaitable<void> stall_when(const std::atomic<bool>* flag, std::atomic<bool>* stalled,
                                 std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!*flag) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  *stalled = true;
  std::this_thread::sleep_for(d);
}

TEST(RedisFaults, HandshakeReplyRacingTheConnectDeadlineKeepsTheConnection) {
  // Regression: when the handshake reply and the connect deadline became ready in the same
  // reactor pass, the stale deadline handler wrote into the finished coroutine's frame and
  // closed the freshly ready connection.
  expect_survives([] {
    // The reply is sent only once the client's thread is stalled, and the stall outlasts the
    // connect deadline, so both are ready when the thread resumes. The deadline is long enough
    // that a loaded machine cannot let it pass before the stall begins (which would be an
    // honest timeout, not the race).
    std::atomic<bool> handshake_seen{false};
    std::atomic<bool> stalled{false};
    FakeRedis fake([&handshake_seen, &stalled](Peer& peer, int index) {
      if (index == 0) {
        if (!peer.next_command()) return;  // CLIENT SETNAME
        handshake_seen = true;
        while (!stalled) std::this_thread::sleep_for(1ms);
        peer.send("+OK\r\n");
      }
      peer.serve("+OK\r\n");
    });
    Options o = options_for(fake.port());
    o.connect_timeout = 1000ms;
    Client client(o);
    asio::co_spawn(client.ctx, stall_when(&handshake_seen, &stalled, 1500ms), asio::detached);
    drive(
        client.ctx, [&] { return client.conn->connected(); }, 4s);
    drive_for(client.ctx, 100ms);
    EXPECT_TRUE(client.conn->connected());
    EXPECT_EQ(client.conn->stats().reconnects, 0u);
    EXPECT_EQ(fake.accepted(), 1);
  });
}

TEST(RedisFaults, StopWhileResolvingLeavesNoSocketOpen) {
  // Regression: stop() during name resolution once left the socket that async_connect reopened
  // connected until the Connection object was destroyed.
  std::atomic<bool> closed_by_client{false};
  FakeRedis fake(
      [&closed_by_client](Peer& peer, int) { closed_by_client = peer.wait_closed(800ms); });
  Client client(fake_options(fake.port()));
  // Queued behind the start of the connection loop, so it runs while the resolve is pending.
  asio::post(client.ctx, [conn = client.conn] { conn->stop(); });
  // Keep the loop running (a late close would happen here) until the fake has seen either the
  // client's close or its own 800 ms patience run out.
  auto started = Clock::now();
  drive(
      client.ctx,
      [&] { return Clock::now() - started > 300ms && fake.finished() == fake.accepted(); }, 3s);
  // Either no connection was made, or the client closed it.
  if (fake.accepted() > 0) {
    EXPECT_TRUE(closed_by_client) << "a stopped connection kept its socket open";
  }
}

}  // namespace
}  // namespace surge::redis
