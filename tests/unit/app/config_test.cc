// MariaDB DSN parsing: each accepted form, and every rejection leaving the options untouched.
#include "app/config.h"

#include <gtest/gtest.h>

namespace surge::app {
namespace {

// Recognisable values so a partial write by a failed parse would show.
db::Options sentinel() {
  db::Options o;
  o.host = "orig-host";
  o.port = 1111;
  o.socket = "";
  o.user = "orig-user";
  o.password = "orig-pass";
  o.database = "orig-db";
  return o;
}

void expect_untouched(const db::Options& o) {
  db::Options s = sentinel();
  EXPECT_EQ(o.host, s.host);
  EXPECT_EQ(o.port, s.port);
  EXPECT_EQ(o.socket, s.socket);
  EXPECT_EQ(o.user, s.user);
  EXPECT_EQ(o.password, s.password);
  EXPECT_EQ(o.database, s.database);
}

TEST(ApplyMysqlDsn, FullForm) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://surge:secret@10.0.0.5:3307/hmdp", o));
  EXPECT_EQ(o.user, "surge");
  EXPECT_EQ(o.password, "secret");
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 3307);
  EXPECT_EQ(o.database, "hmdp");
  EXPECT_EQ(o.socket, "");
}

TEST(ApplyMysqlDsn, WithoutPasswordClearsIt) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://reader@db.local:3306/shop", o));
  EXPECT_EQ(o.user, "reader");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.host, "db.local");
  EXPECT_EQ(o.port, 3306);
  EXPECT_EQ(o.database, "shop");
}

TEST(ApplyMysqlDsn, EmptyPasswordAfterColon) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://root:@h:1/d", o));
  EXPECT_EQ(o.user, "root");
  EXPECT_EQ(o.password, "");
}

TEST(ApplyMysqlDsn, WithoutCredentialsKeepsThem) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://h2:4000/other", o));
  EXPECT_EQ(o.user, "orig-user");
  EXPECT_EQ(o.password, "orig-pass");
  EXPECT_EQ(o.host, "h2");
  EXPECT_EQ(o.port, 4000);
  EXPECT_EQ(o.database, "other");
}

TEST(ApplyMysqlDsn, WithoutPortKeepsIt) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://u:p@somehost/db", o));
  EXPECT_EQ(o.host, "somehost");
  EXPECT_EQ(o.port, 1111);
  EXPECT_EQ(o.database, "db");
}

TEST(ApplyMysqlDsn, UrlEscapedPassword) {
  db::Options o = sentinel();
  // '@', ':' and '/' must be escaped inside the password; '%' too.
  ASSERT_TRUE(apply_mysql_dsn("mysql://u:p%40ss%3Aw%2Frd%25@h:3306/db", o));
  EXPECT_EQ(o.password, "p@ss:w/rd%");
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.host, "h");
}

TEST(ApplyMysqlDsn, UnescapedAtInPasswordUsesLastAt) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://u:a@b@h:3306/db", o));
  EXPECT_EQ(o.password, "a@b");
  EXPECT_EQ(o.host, "h");
}

TEST(ApplyMysqlDsn, SocketQuery) {
  db::Options o = sentinel();
  ASSERT_TRUE(
      apply_mysql_dsn("mysql://surge:surge@localhost/hmdp?socket=/run/mysqld/mysqld.sock", o));
  EXPECT_EQ(o.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.database, "hmdp");
}

TEST(ApplyMysqlDsn, SocketWithoutHost) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://surge@/hmdp?socket=%2Ftmp%2Fm%20y.sock", o));
  EXPECT_EQ(o.socket, "/tmp/m y.sock");
  EXPECT_EQ(o.host, "orig-host");
  EXPECT_EQ(o.user, "surge");
  EXPECT_EQ(o.database, "hmdp");
}

TEST(ApplyMysqlDsn, RejectsBadScheme) {
  for (const char* dsn :
       {"postgres://u:p@h:1/d", "mysql:/u:p@h:1/d", "MYSQL://u:p@h:1/d", "u:p@h:1/d", ""}) {
    db::Options o = sentinel();
    EXPECT_FALSE(apply_mysql_dsn(dsn, o)) << dsn;
    expect_untouched(o);
  }
}

TEST(ApplyMysqlDsn, RejectsMissingDatabase) {
  for (const char* dsn : {"mysql://u:p@h:3306", "mysql://u:p@h:3306/", "mysql://h"}) {
    db::Options o = sentinel();
    EXPECT_FALSE(apply_mysql_dsn(dsn, o)) << dsn;
    expect_untouched(o);
  }
}

TEST(ApplyMysqlDsn, RejectsBadPort) {
  for (const char* dsn :
       {"mysql://u:p@h:0/d", "mysql://u:p@h:65536/d", "mysql://u:p@h:-1/d", "mysql://u:p@h:abc/d",
        "mysql://u:p@h:/d", "mysql://u:p@h:+80/d", "mysql://u:p@h:99999999999999999999/d"}) {
    db::Options o = sentinel();
    EXPECT_FALSE(apply_mysql_dsn(dsn, o)) << dsn;
    expect_untouched(o);
  }
}

TEST(ApplyMysqlDsn, AcceptsPortBounds) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://h:1/d", o));
  EXPECT_EQ(o.port, 1);
  ASSERT_TRUE(apply_mysql_dsn("mysql://h:65535/d", o));
  EXPECT_EQ(o.port, 65535);
}

TEST(ApplyMysqlDsn, RejectsEmptyUserAndBadEscapes) {
  for (const char* dsn :
       {"mysql://:p@h:1/d", "mysql://u:%zz@h:1/d", "mysql://u%4@h:1/d",
        "mysql://u:p@h:1/d?socket=%", "mysql://u:p@h:1/d?port=5", "mysql://u:p@:1/d"}) {
    db::Options o = sentinel();
    EXPECT_FALSE(apply_mysql_dsn(dsn, o)) << dsn;
    expect_untouched(o);
  }
}

TEST(ApplyMysqlDsn, FailureAfterEarlierSuccessKeepsTheEarlierValues) {
  db::Options o = sentinel();
  ASSERT_TRUE(apply_mysql_dsn("mysql://a:b@c:2/e", o));
  EXPECT_FALSE(apply_mysql_dsn("mysql://x:y@z:0/w", o));
  EXPECT_EQ(o.user, "a");
  EXPECT_EQ(o.password, "b");
  EXPECT_EQ(o.host, "c");
  EXPECT_EQ(o.port, 2);
  EXPECT_EQ(o.database, "e");
}

}  // namespace
}  // namespace surge::app
