// The social engines driven directly against the fixture Redis and MariaDB: sessions, login
// codes and their limits (on a hand-moved clock), check-in streaks across a month boundary,
// likes and the database counter, the feed, follows and their mirror, visitor counts, and the
// shop create path with its indexes. Ids and phones carry the process id, so the suites that
// share the fixture stores never see each other's data.
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "cache/bloom.h"
#include "cache/read_through.h"
#include "cache/shop_places.h"
#include "common/clock.h"
#include "common/per_worker.h"
#include "core/calendar.h"
#include "db/blog_repository.h"
#include "db/follow_repository.h"
#include "db/pool.h"
#include "db/shop_repository.h"
#include "db/user_repository.h"
#include "redis/client.h"
#include "redis/commands.h"
#include "shop/catalog.h"
#include "social/blogs.h"
#include "social/check_ins.h"
#include "social/feed.h"
#include "social/follows.h"
#include "social/login.h"
#include "social/visitors.h"
#include "support/drive.h"
#include "support/local_time.h"
#include "support/stores.h"

namespace surge::social {
namespace {

using namespace std::chrono_literals;
using test::local_noon;
using test::run_co;

class SocialEngines : public ::testing::Test {
 protected:
  SocialEngines()
      : pool_(test::stores().db),
        redis_(redis::NodeClient::create(ctx_.get_executor(), test::stores().redis)),
        client_(*redis_),
        clock_(local_noon(2031, 2, 27)) {
    redis_->start();
    EXPECT_TRUE(run_co(ctx_, redis_->wait_ready(3s)));
  }
  ~SocialEngines() override {
    redis_->stop();
    test::drive_for(ctx_, 20ms);
    pool_.stop();
  }

  // A phone of the original's pattern, distinct per process and per `n`.
  static std::string phone(int n) {
    return "139" + std::to_string(10000000 + (::getpid() * 100 + n) % 90000000);
  }
  db::User user(int n) {
    auto u = run_co(ctx_, users_.find_or_create(phone(n), "tester" + std::to_string(n)));
    EXPECT_TRUE(u);
    return u.value();
  }

  boost::asio::io_context ctx_;
  // The shop create path on the fixture stores: the repository, a cache class and a filter of
  // the test's own (`tag` and the process id name them), and the catalog over them. Without a
  // loader the cache finds nothing in the database.
  struct Shops {
    Shops(SocialEngines& t, const std::string& tag, cache::Loader load = {})
        : repository(t.pool_),
          cache(options(tag), load ? std::move(load) : absent,
                {{t.ctx_.get_executor(), t.redis_.get()}}, t.clock_),
          bloom(tag + std::to_string(::getpid()), 1000, 0.01),
          catalog(repository, cache, bloom) {}
    static cache::ClassOptions options(const std::string& tag) {
      cache::ClassOptions o;
      o.name = tag + std::to_string(::getpid());
      return o;
    }
    static asio::awaitable<Result<cache::Loaded>> absent(std::string) { co_return cache::Loaded(); }
    db::ShopRepository repository;
    cache::ReadThrough cache;
    cache::BloomFilter bloom;
    shop::Catalog catalog;
  };

  db::Pool pool_;
  std::shared_ptr<redis::NodeClient> redis_;
  redis::NodeClient client_;  // what the social engines take: a view of redis_
  ManualClock clock_;
  db::UserRepository users_{pool_};
  db::BlogRepository blogs_{pool_};
  db::FollowRepository follows_{pool_};
};

TEST_F(SocialEngines, SessionOpensRenewsAndCloses) {
  Sessions sessions(10min);
  auto token = run_co(ctx_, sessions.open(client_, {42, "nick", "/icon.png"}));
  ASSERT_TRUE(token);
  EXPECT_TRUE(Sessions::plausible_token(*token));
  auto found = run_co(ctx_, sessions.find_and_renew(client_, *token));
  ASSERT_TRUE(found);
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->id, 42);
  EXPECT_EQ((*found)->nick_name, "nick");
  EXPECT_EQ((*found)->icon, "/icon.png");
  auto ttl = run_co(ctx_, redis::pttl(*redis_, Sessions::key(*token)));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 9 * 60 * 1000);
  ASSERT_TRUE(run_co(ctx_, sessions.close(client_, *token)));
  auto gone = run_co(ctx_, sessions.find_and_renew(client_, *token));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  EXPECT_FALSE(Sessions::plausible_token("not-a-token"));
}

// Sessions with a near cache on this thread as worker 0 of one, on the hand-moved clock.
class NearSessions : public SocialEngines {
 protected:
  NearSessions() { this_worker::enter(0); }
  ~NearSessions() override { this_worker::enter(static_cast<size_t>(-1)); }
  Sessions make(SessionOptions o) { return Sessions(o, clock_, {ctx_.get_executor()}); }
  bool live(Sessions& s, const std::string& token) {
    auto found = run_co(ctx_, s.find_and_renew(client_, token));
    EXPECT_TRUE(found);
    return found && found->has_value();
  }
  void delete_behind_surges_back(const std::string& token) {
    ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, {Sessions::key(token)})));
  }
};

