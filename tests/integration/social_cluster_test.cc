// The social engines on a real 3-master, 3-replica Redis Cluster of the suite's own (MariaDB is
// the shared fixture's): sessions, login codes, likes, follows and common follows, the feed
// fan-out, check-ins and visitor counts, through a ClusterClient. Every case picks users, blogs
// and days whose keys land on different masters (and says so with redis::key_slot), so a
// command that spans two slots would answer CROSSSLOT and fail it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "common/per_worker.h"
#include "core/calendar.h"
#include "db/blog_repository.h"
#include "db/follow_repository.h"
#include "db/pool.h"
#include "db/user_repository.h"
#include "redis/cluster.h"
#include "redis/slot.h"
#include "social/blogs.h"
#include "social/check_ins.h"
#include "social/feed.h"
#include "social/follows.h"
#include "social/likes.h"
#include "social/login.h"
#include "social/visitors.h"
#include "support/cluster.h"
#include "support/drive.h"
#include "support/local_time.h"
#include "support/stores.h"

namespace surge::social {
namespace {

using namespace std::chrono_literals;
using test::run_co;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new test::ClusterEnvironment);

class SocialOnCluster : public test::OnCluster {
 protected:
  SocialOnCluster() : pool_(test::stores().db), clock_(test::local_noon(2031, 2, 27)) {}
  ~SocialOnCluster() override { pool_.stop(); }

  // How many masters the keys are spread over.
  size_t masters_of(const std::vector<std::string>& keys) const {
    std::set<std::string> masters;
    for (const auto& k : keys) masters.insert(master_of(k));
    return masters.size();
  }
  // A user of the shared database, distinct per process and per `n`.
  db::User user(int n) {
    std::string phone = "137" + std::to_string(10000000 + (::getpid() * 1000 + n) % 90000000);
    auto u = run_co(ctx_, users_.find_or_create(phone, "clustered" + std::to_string(n)));
    EXPECT_TRUE(u);
    return u.value();
  }
  // Users (from `first` on) whose keys under `key_of` land on `count` different masters.
  template <class KeyOf>
  std::vector<db::User> users_on_distinct_masters(int first, size_t count, KeyOf key_of) {
    std::vector<db::User> picked;
    std::set<std::string> masters;
    for (int n = first; n < first + 60 && picked.size() < count; ++n) {
      db::User u = user(n);
      if (masters.insert(master_of(key_of(u.id))).second) picked.push_back(u);
    }
    EXPECT_EQ(picked.size(), count) << "no users on " << count << " masters";
    return picked;
  }

  db::Pool pool_;
  ManualClock clock_;
  db::UserRepository users_{pool_};
  db::BlogRepository blogs_{pool_};
  db::FollowRepository follows_{pool_};
};

TEST_F(SocialOnCluster, SessionsOpenFindAndCloseAcrossMasters) {
  Sessions sessions(10min);
  const int64_t uid = 700000 + ::getpid() % 100000;
  // Sessions of one user until their hashes sit on at least two masters (the token is random).
  std::vector<std::string> tokens, keys{Sessions::user_key(uid)};
  while (tokens.size() < 20 && (tokens.size() < 3 || masters_of(keys) < 3)) {
    auto token = run_co(ctx_, sessions.open(*client_, {uid, "nick", "/i.png"}));
    ASSERT_TRUE(token) << client_->last_error();
    tokens.push_back(*token);
    keys.push_back(Sessions::key(*token));
  }
  ASSERT_EQ(masters_of(keys), 3u) << "sessions and their index on every master";
  for (const auto& t : tokens) {
    auto found = run_co(ctx_, sessions.find_and_renew(*client_, t));
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, uid);
    EXPECT_EQ((*found)->nick_name, "nick");
    EXPECT_EQ((*found)->icon, "/i.png");
  }
  ASSERT_TRUE(run_co(ctx_, sessions.close(*client_, tokens.front())));
  auto gone = run_co(ctx_, sessions.find_and_renew(*client_, tokens.front()));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto closed = run_co(ctx_, sessions.close_all(*client_, uid));
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, static_cast<int64_t>(tokens.size()) - 1);
  for (const auto& t : tokens)
    EXPECT_FALSE(run_co(ctx_, sessions.find_and_renew(*client_, t)).value());
}

