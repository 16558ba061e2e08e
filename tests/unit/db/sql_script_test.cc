// split_sql: how a migration or seed file is cut into statements, labelled by step, and given
// its resolution notes.
#include "db/sql_script.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace surge::db {
namespace {

TEST(SplitSql, EmptyInput) {
  EXPECT_TRUE(split_sql("").empty());
  EXPECT_TRUE(split_sql("\n\n  \n").empty());
  EXPECT_TRUE(split_sql("-- only a comment\n-- step: lonely\n").empty());
}

TEST(SplitSql, OneStatementPerSemicolonAtLineEnd) {
  auto st = split_sql("SELECT 1;\nSELECT 2;\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].sql, "SELECT 1;\n");
  EXPECT_EQ(st[1].sql, "SELECT 2;\n");
  EXPECT_EQ(st[0].step, "");
}

TEST(SplitSql, MultiLineStatementsKeepTheirLines) {
  auto st = split_sql(
      "CREATE TABLE t (\n"
      "  id INT,\n"
      "  name TEXT\n"
      ");\n"
      "INSERT INTO t VALUES\n"
      "  (1, 'a');\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].sql, "CREATE TABLE t (\n  id INT,\n  name TEXT\n);\n");
  EXPECT_EQ(st[1].sql, "INSERT INTO t VALUES\n  (1, 'a');\n");
}

TEST(SplitSql, SemicolonInsideALineDoesNotSplit) {
  auto st = split_sql("SELECT 'a;b', 1; SELECT 2\n;\n");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sql, "SELECT 'a;b', 1; SELECT 2\n;\n");
}

TEST(SplitSql, TrailingWhitespaceAfterSemicolonStillEnds) {
  auto st = split_sql("SELECT 1;  \t\r\nSELECT 2;\r\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].sql, "SELECT 1;  \t\r\n");
}

TEST(SplitSql, StepLabelsAttachToFollowingStatements) {
  auto st = split_sql(
      "SELECT 0;\n"
      "-- step: users\n"
      "INSERT INTO u VALUES (1);\n"
      "INSERT INTO u VALUES (2);\n"
      "-- step:   shops  \n"
      "INSERT INTO s VALUES (1);\n");
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].step, "");
  EXPECT_EQ(st[1].step, "users");
  EXPECT_EQ(st[2].step, "users");
  EXPECT_EQ(st[3].step, "shops");
  EXPECT_EQ(st[3].sql, "INSERT INTO s VALUES (1);\n");
}

TEST(SplitSql, StepLabelInsideAStatementAppliesToThatStatement) {
  // The label is read when the statement ends, so a label in its middle already counts.
  auto st = split_sql("INSERT INTO t\n-- step: late\nVALUES (1);\n");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].step, "late");
  EXPECT_EQ(st[0].sql, "INSERT INTO t\nVALUES (1);\n");
}

TEST(SplitSql, CommentsAreSkipped) {
  auto st = split_sql(
      "-- header comment\n"
      "  -- indented comment\n"
      "SELECT 1\n"
      "-- comment between lines\n"
      "FROM dual;\n"
      "--no space comment\n");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sql, "SELECT 1\nFROM dual;\n");
  EXPECT_EQ(st[0].sql.find("--"), std::string::npos);
}

TEST(SplitSql, BlankLinesBetweenStatementsAreDropped) {
  auto st = split_sql("\n\nSELECT 1;\n\n\nSELECT 2;\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].sql, "SELECT 1;\n");
  EXPECT_EQ(st[1].sql, "SELECT 2;\n");
}

TEST(SplitSql, TrailingStatementWithoutSemicolon) {
  auto st = split_sql("SELECT 1;\n-- step: tail\nSELECT 2");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[1].step, "tail");
  EXPECT_EQ(st[1].sql, "SELECT 2\n");
}

TEST(SplitSql, LastLineWithoutNewline) {
  auto st = split_sql("SELECT 1;");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sql, "SELECT 1;\n");
}

TEST(SplitSql, ResolveNotesBelongToTheNextStatementOnly) {
  auto st = split_sql(
      "-- step: a\n"
      "-- resolve: first line\n"
      "-- a plain comment\n"
      "-- resolve:   second line\n"
      "ALTER TABLE t ADD UNIQUE KEY k (a);\n"
      "SELECT 2;\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].resolve, (std::vector<std::string>{"first line", "second line"}));
  EXPECT_TRUE(st[1].resolve.empty());
}

TEST(SplitSql, FirstMigrationSplitsIntoTheElevenTables) {
  std::ifstream in(std::string(SURGE_SOURCE_DIR) + "/sql/migrations/0001_original_tables.sql");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto st = split_sql(ss.str());
  size_t creates = 0;
  for (const auto& s : st) {
    EXPECT_EQ(s.sql.find("\n-- "), std::string::npos) << s.sql;
    if (s.sql.find("CREATE TABLE") != std::string::npos) ++creates;
  }
  EXPECT_EQ(creates, 11u);
}

}  // namespace
}  // namespace surge::db