TEST_F(NearSessions, ASessionReadOnceIsAnsweredLocallyForTheNearTtl) {
  auto sessions = make({.ttl = 10min, .max_age = 24h, .near_ttl = 2s});
  auto token = run_co(ctx_, sessions.open(client_, {42, "nick", ""})).value();
  ASSERT_TRUE(live(sessions, token));
  // Gone from Redis, but this worker read it under 2 s ago: no round trip, still answered.
  delete_behind_surges_back(token);
  clock_.advance(1999ms);
  EXPECT_TRUE(live(sessions, token));
  auto here = sessions.find_here(token);  // the near cache alone answers the same
  ASSERT_TRUE(here);
  EXPECT_EQ(here->id, 42);
  EXPECT_EQ(here->nick_name, "nick");
  clock_.advance(1ms);
  EXPECT_FALSE(sessions.find_here(token));  // expired here: the caller must ask Redis
  EXPECT_FALSE(live(sessions, token));
  std::string metrics;
  sessions.render_metrics(metrics);
  EXPECT_NE(metrics.find("surge_session_lookups_total{result=\"near\"} 2\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("surge_session_lookups_total{result=\"redis\"} 2\n"), std::string::npos)
      << metrics;
}

TEST_F(NearSessions, CloseDropsTheNearEntryBeforeItAnswers) {
  auto sessions = make({.ttl = 10min, .max_age = 24h, .near_ttl = 1h});
  auto token = run_co(ctx_, sessions.open(client_, {43, "nick", ""})).value();
  ASSERT_TRUE(live(sessions, token));
  ASSERT_TRUE(run_co(ctx_, sessions.close(client_, token)));
  EXPECT_FALSE(live(sessions, token));  // an hour's near TTL: only the close can explain this
}

TEST_F(NearSessions, AnAnnouncedCloseFromAnotherInstanceDropsIt) {
  auto sessions = make({.ttl = 10min, .max_age = 24h, .near_ttl = 1h});
  auto token = run_co(ctx_, sessions.open(client_, {44, "nick", ""})).value();
  ASSERT_TRUE(live(sessions, token));
  delete_behind_surges_back(token);
  sessions.on_message("some:other:channel", token);
  test::drive_for(ctx_, 5ms);
  EXPECT_TRUE(live(sessions, token));  // not its channel: still the near entry
  sessions.on_message(Sessions::kChannel, token);
  test::drive_for(ctx_, 5ms);
  EXPECT_FALSE(live(sessions, token));
}

TEST_F(NearSessions, LosingTheFeedEmptiesTheNearCache) {
  auto sessions = make({.ttl = 10min, .max_age = 24h, .near_ttl = 1h});
  auto token = run_co(ctx_, sessions.open(client_, {45, "nick", ""})).value();
  ASSERT_TRUE(live(sessions, token));
  delete_behind_surges_back(token);
  sessions.on_feed_state(true);
  test::drive_for(ctx_, 5ms);
  EXPECT_TRUE(live(sessions, token));
  sessions.on_feed_state(false);
  test::drive_for(ctx_, 5ms);
  EXPECT_FALSE(live(sessions, token));
}

TEST_F(NearSessions, NoSessionOutlivesItsMaximumAgeHoweverBusy) {
  auto sessions = make({.ttl = 10min, .max_age = 1h, .near_ttl = 2s});
  auto token = run_co(ctx_, sessions.open(client_, {46, "nick", ""})).value();
  // Used every second for an hour: the sliding TTL never lapses, the absolute age does.
  for (int i = 0; i < 3599; ++i) {
    ASSERT_TRUE(live(sessions, token)) << i;
    clock_.advance(1s);
  }
  ASSERT_TRUE(live(sessions, token));
  clock_.advance(1s);
  EXPECT_FALSE(live(sessions, token));
  auto exists = run_co(ctx_, redis::pttl(*redis_, Sessions::key(token)));
  ASSERT_TRUE(exists);
  EXPECT_EQ(*exists, -2) << "a session past its age is deleted, not left to its TTL";
}

TEST_F(NearSessions, CloseAllLogsAUserOutEverywhere) {
  auto sessions = make({.ttl = 10min, .max_age = 24h, .near_ttl = 1h});
  int64_t uid = 500000 + ::getpid() % 100000;
  auto a = run_co(ctx_, sessions.open(client_, {uid, "nick", ""})).value();
  auto b = run_co(ctx_, sessions.open(client_, {uid, "nick", ""})).value();
  auto other = run_co(ctx_, sessions.open(client_, {uid + 1, "nick", ""})).value();
  ASSERT_TRUE(live(sessions, a));
  ASSERT_TRUE(live(sessions, b));
  auto closed = run_co(ctx_, sessions.close_all(client_, uid));
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, 2);
  EXPECT_FALSE(live(sessions, a));
  EXPECT_FALSE(live(sessions, b));
  EXPECT_TRUE(live(sessions, other));
  auto again = run_co(ctx_, sessions.close_all(client_, uid));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
}