TEST_F(SocialOnCluster, ALoginCodeIsIssuedRedeemedOnceAndOpensASession) {
  Sessions sessions(10min);
  LoginCodes codes(CodeLimits{}, clock_);
  Login login(codes, sessions, users_);
  std::string phone = "136" + std::to_string(10000000 + ::getpid() % 90000000);
  std::string client = "cluster-" + std::to_string(::getpid());
  // The redeem script's two keys share the phone's slot; the send limits are spread.
  EXPECT_EQ(redis::key_slot("login:code:{" + phone + "}"),
            redis::key_slot("login:code:tries:{" + phone + "}"));
  auto first = run_co(ctx_, codes.issue(*client_, phone, client));
  ASSERT_TRUE(first) << client_->last_error();
  ASSERT_EQ(first->code.size(), 6u);
  auto refused = run_co(ctx_, codes.issue(*client_, phone, client));  // the minute's limit
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->code.empty());
  EXPECT_GT(refused->retry_after_ms, 0);
  std::string wrong = first->code == "000000" ? "111111" : "000000";
  EXPECT_EQ(run_co(ctx_, codes.redeem(*client_, phone, wrong)).value(), Redeemed::kMismatch);
  auto token = run_co(ctx_, login.log_in(*client_, phone, first->code));
  ASSERT_TRUE(token);
  ASSERT_TRUE(*token);
  auto who = run_co(ctx_, sessions.find_and_renew(*client_, **token));
  ASSERT_TRUE(who && *who);
  auto row = run_co(ctx_, users_.find((*who)->id));
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->phone, phone);
  EXPECT_EQ(run_co(ctx_, codes.redeem(*client_, phone, first->code)).value(), Redeemed::kNoCode);
}

TEST_F(SocialOnCluster, LikesOfSeveralUsersOnBlogsOnEveryMaster) {
  Likes likes(blogs_, users_, clock_);
  db::User author = user(1);
  std::vector<db::User> readers{user(2), user(3), user(4)};
  // Blogs until one sits on each master.
  std::map<std::string, int64_t> blog_on;
  for (int i = 0; i < 60 && blog_on.size() < 3; ++i) {
    auto id = run_co(ctx_, blogs_.insert({1, author.id, "clustered likes", "", "body"}));
    ASSERT_TRUE(id);
    blog_on.emplace(master_of(Likes::key(*id)), *id);
  }
  ASSERT_EQ(blog_on.size(), 3u);
  std::vector<int64_t> blogs;
  for (const auto& [master, id] : blog_on) blogs.push_back(id);
  // Blog 0: all three readers, in order; blog 1: reader 0 only; blog 2: liked and unliked.
  for (const auto& r : readers) {
    clock_.advance(1ms);
    ASSERT_EQ(run_co(ctx_, likes.toggle(*client_, blogs[0], r.id)).value(), LikeOutcome::kToggled);
  }
  ASSERT_EQ(run_co(ctx_, likes.toggle(*client_, blogs[1], readers[0].id)).value(),
            LikeOutcome::kToggled);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(run_co(ctx_, likes.toggle(*client_, blogs[2], readers[1].id)).value(),
              LikeOutcome::kToggled);
  }
  EXPECT_EQ(run_co(ctx_, likes.liked_by(*client_, blogs, readers[0].id)).value(),
            (std::vector<bool>{true, true, false}));
  EXPECT_EQ(run_co(ctx_, likes.liked_by(*client_, blogs, readers[1].id)).value(),
            (std::vector<bool>{true, false, false}));
  auto likers = run_co(ctx_, likes.first_likers(*client_, blogs[0]));
  ASSERT_TRUE(likers);
  ASSERT_EQ(likers->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*likers)[i].id, readers[i].id);
  for (auto [blog, count] :
       {std::pair{blogs[0], 3}, std::pair{blogs[1], 1}, std::pair{blogs[2], 0}}) {
    EXPECT_EQ(run_co(ctx_, blogs_.find(blog)).value()->liked, count);
  }
}

