// The migration runner's parsing: file names, the key statements it understands, the bundle,
// and SchemaSnapshot's idea of an equivalent key. The runner itself is tested against MariaDB in
// tests/integration/migrate_test.cc.
#include "db/migrate.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace surge::db {
namespace {

TEST(MakeMigration, TakesVersionAndNameFromTheFileName) {
  auto m = make_migration("0012_user_roles.sql", "SELECT 1;\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version, 12);
  EXPECT_EQ(m->name, "user_roles");
  EXPECT_EQ(m->checksum.size(), 16u);
  EXPECT_NE(m->checksum, make_migration("0012_user_roles.sql", "SELECT 2;\n")->checksum);
}

TEST(MakeMigration, RejectsOtherNames) {
  EXPECT_FALSE(make_migration("12_roles.sql", ""));
  EXPECT_FALSE(make_migration("0012-roles.sql", ""));
  EXPECT_FALSE(make_migration("0012_roles.txt", ""));
  EXPECT_FALSE(make_migration("README.md", ""));
}

TEST(ParseAddKey, UniqueKeyWithIfNotExists) {
  auto k = parse_add_key(
      "ALTER TABLE tb_voucher_order ADD UNIQUE KEY IF NOT EXISTS uk_order_user_voucher "
      "(user_id, voucher_id);\n");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->table, "tb_voucher_order");
  EXPECT_EQ(k->name, "uk_order_user_voucher");
  EXPECT_TRUE(k->unique);
  EXPECT_EQ(k->columns, (std::vector<std::string>{"user_id", "voucher_id"}));
}

TEST(ParseAddKey, PlainIndexBackticksAndCase) {
  auto k = parse_add_key("alter table `tb_blog` add index `idx_blog_liked` ( `liked` )");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->table, "tb_blog");
  EXPECT_EQ(k->name, "idx_blog_liked");
  EXPECT_FALSE(k->unique);
  EXPECT_EQ(k->columns, (std::vector<std::string>{"liked"}));
}

TEST(ParseAddKey, OtherStatementsAreNotKeys) {
  EXPECT_FALSE(parse_add_key("ALTER TABLE tb_user ADD COLUMN role VARCHAR(16);"));
  EXPECT_FALSE(parse_add_key("CREATE TABLE t (id INT, KEY k (id));"));
  EXPECT_FALSE(parse_add_key("ALTER TABLE t ADD KEY k (name(10));"));
  EXPECT_FALSE(parse_add_key("ALTER TABLE t ADD KEY k (a), ADD KEY j (b);"));
}

TEST(Bundle, HoldsEveryFileOfTheFolderInStrictVersionOrder) {
  size_t files = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(SURGE_SOURCE_DIR) + "/sql/migrations")) {
    if (e.path().extension() == ".sql") {
      ++files;
      EXPECT_TRUE(make_migration(e.path().filename().string(), ""))
          << e.path() << " is not named NNNN_name.sql, so it is not bundled";
    }
  }
  const auto& all = bundled_migrations();
  EXPECT_EQ(all.size(), files);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1) << all[i].name << ": versions are 1, 2, ...";
  }
  EXPECT_EQ(latest_version(all), static_cast<int>(all.size()));
}

TEST(Bundle, EveryRequiredKeyIsAddedByAMigrationOrTheOriginalTables) {
  // uniqe_key_phone comes with the original's CREATE TABLE; the others from ADD UNIQUE KEY.
  for (const auto& required : required_keys()) {
    bool found = false;
    for (const auto& m : bundled_migrations()) {
      for (const auto& st : split_sql(m.text)) {
        auto k = parse_add_key(st.sql);
        if (k && k->table == required.key.table && k->columns == required.key.columns &&
            k->unique) {
          found = true;
        }
        if (st.sql.find("UNIQUE KEY " + required.key.name) != std::string::npos) found = true;
      }
    }
    EXPECT_TRUE(found) << describe(required.key);
  }
}

TEST(SchemaSnapshot, UniqueKeyMatchesAnyNameAndColumnOrder) {
  SchemaSnapshot s;
  s.tables = {"tb_follow"};
  s.indexes["tb_follow"] = {{"PRIMARY", true, {"id"}},
                            {"their_pair", true, {"follow_user_id", "user_id"}},
                            {"by_user", false, {"user_id", "create_time"}}};
  KeySpec pair{"tb_follow", "uk_follow_pair", {"user_id", "follow_user_id"}, true};
  ASSERT_NE(s.find(pair), nullptr);
  EXPECT_EQ(s.find(pair)->name, "their_pair");
  // A lookup on user_id is served by the index that starts with it.
  KeySpec lookup{"tb_follow", "idx_x", {"user_id"}, false};
  ASSERT_NE(s.find(lookup), nullptr);
  EXPECT_EQ(s.find(lookup)->name, "by_user");
  // A non-unique index never satisfies a unique key.
  KeySpec unique_user{"tb_follow", "uk_user", {"user_id", "create_time"}, true};
  EXPECT_EQ(s.find(unique_user), nullptr);
  EXPECT_EQ(s.primary_key("tb_follow"), "id");
  EXPECT_EQ(s.find({"tb_blog", "idx_blog_liked", {"liked"}, false}), nullptr);
}

}  // namespace
}  // namespace surge::db