TEST_F(SocialEngines, LoginCodeIsLimitedPerMinuteAndRedeemedOnce) {
  LoginCodes codes(CodeLimits{}, clock_);
  std::string p = phone(1), client = "test-" + std::to_string(::getpid());
  auto first = run_co(ctx_, codes.issue(client_, p, client));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->code.size(), 6u);
  // A second code within the same minute window is refused until that window ends.
  auto second = run_co(ctx_, codes.issue(client_, p, client));
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->code.empty());
  EXPECT_GT(second->retry_after_ms, 0);
  EXPECT_LE(second->retry_after_ms, 60000);
  clock_.advance(std::chrono::milliseconds(second->retry_after_ms));
  auto third = run_co(ctx_, codes.issue(client_, p, client));
  ASSERT_TRUE(third);
  ASSERT_EQ(third->code.size(), 6u);
  // The newest code logs in once; the replaced one and a replay do not.
  std::string wrong = third->code == "000000" ? "111111" : "000000";
  EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, wrong)).value(), Redeemed::kMismatch);
  EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, third->code)).value(), Redeemed::kMatch);
  EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, third->code)).value(), Redeemed::kNoCode);
}

TEST_F(SocialEngines, TooManyWrongGuessesWithdrawTheCode) {
  CodeLimits limits;
  limits.max_attempts = 3;
  LoginCodes codes(limits, clock_);
  std::string p = phone(2);
  auto issued = run_co(ctx_, codes.issue(client_, p, "guesser-" + std::to_string(::getpid())));
  ASSERT_TRUE(issued);
  ASSERT_EQ(issued->code.size(), 6u);
  std::string wrong = issued->code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, wrong)).value(), Redeemed::kMismatch);
  }
  EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, issued->code)).value(), Redeemed::kNoCode);
}

// 200 wrong guesses sent at once, pipelined on one connection (so Redis sees them back to
// back): exactly --code-attempts of them are compared with the code, and the right code sent
// after them is refused.
TEST_F(SocialEngines, ParallelGuessesGetAtMostTheAllowedComparisons) {
  CodeLimits limits;
  LoginCodes codes(limits, clock_);
  std::string p = phone(4);
  auto issued = run_co(ctx_, codes.issue(client_, p, "flood-" + std::to_string(::getpid())));
  ASSERT_TRUE(issued);
  ASSERT_EQ(issued->code.size(), 6u);
  std::string wrong = issued->code == "000000" ? "111111" : "000000";
  constexpr int kGuesses = 200;
  std::vector<Redeemed> outcomes(kGuesses, Redeemed::kMatch);
  int done = 0;
  for (int i = 0; i < kGuesses; ++i) {
    asio::co_spawn(
        ctx_,
        [](LoginCodes* codes, redis::Client* c, std::string phone, std::string guess, Redeemed* out,
           int* done) -> asio::awaitable<void> {
          auto r = co_await codes->redeem(*c, std::move(phone), std::move(guess));
          *out = r ? *r : Redeemed::kMatch;  // an error shows up as a (wrong) match below
          ++*done;
        }(&codes, &client_, p, wrong, &outcomes[i], &done),
        asio::detached);
  }
  ctx_.restart();
  while (done < kGuesses) ctx_.run_one();
  int compared = 0, refused = 0;
  for (auto o : outcomes) {
    compared += o == Redeemed::kMismatch;
    refused += o == Redeemed::kNoCode;
  }
  EXPECT_EQ(compared, limits.max_attempts);
  EXPECT_EQ(refused, kGuesses - limits.max_attempts);
  EXPECT_EQ(run_co(ctx_, codes.redeem(client_, p, issued->code)).value(), Redeemed::kNoCode);
}

TEST_F(SocialEngines, LoginCreatesTheUserAndOpensASession) {
  Sessions sessions(10min);
  LoginCodes codes(CodeLimits{}, clock_);
  Login login(codes, sessions, users_);
  std::string p = phone(3);
  auto issued = run_co(ctx_, codes.issue(client_, p, "login-" + std::to_string(::getpid())));
  ASSERT_TRUE(issued);
  auto token = run_co(ctx_, login.log_in(client_, p, issued->code));
  ASSERT_TRUE(token);
  ASSERT_TRUE(*token);
  auto who = run_co(ctx_, sessions.find_and_renew(client_, **token));
  ASSERT_TRUE(who && *who);
  auto row = run_co(ctx_, users_.find((*who)->id));
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*who)->nick_name, (*row)->nick_name);
}

TEST_F(SocialEngines, StreakCarriesAcrossTheMonthBoundary) {
  CheckIns check_ins(clock_);
  int64_t user = 900000000 + ::getpid();
  // 27 and 28 February, 1 and 2 March (2031 is not a leap year); the 3rd is missed.
  for (int day = 0; day < 4; ++day) {
    ASSERT_TRUE(run_co(ctx_, check_ins.sign(client_, user)));
    ASSERT_TRUE(run_co(ctx_, check_ins.sign(client_, user)));  // twice is once
    clock_.advance(24h);
  }
  clock_.advance(-24h);
  EXPECT_EQ(run_co(ctx_, check_ins.streak(client_, user)).value(), 4);
  clock_.advance(48h);  // 4 March: yesterday was not signed
  EXPECT_EQ(run_co(ctx_, check_ins.streak(client_, user)).value(), 0);
  std::vector<std::string> keys{CheckIns::key(user, {2031, 2, 1}),
                                CheckIns::key(user, {2031, 3, 1})};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, std::move(keys))));
}