TEST_F(SocialOnCluster, CommonFollowsOfUsersOnDifferentMastersAndTheMirrorRebuild) {
  Follows follows(follows_, users_);
  auto pair = users_on_distinct_masters(10, 2, [](int64_t id) { return Follows::key(id); });
  ASSERT_EQ(pair.size(), 2u);
  const db::User a = pair[0], b = pair[1];
  ASSERT_TRUE(crossslot("SINTER", Follows::key(a.id), Follows::key(b.id)));
  db::User c = user(70), d = user(71), e = user(72);
  for (const auto& target : {c, d, e}) {
    ASSERT_EQ(run_co(ctx_, follows.follow(*client_, a.id, target.id)).value(),
              FollowOutcome::kDone);
  }
  for (const auto& target : {d, e}) {
    ASSERT_EQ(run_co(ctx_, follows.follow(*client_, b.id, target.id)).value(),
              FollowOutcome::kDone);
  }
  auto ids = [](const std::vector<db::User>& users) {
    std::vector<int64_t> out;
    for (const auto& u : users) out.push_back(u.id);
    return out;
  };
  std::vector<int64_t> both{d.id, e.id};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(ids(run_co(ctx_, follows.common(*client_, a.id, b.id)).value()), both);
  ASSERT_TRUE(run_co(ctx_, follows.unfollow(*client_, b.id, d.id)));
  EXPECT_EQ(ids(run_co(ctx_, follows.common(*client_, a.id, b.id)).value()),
            std::vector<int64_t>{e.id});

  // The rebuild finds stale sets on every master (not only the first one a keyless command
  // goes to) and restores lost ones wherever they live.
  const std::string first_master = client_->slot_map().masters().front().to_string();
  auto stale = users_on_distinct_masters(100, 3, [](int64_t id) { return Follows::key(id); });
  ASSERT_EQ(stale.size(), 3u);
  std::vector<redis::Request> plant;
  for (const auto& s : stale) {
    ASSERT_TRUE(run_co(ctx_, follows_.unfollow(s.id, c.id)));  // none of them follows anyone
    plant.push_back(redis::Request::keyed(1, "SADD", Follows::key(s.id), c.id));
  }
  plant.push_back(redis::Request::keyed(1, "DEL", Follows::key(a.id)));
  ASSERT_TRUE(run_co(ctx_, client_->exec_all(std::move(plant))));
  EXPECT_TRUE(run_co(ctx_, follows.common(*client_, a.id, b.id)).value().empty());
  auto st = run_co(ctx_, follows.rebuild_mirror(*client_), 60s);
  ASSERT_TRUE(st) << client_->last_error();
  EXPECT_GE(st->dropped, 3u);
  for (const auto& s : stale) {
    auto left = run_co(ctx_, client_->exec(redis::Request::keyed(1, "EXISTS", Follows::key(s.id))));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->integer, 0) << "stale set on " << master_of(Follows::key(s.id))
                                << " (first master " << first_master << ")";
  }
  EXPECT_EQ(ids(run_co(ctx_, follows.common(*client_, a.id, b.id)).value()),
            std::vector<int64_t>{e.id});
}