TEST_F(SocialEngines, LikeTogglesAndTheCounterFollows) {
  Likes likes(blogs_, users_, clock_);
  db::User author = user(4), reader = user(5);
  auto blog = run_co(ctx_, blogs_.insert({1, author.id, "likes", "", "body"}));
  ASSERT_TRUE(blog);
  EXPECT_EQ(run_co(ctx_, likes.toggle(client_, *blog, reader.id)).value(), LikeOutcome::kToggled);
  EXPECT_EQ(run_co(ctx_, likes.liked_by(client_, {*blog}, reader.id)).value(),
            std::vector<bool>{true});
  auto likers = run_co(ctx_, likes.first_likers(client_, *blog));
  ASSERT_TRUE(likers);
  ASSERT_EQ(likers->size(), 1u);
  EXPECT_EQ(likers->front().id, reader.id);
  EXPECT_EQ(run_co(ctx_, blogs_.find(*blog)).value()->liked, 1);
  EXPECT_EQ(run_co(ctx_, likes.toggle(client_, *blog, reader.id)).value(), LikeOutcome::kToggled);
  EXPECT_EQ(run_co(ctx_, likes.liked_by(client_, {*blog}, reader.id)).value(),
            std::vector<bool>{false});
  EXPECT_EQ(run_co(ctx_, blogs_.find(*blog)).value()->liked, 0);
  EXPECT_EQ(run_co(ctx_, likes.toggle(client_, 0x7fffffffffff, reader.id)).value(),
            LikeOutcome::kNoSuchBlog);
}

TEST_F(SocialEngines, PublishedBlogReachesFollowersFeeds) {
  Likes likes(blogs_, users_, clock_);
  Feed feed(FeedOptions{}, follows_, clock_);
  Blogs blogs(blogs_, users_, likes, feed);
  Follows follows(follows_, users_);
  db::User author = user(6), fan = user(7);
  ASSERT_EQ(run_co(ctx_, follows.follow(client_, fan.id, author.id)).value(), FollowOutcome::kDone);
  auto id = run_co(ctx_, blogs.publish(client_, {1, author.id, "fed", "", "to fans"}));
  ASSERT_TRUE(id);
  ASSERT_TRUE(*id);
  auto page = run_co(ctx_, blogs.following(client_, fan.id, clock_.now_ms() + 1, 0));
  ASSERT_TRUE(page);
  ASSERT_TRUE(*page);
  ASSERT_FALSE((*page)->items.empty());
  const BlogItem& newest = (*page)->items.front();
  EXPECT_EQ(newest.blog.id, **id);
  ASSERT_TRUE(newest.author);
  EXPECT_EQ(newest.author->id, author.id);
  EXPECT_EQ(newest.liked, std::optional<bool>(false));
  EXPECT_EQ((*page)->next.min_time, clock_.now_ms());
  // The author's own feed did not receive it.
  auto own = run_co(ctx_, feed.page(client_, author.id, clock_.now_ms() + 1, 0));
  ASSERT_TRUE(own);
  EXPECT_TRUE(!*own || std::find((*own)->blog_ids.begin(), (*own)->blog_ids.end(), **id) ==
                           (*own)->blog_ids.end());
}

// Many toggles by one reader at once, in several rounds: the scripts run in some order in
// Redis, and the counter writes race on the pool's connections. Whatever the order, the set and
// tb_blog.liked agree at the end of each round (liked after an odd number of toggles in all).
TEST_F(SocialEngines, ConcurrentTogglesByOneReaderLeaveTheSetAndTheCounterAgreeing) {
  Likes likes(blogs_, users_, clock_);
  db::User author = user(11), reader = user(12);
  auto blog = run_co(ctx_, blogs_.insert({1, author.id, "races", "", "body"}));
  ASSERT_TRUE(blog);
  int64_t expected = 0;  // liked after all toggles so far
  for (int toggles : {15, 16, 15, 16, 15, 16, 15, 16}) {
    int done = 0, failed = 0;
    for (int i = 0; i < toggles; ++i) {
      boost::asio::co_spawn(ctx_, likes.toggle(client_, *blog, reader.id),
                            [&](std::exception_ptr, Result<LikeOutcome> r) {
                              ++done;
                              if (!r || *r != LikeOutcome::kToggled) ++failed;
                            });
    }
    test::drive(
        ctx_, [&] { return done == toggles; }, 30s);
    ASSERT_EQ(failed, 0);
    auto card = run_co(ctx_, redis_->exec(redis::Request::keyed(1, "ZCARD", Likes::key(*blog))));
    ASSERT_TRUE(card);
    expected = (expected + toggles) % 2;
    ASSERT_EQ(card->integer, expected);
    ASSERT_EQ(run_co(ctx_, blogs_.find(*blog)).value()->liked, expected) << toggles << " toggles";
    ASSERT_EQ(run_co(ctx_, likes.liked_by(client_, {*blog}, reader.id)).value(),
              std::vector<bool>{expected == 1});
  }
}

// Readers see their own likes in a list: only the blog the reader likes says so, and a list
// without a reader says nothing either way.
TEST_F(SocialEngines, HotListMarksExactlyTheReadersLikes) {
  Likes likes(blogs_, users_, clock_);
  Feed feed(FeedOptions{}, follows_, clock_);
  Blogs blogs(blogs_, users_, likes, feed);
  db::User author = user(13), reader = user(14);
  auto liked = run_co(ctx_, blogs_.insert({1, author.id, "hot liked", "", "body"}));
  auto other = run_co(ctx_, blogs_.insert({1, author.id, "hot other", "", "body"}));
  ASSERT_TRUE(liked && other);
  ASSERT_EQ(run_co(ctx_, likes.toggle(client_, *liked, reader.id)).value(), LikeOutcome::kToggled);
  // Far above any like count the shared data set can reach: these two head the hot list.
  ASSERT_TRUE(run_co(ctx_, blogs_.set_liked(*liked, 2000000000)));
  ASSERT_TRUE(run_co(ctx_, blogs_.set_liked(*other, 2000000001)));
  auto top = run_co(ctx_, blogs.hot(client_, 0, 2, reader.id));
  auto anonymous = run_co(ctx_, blogs.hot(client_, 0, 2, std::nullopt));
  auto by_author = run_co(ctx_, blogs.hot(client_, 0, 2, author.id));
  for (int64_t b : {*liked, *other}) ASSERT_TRUE(run_co(ctx_, blogs_.set_liked(b, 0)));
  ASSERT_TRUE(top && anonymous && by_author);
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].blog.id, *other);
  EXPECT_EQ((*top)[0].liked, std::optional<bool>(false));
  EXPECT_EQ((*top)[1].blog.id, *liked);
  EXPECT_EQ((*top)[1].liked, std::optional<bool>(true));
  ASSERT_EQ(by_author->size(), 2u);
  for (const auto& item : *by_author) EXPECT_EQ(item.liked, std::optional<bool>(false));
  ASSERT_EQ(anonymous->size(), 2u);
  for (const auto& item : *anonymous) EXPECT_EQ(item.liked, std::nullopt);
}

// Blogs published within one millisecond share a score. The feed is walked page by page as the
// web page does, with several page sizes: every blog exactly once, newest first, ties in
// ZREVRANGEBYSCORE's order (member descending, as strings).
TEST_F(SocialEngines, FeedPagesThroughEqualTimestampsWithoutSkipsOrRepeats) {
  db::User author = user(15), fan = user(16);
  Follows follows(follows_, users_);
  ASSERT_EQ(run_co(ctx_, follows.follow(client_, fan.id, author.id)).value(), FollowOutcome::kDone);
  Likes likes(blogs_, users_, clock_);
  Feed publisher(FeedOptions{}, follows_, clock_);
  Blogs blogs(blogs_, users_, likes, publisher);
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, {Feed::key(fan.id)})));
  // Two older blogs at one millisecond, seven newer ones at another, one newest alone.
  std::vector<std::vector<int64_t>> published(3);
  for (auto [group, n] : {std::pair{0, 2}, std::pair{1, 7}, std::pair{2, 1}}) {
    for (int i = 0; i < n; ++i) {
      auto id = run_co(ctx_, blogs.publish(client_, {1, author.id, "tie", "", "body"}));
      ASSERT_TRUE(id && *id);
      published[group].push_back(**id);
    }
    clock_.advance(1ms);
  }
  // The setup took effect: each group shares exactly one score.
  int64_t first = clock_.now_ms() - 3;
  for (int group = 0; group < 3; ++group) {
    for (int64_t id : published[group]) {
      auto score = run_co(ctx_, redis::zscore(*redis_, Feed::key(fan.id), std::to_string(id)));
      ASSERT_TRUE(score && *score);
      ASSERT_EQ(static_cast<int64_t>(**score), first + group);
    }
  }
  std::vector<int64_t> expected;
  auto by_member_desc = [](int64_t a, int64_t b) { return std::to_string(a) > std::to_string(b); };
  for (int group = 2; group >= 0; --group) {
    auto ids = published[group];
    std::sort(ids.begin(), ids.end(), by_member_desc);
    expected.insert(expected.end(), ids.begin(), ids.end());
  }
  for (int64_t size : {1, 2, 3, 4, 7}) {
    Feed feed(FeedOptions{.keep = 1000, .page_size = size}, follows_, clock_);
    std::vector<int64_t> seen;
    int64_t last = clock_.now_ms() + 1, offset = 0;
    for (int page = 0; page < 20; ++page) {
      auto got = run_co(ctx_, feed.page(client_, fan.id, last, offset));
      ASSERT_TRUE(got);
      if (!*got) break;
      ASSERT_LE((*got)->blog_ids.size(), static_cast<size_t>(size));
      seen.insert(seen.end(), (*got)->blog_ids.begin(), (*got)->blog_ids.end());
      last = (*got)->next.min_time;
      offset = (*got)->next.offset;
    }
    EXPECT_EQ(seen, expected) << "page size " << size;
  }
}