TEST_F(SocialOnCluster, APublishedBlogReachesFollowersOnEveryMaster) {
  Follows follows(follows_, users_);
  Likes likes(blogs_, users_, clock_);
  Feed feed(FeedOptions{.keep = 1000, .page_size = 5}, follows_, clock_);
  Blogs blogs(blogs_, users_, likes, feed);
  db::User author = user(200);
  auto fans = users_on_distinct_masters(201, 3, [](int64_t id) { return Feed::key(id); });
  ASSERT_EQ(fans.size(), 3u);
  for (const auto& fan : fans) {
    ASSERT_EQ(run_co(ctx_, follows.follow(*client_, fan.id, author.id)).value(),
              FollowOutcome::kDone);
  }
  clock_.advance(1ms);
  auto id = run_co(ctx_, blogs.publish(*client_, {1, author.id, "to every master", "", "body"}));
  ASSERT_TRUE(id && *id) << client_->last_error();
  for (const auto& fan : fans) {
    auto page = run_co(ctx_, blogs.following(*client_, fan.id, clock_.now_ms() + 1, 0));
    ASSERT_TRUE(page && *page) << "fan " << fan.id << " on " << master_of(Feed::key(fan.id));
    ASSERT_FALSE((*page)->items.empty());
    EXPECT_EQ((*page)->items.front().blog.id, **id);
    EXPECT_EQ((*page)->items.front().liked, std::optional<bool>(false));
    EXPECT_EQ((*page)->next.min_time, clock_.now_ms());
  }
}

TEST_F(SocialOnCluster, AStreakAcrossMonthsOnDifferentMasters) {
  CheckIns check_ins(clock_);
  // A user whose February and March bitmaps sit on different masters.
  int64_t user = 910000000 + ::getpid() % 1000000;
  while (master_of(CheckIns::key(user, {2031, 2, 1})) ==
         master_of(CheckIns::key(user, {2031, 3, 1}))) {
    ++user;
  }
  // 27 and 28 February, 1 and 2 March; the 3rd is missed.
  for (int day = 0; day < 4; ++day) {
    ASSERT_TRUE(run_co(ctx_, check_ins.sign(*client_, user)));
    ASSERT_TRUE(run_co(ctx_, check_ins.sign(*client_, user)));
    clock_.advance(24h);
  }
  clock_.advance(-24h);
  EXPECT_EQ(run_co(ctx_, check_ins.streak(*client_, user)).value(), 4);
  clock_.advance(48h);
  EXPECT_EQ(run_co(ctx_, check_ins.streak(*client_, user)).value(), 0);
}

TEST_F(SocialOnCluster, VisitorsRecordedAndCountedOverARangeOfDays) {
  int year = 2300 + ::getpid() % 500;
  core::Date d1{year, 1, 1}, d2{year, 1, 2}, d3{year, 1, 3};
  // Every day's log in one slot: the range's union is one PFCOUNT there, never CROSSSLOT.
  EXPECT_EQ(redis::key_slot(uv_key(d1)), redis::key_slot(uv_key(d3)));
  // Recorded as the route wrapper does, on this thread as worker 0 of one.
  this_worker::enter(0);
  UvRecorder recorder({{ctx_.get_executor(), client_.get()}});
  // Until a day's log counts `n` (its batches land one reply at a time).
  auto count_reaches = [&](core::Date day, int64_t n) {
    int64_t seen = -1;
    for (int i = 0; i < 200 && seen != n; ++i) {
      test::drive_for(ctx_, 5ms);
      seen = run_co(ctx_, count_visitors(*client_, day)).value();
    }
    return seen;
  };
  int64_t noon = test::local_noon(year, 1, 1);
  for (const char* v : {"a", "b", "a"}) recorder.record(v, noon);
  EXPECT_EQ(count_reaches(d1, 2), 2);
  for (const char* v : {"b", "c", "d"}) recorder.record(v, noon + 86400000);
  EXPECT_EQ(count_reaches(d2, 3), 3);
  this_worker::enter(static_cast<size_t>(-1));
  auto range = run_co(ctx_, count_visitors(*client_, d1, d3));
  ASSERT_TRUE(range) << client_->last_error();
  EXPECT_EQ(range->per_day, (std::vector<int64_t>{2, 3, 0}));
  EXPECT_EQ(range->total, 4);
}

}  // namespace
}  // namespace surge::social