// Each feed keeps its newest --feed-keep entries: publishing more drops the oldest ones.
TEST_F(SocialEngines, FeedTrimmingDropsTheOldestEntries) {
  db::User author = user(17), fan = user(18);
  Follows follows(follows_, users_);
  ASSERT_EQ(run_co(ctx_, follows.follow(client_, fan.id, author.id)).value(), FollowOutcome::kDone);
  Likes likes(blogs_, users_, clock_);
  Feed feed(FeedOptions{.keep = 5, .page_size = 10}, follows_, clock_);
  Blogs blogs(blogs_, users_, likes, feed);
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, {Feed::key(fan.id)})));
  std::vector<int64_t> ids;
  for (int i = 0; i < 8; ++i) {
    clock_.advance(1ms);
    auto id = run_co(ctx_, blogs.publish(client_, {1, author.id, "trim", "", "body"}));
    ASSERT_TRUE(id && *id);
    ids.push_back(**id);
  }
  auto page = run_co(ctx_, feed.page(client_, fan.id, clock_.now_ms() + 1, 0));
  ASSERT_TRUE(page && *page);
  std::vector<int64_t> newest(ids.rbegin(), ids.rbegin() + 5);
  EXPECT_EQ((*page)->blog_ids, newest);
}

// The mirror is made equal to the table at start, not merely added to: a member the table no
// longer has (an unfollow whose SREM was lost) and the set of a user who follows nobody are gone.
TEST_F(SocialEngines, MirrorRebuildRemovesWhatTheTableNoLongerHas) {
  Follows follows(follows_, users_);
  db::User a = user(19), b = user(20), c = user(21), d = user(22);
  ASSERT_TRUE(run_co(ctx_, follows.follow(client_, a.id, c.id)));
  ASSERT_TRUE(run_co(ctx_, follows.follow(client_, b.id, c.id)));
  ASSERT_TRUE(run_co(ctx_, follows.unfollow(client_, a.id, d.id)));
  ASSERT_TRUE(run_co(ctx_, follows.unfollow(client_, d.id, c.id)));
  // Plant the stale state: a "follows" d and d "follows" c in Redis only.
  ASSERT_TRUE(run_co(ctx_, redis::sadd(*redis_, Follows::key(a.id), {std::to_string(d.id)})));
  ASSERT_TRUE(run_co(ctx_, redis::sadd(*redis_, Follows::key(d.id), {std::to_string(c.id)})));
  ASSERT_EQ(run_co(ctx_, follows.common(client_, a.id, d.id)).value().size(), 1u);
  auto st = run_co(ctx_, follows.rebuild_mirror(client_), 60s);
  ASSERT_TRUE(st);
  EXPECT_GE(st->dropped, 1u);
  auto members = run_co(ctx_, redis::smembers(*redis_, Follows::key(a.id)));
  ASSERT_TRUE(members);
  EXPECT_EQ(*members, std::vector<std::string>{std::to_string(c.id)});
  auto gone = run_co(ctx_, redis::smembers(*redis_, Follows::key(d.id)));
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  EXPECT_TRUE(run_co(ctx_, follows.common(client_, a.id, d.id)).value().empty());
  auto both = run_co(ctx_, follows.common(client_, a.id, b.id));
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 1u);
  EXPECT_EQ(both->front().id, c.id);
}

TEST_F(SocialEngines, FollowsRefuseSelfAndStrangersAndMirrorForCommonFollows) {
  Follows follows(follows_, users_);
  db::User a = user(8), b = user(9), c = user(10);
  EXPECT_EQ(run_co(ctx_, follows.follow(client_, a.id, a.id)).value(), FollowOutcome::kSelf);
  EXPECT_EQ(run_co(ctx_, follows.follow(client_, a.id, 0x7fffffffffff)).value(),
            FollowOutcome::kNoSuchUser);
  ASSERT_TRUE(run_co(ctx_, follows.follow(client_, a.id, c.id)));
  ASSERT_TRUE(run_co(ctx_, follows.follow(client_, b.id, c.id)));
  EXPECT_TRUE(run_co(ctx_, follows.is_following(a.id, c.id)).value());
  auto both = run_co(ctx_, follows.common(client_, a.id, b.id));
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 1u);
  EXPECT_EQ(both->front().id, c.id);
  // A mirror that lost its sets is whole again after the rebuild.
  std::vector<std::string> keys{Follows::key(a.id), Follows::key(b.id)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
  EXPECT_TRUE(run_co(ctx_, follows.common(client_, a.id, b.id)).value().empty());
  auto st = run_co(ctx_, follows.rebuild_mirror(client_), 60s);
  ASSERT_TRUE(st);
  EXPECT_GE(st->pairs, 2u);
  EXPECT_EQ(run_co(ctx_, follows.common(client_, a.id, b.id)).value().size(), 1u);
  ASSERT_TRUE(run_co(ctx_, follows.unfollow(client_, a.id, c.id)));
  EXPECT_FALSE(run_co(ctx_, follows.is_following(a.id, c.id)).value());
  EXPECT_TRUE(run_co(ctx_, follows.common(client_, a.id, b.id)).value().empty());
}

TEST_F(SocialEngines, VisitorCountsPerDayAndUnion) {
  // Far-future days nobody else writes to; the process id keeps runs apart.
  int year = 2200 + ::getpid() % 500;
  core::Date d1{year, 1, 1}, d2{year, 1, 2}, d3{year, 1, 3};
  ASSERT_TRUE(run_co(ctx_, client_.exec(redis::Request::keyed(1, "PFADD", uv_key(d1), "a", "b"))));
  ASSERT_TRUE(
      run_co(ctx_, client_.exec(redis::Request::keyed(1, "PFADD", uv_key(d2), "b", "c", "d"))));
  EXPECT_EQ(run_co(ctx_, count_visitors(client_, d2)).value(), 3);
  auto range = run_co(ctx_, count_visitors(client_, d1, d3));
  ASSERT_TRUE(range);
  EXPECT_EQ(range->per_day, (std::vector<int64_t>{2, 3, 0}));
  EXPECT_EQ(range->total, 4);
  std::vector<std::string> keys{uv_key(d1), uv_key(d2)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

TEST_F(SocialEngines, CreatedShopIsInTheFilterTheGeoIndexAndNearbySearch) {
  db::ShopRepository rows(pool_);
  Shops shops(*this, "shoptest", [&rows](std::string id) -> asio::awaitable<Result<cache::Loaded>> {
    auto row = co_await rows.find(std::stoll(id));
    if (!row) co_return row.error();
    if (!*row) co_return cache::Loaded();
    co_return cache::Loaded("{\"name\":\"" + (*row)->name + "\"}");
  });
  auto& [_, cache, bloom, catalog] = shops;
  // A point far from the seed data (which is all near 120.1, 30.3).
  double x = 10 + (::getpid() % 1000) / 100.0, y = 10.5;
  shop::NewShop shop;
  shop.fields = {{"name", std::string("engine shop")}, {"type_id", int64_t{1}}, {"x", x}, {"y", y}};
  shop.type_id = 1;
  shop.x = x;
  shop.y = y;
  auto id = run_co(ctx_, catalog.create(0, *redis_, std::move(shop)));
  ASSERT_TRUE(id);
  EXPECT_TRUE(run_co(ctx_, bloom.might_contain(*redis_, std::to_string(*id))).value());
  auto near = run_co(ctx_, catalog.nearby(0, *redis_, 1, x, y, 5000, 0, 5));
  ASSERT_TRUE(near);
  ASSERT_EQ(near->size(), 1u);
  EXPECT_EQ(near->front().json, "{\"name\":\"engine shop\"}");
  EXPECT_LT(near->front().distance_m, 1.0);
  // Another type's index does not have it.
  EXPECT_TRUE(run_co(ctx_, catalog.nearby(0, *redis_, 2, x, y, 5000, 0, 5)).value().empty());
  std::vector<std::string> keys{bloom.key()};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

// The start-up load against a concurrent move: a load that read the rows before an update must
// not write them after it (it would put the shop back at its old place, or, when its stale pass
// runs, take it out of its new type's index). The update bumps the generation atomically with
// its own index writes, and the load's writes check it.
TEST_F(SocialEngines, AGeoLoadThatReadRowsBeforeAMoveCannotUndoIt) {
  Shops parts(*this, "geotest");
  auto& [shops, cache, bloom, catalog] = parts;
  double x = 11 + (::getpid() % 1000) / 100.0, y = 11.5;
  shop::NewShop shop;
  shop.fields = {{"name", std::string("moving shop")}, {"type_id", int64_t{1}}, {"x", x}, {"y", y}};
  shop.type_id = 1;
  shop.x = x;
  shop.y = y;
  auto id = run_co(ctx_, catalog.create(0, *redis_, std::move(shop)));
  ASSERT_TRUE(id);
  std::string member = std::to_string(*id);

  // The load's first step: the generation, then the rows (the shop still in type 1 at x).
  auto generation = run_co(ctx_, cache::geo_generation(*redis_));
  ASSERT_TRUE(generation);
  auto rows = run_co(ctx_, shops.all_locations());
  ASSERT_TRUE(rows);
  // The move lands now: type 2, two degrees east.
  db::ShopFields moved{{"type_id", int64_t{2}}, {"x", x + 2}};
  ASSERT_TRUE(run_co(ctx_, catalog.update(0, *redis_, *id, moved)).value());
  // The load's writes from its old rows are refused, and the index keeps the move.
  std::vector<redis::GeoMember> old_place{{member, x, y}};
  auto add = run_co(ctx_, cache::add_places_if(*redis_, *generation, 1, old_place));
  ASSERT_FALSE(add);
  EXPECT_EQ(add.error(), Errc::kConflict);
  auto stale = run_co(ctx_, cache::remove_stale_places(*redis_, *rows, {1, 2}, *generation));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), Errc::kConflict);
  EXPECT_FALSE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(1), member)).value());
  EXPECT_TRUE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(2), member)).value());
  // A whole load started now (after the move) writes, and agrees with the move.
  auto loaded = run_co(ctx_, catalog.build_geo_index(*redis_));
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_FALSE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(1), member)).value());
  EXPECT_TRUE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(2), member)).value());
  std::vector<std::string> keys{bloom.key()};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

// A create whose Redis half fails (here: the type's geo key is not a geo index, so GEOADD gets
// WRONGTYPE) leaves no row: the answer is "unavailable", and a retry creates exactly one shop.
TEST_F(SocialEngines, ACreateWhoseIndexingFailsLeavesNoRowAndARetryCreatesOne) {
  Shops parts(*this, "undotest");
  auto& [shops, cache, bloom, catalog] = parts;
  const int64_t type = 900'000 + ::getpid() % 100'000;  // a type no other shop has
  const std::string name = "undone shop " + std::to_string(::getpid());
  auto make = [&] {
    shop::NewShop shop;
    shop.fields = {{"name", name}, {"type_id", type}, {"x", 12.5}, {"y", 12.5}};
    shop.type_id = type;
    shop.x = shop.y = 12.5;
    return shop;
  };
  auto rows_named = [&] {
    db::Params p;
    p.emplace_back(name);
    auto r = run_co(ctx_, pool_.query("SELECT id FROM tb_shop WHERE name = ?", std::move(p)));
    EXPECT_TRUE(r);
    return r ? r->size() : size_t{99};
  };
  ASSERT_TRUE(run_co(ctx_, redis::set(*redis_, cache::shop_geo_key(type), "not a geo index")));
  auto refused = run_co(ctx_, catalog.create(0, *redis_, make()));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), Errc::kUnavailable);
  EXPECT_EQ(rows_named(), 0u);

  std::vector<std::string> geo{cache::shop_geo_key(type)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, geo)));
  auto id = run_co(ctx_, catalog.create(0, *redis_, make()));
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(rows_named(), 1u);
  EXPECT_TRUE(
      run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(type), std::to_string(*id))).value());
  EXPECT_TRUE(run_co(ctx_, shops.remove(*id)).value());
  std::vector<std::string> keys{bloom.key(), cache::shop_geo_key(type)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

// An update whose index write fails after the commit answers "unavailable" (not a server
// error), and the same update again puts the index right.
TEST_F(SocialEngines, AnUpdateWhoseIndexingFailsIsUnavailableAndTheSameUpdateRepairsIt) {
  Shops parts(*this, "redotest");
  auto& [shops, cache, bloom, catalog] = parts;
  const int64_t type = 800'000 + ::getpid() % 100'000;
  shop::NewShop shop;
  shop.fields = {
      {"name", std::string("redone shop")}, {"type_id", int64_t{1}}, {"x", 13.5}, {"y", 13.5}};
  shop.type_id = 1;
  shop.x = shop.y = 13.5;
  auto id = run_co(ctx_, catalog.create(0, *redis_, std::move(shop)));
  ASSERT_TRUE(id);
  std::string member = std::to_string(*id);

  ASSERT_TRUE(run_co(ctx_, redis::set(*redis_, cache::shop_geo_key(type), "not a geo index")));
  db::ShopFields moved{{"type_id", type}};
  auto first = run_co(ctx_, catalog.update(0, *redis_, *id, moved));
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), Errc::kUnavailable);
  EXPECT_EQ(run_co(ctx_, shops.find(*id)).value()->type_id, type);  // committed
  EXPECT_TRUE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(1), member)).value());

  std::vector<std::string> geo{cache::shop_geo_key(type)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, geo)));
  ASSERT_TRUE(run_co(ctx_, catalog.update(0, *redis_, *id, moved)).value());
  EXPECT_FALSE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(1), member)).value());
  EXPECT_TRUE(run_co(ctx_, redis::zscore(*redis_, cache::shop_geo_key(type), member)).value());
  EXPECT_TRUE(run_co(ctx_, shops.remove(*id)).value());
  std::vector<std::string> keys{bloom.key(), cache::shop_geo_key(type)};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

// A visitor log under the name of a version before the {uv} tag is merged into the new name
// (a visitor in both counts once) and removed.
TEST_F(SocialEngines, VisitorLogsUnderTheOldNamesAreAdopted) {
  core::Date day{2001, 2, 3};
  std::string tagged = uv_key(day);
  std::string old = "uv:20010203";
  ASSERT_EQ(tagged, "{uv}:20010203");
  auto pfadd = [&](const std::string& key, std::vector<std::string> visitors) {
    redis::Request r = redis::Request::keyed(1, "PFADD", key);
    r.args.insert(r.args.end(), visitors.begin(), visitors.end());
    ASSERT_TRUE(run_co(ctx_, client_.exec(std::move(r))));
  };
  pfadd(old, {"a", "b", "c"});
  pfadd(tagged, {"c", "d"});
  // Any instance starting on these stores meanwhile may adopt it first: same end state.
  ASSERT_TRUE(run_co(ctx_, adopt_untagged_visitor_logs(client_)));
  EXPECT_EQ(run_co(ctx_, count_visitors(client_, day)).value(), 4);
  EXPECT_EQ(run_co(ctx_, redis::get(*redis_, old)).value(), std::nullopt);
  std::vector<std::string> keys{tagged};
  ASSERT_TRUE(run_co(ctx_, redis::del(*redis_, keys)));
}

}  // namespace
}  // namespace surge::social
