// /upload/** against a real `surge serve` with a private upload root: images stored with the
// original's layout, wrong types and sizes refused, deletes only by the uploader or the
// administrator (also as the original blog editor sends them, with /imgs in front), deletes that
// try to leave the root refused without touching anything, and a full upload folder answered with a
// clear error.
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/upload.h"
#include "support/api.h"
#include "support/stores.h"

namespace surge::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string multipart(const std::string& field, const std::string& filename,
                      const std::string& type, const std::string& data) {
  return "--BOUNDARY\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" +
         filename + "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n--BOUNDARY--\r\n";
}

const std::string kForm = "Content-Type: multipart/form-data; boundary=BOUNDARY\r\n";
const std::string kPng = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(200, 'p');

class UploadApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/surge-upload-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    root_ = dir_ / "imgs";
    server_ = std::make_unique<SurgeServer>(api_flags(
        {"--upload-dir", root_.string(), "--upload-max", "4096", "--upload-per-minute", "100000"}));
    owner_ = login(port(), unique_phone());
    other_ = login(port(), unique_phone());
  }
  static void TearDownTestSuite() {
    server_.reset();
    fs::remove_all(dir_);
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_FALSE(owner_.empty());
    ASSERT_FALSE(other_.empty());
  }
  static uint16_t port() { return server_->port(); }
  static ApiResult upload(const std::string& body, const std::string& headers = kForm,
                          const std::string& token = owner_) {
    return api(port(), "POST", "/upload/blog", token, body, headers);
  }
  static ApiResult remove(const std::string& name, const std::string& token = owner_) {
    return api(port(), "GET", "/upload/blog/delete?name=" + name, token);
  }
  // Uploads kPng as the owner; returns the stored name (empty with a failure).
  static std::string stored_png() {
    auto r = upload(multipart("file", "cat.png", "image/png", kPng));
    if (r.status != 200) {
      ADD_FAILURE() << r.status << " " << r.body;
      return "";
    }
    return std::string(r.json().at("data").as_string());
  }
  static std::unique_ptr<SurgeServer> server_;
  static fs::path dir_, root_;
  static std::string owner_, other_;
};
std::unique_ptr<SurgeServer> UploadApiTest::server_;
fs::path UploadApiTest::dir_, UploadApiTest::root_;
std::string UploadApiTest::owner_, UploadApiTest::other_;

TEST_F(UploadApiTest, StoresImagesWithTheOriginalLayout) {
  auto r = upload(multipart("file", "cat.jpeg", "image/png", kPng));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string name(r.json().at("data").as_string());
  EXPECT_TRUE(core::is_blog_image_path(name)) << name;
  EXPECT_TRUE(name.ends_with(".png")) << "the extension follows the content, not the name";
  EXPECT_EQ(slurp(root_ / name.substr(1)), kPng);

  auto gone = remove(name);
  EXPECT_EQ(gone.body, R"({"success":true})");
  EXPECT_FALSE(fs::exists(root_ / name.substr(1)));
  // Deleting again is fine, as in the original.
  EXPECT_EQ(remove(name).body, R"({"success":true})");
}

TEST_F(UploadApiTest, UploadAndDeleteNeedASession) {
  auto anonymous = upload(multipart("file", "cat.png", "image/png", kPng), kForm, "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  std::string name = stored_png();
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(remove(name, "").status, 401);
  EXPECT_EQ(remove("/imgs" + name, "").status, 401);
  EXPECT_EQ(slurp(root_ / name.substr(1)), kPng);
}

// The request blog-edit.html sends for its × button: the name as displayed, /imgs in front.
TEST_F(UploadApiTest, TheOriginalEditorDeletesItsOwnPictureWithTheImgsPrefix) {
  std::string name = stored_png();
  ASSERT_FALSE(name.empty());
  auto r = remove("/imgs" + name);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success":true})");
  EXPECT_FALSE(fs::exists(root_ / name.substr(1)));
}

TEST_F(UploadApiTest, NobodyButTheUploaderDeletes) {
  std::string name = stored_png();
  ASSERT_FALSE(name.empty());
  for (const std::string& asked : {name, "/imgs" + name}) {
    auto r = remove(asked, other_);
    EXPECT_EQ(r.status, 403) << asked << " -> " << r.body;
    EXPECT_EQ(r.body, R"({"success":false,"errorMsg":"无权删除该文件"})");
    EXPECT_EQ(slurp(root_ / name.substr(1)), kPng) << "the file stays";
  }
  // A file on disk with no recorded uploader (put there by hand) is nobody's to delete.
  std::string uuid = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  std::string planted = core::blog_image_path(uuid, "png");
  fs::create_directories((root_ / planted.substr(1)).parent_path());
  std::ofstream(root_ / planted.substr(1)) << "keep";
  EXPECT_EQ(remove(planted).status, 403);
  EXPECT_EQ(slurp(root_ / planted.substr(1)), "keep");
  // The uploader still can.
  EXPECT_EQ(remove(name).body, R"({"success":true})");
  EXPECT_FALSE(fs::exists(root_ / name.substr(1)));
}

TEST_F(UploadApiTest, TheAdministratorDeletesAnyUpload) {
  std::string name = stored_png();
  ASSERT_FALSE(name.empty());
  // A wrong token of the admin token's length is nobody (401), not an administrator.
  EXPECT_EQ(remove(name, std::string(stores().admin_token.size(), 'a')).status, 401);
  EXPECT_EQ(slurp(root_ / name.substr(1)), kPng);
  auto r = remove(name, stores().admin_token);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success":true})");
  EXPECT_FALSE(fs::exists(root_ / name.substr(1)));
  // Also a file without a recorded uploader.
  std::string planted = core::blog_image_path("0f8fad5b-d9cb-469f-a165-70867728950e", "png");
  fs::create_directories((root_ / planted.substr(1)).parent_path());
  std::ofstream(root_ / planted.substr(1)) << "stray";
  EXPECT_EQ(remove(planted, stores().admin_token).body, R"({"success":true})");
  EXPECT_FALSE(fs::exists(root_ / planted.substr(1)));
}

TEST_F(UploadApiTest, RefusesWrongTypesSizesAndBodies) {
  auto check = [](const ApiResult& r, int status, const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  };
  check(upload(multipart("file", "x.php", "image/png", "<?php system($_GET[1]); ?>")), 415,
        "unsupported image type");
  check(upload(multipart("file", "big.png", "image/png", kPng + std::string(5000, 'x'))), 413,
        "file too large");
  check(upload(multipart("other", "a.png", "image/png", kPng)), 400, "missing multipart field");
  check(upload(multipart("file", "a.png", "image/png", "")), 400, "empty file");
  check(upload("--BOUNDARY\r\ngarbage"), 400, "malformed multipart body");
  check(upload(R"({"file":"x"})", "Content-Type: application/json\r\n"), 415,
        "multipart/form-data expected");
  check(upload(multipart("file", "a.png", "image/png", std::string(2 << 20, 'x'))), 413,
        "request body too large");
}

TEST_F(UploadApiTest, DeleteCannotLeaveTheRoot) {
  fs::create_directories(root_);
  fs::path outside = dir_ / "outside.txt";
  std::ofstream(outside) << "keep me";
  fs::create_directories(root_ / "blogs" / "1" / "2");
  for (const std::string& name :
       {std::string("../outside.txt"), std::string("/../outside.txt"),
        std::string("/blogs/../../outside.txt"), std::string("%2e%2e%2foutside.txt"),
        std::string("/blogs/1/2/..%2f..%2f..%2f..%2foutside.txt"), std::string("/blogs/1/2"),
        std::string("/blogs"), std::string(""), outside.string(), std::string("/etc/passwd"),
        std::string("/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png%00.txt"),
        std::string("/imgs/../outside.txt"), std::string("/imgs/blogs/../../outside.txt"),
        std::string("/imgs") + outside.string(), std::string("/imgs/imgs/blogs/1/2"),
        std::string("/img/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png"),
        std::string("/imgs/imgs/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png")}) {
    auto r = remove(name);
    EXPECT_EQ(r.status, 400) << name << " -> " << r.body;
    EXPECT_EQ(r.body, R"({"success":false,"errorMsg":"错误的文件名称"})") << name;
  }
  EXPECT_EQ(slurp(outside), "keep me");
  EXPECT_TRUE(fs::is_directory(root_ / "blogs" / "1" / "2"));

  // A well-formed name whose folder is a symlink out of the root.
  std::string uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";  // lands in /blogs/14/10
  fs::create_directories(dir_ / "evil" / "10");
  std::ofstream(dir_ / "evil" / "10" / (uuid + ".png")) << "keep me too";
  fs::remove_all(root_ / "blogs" / "14");
  fs::create_directory_symlink(dir_ / "evil", root_ / "blogs" / "14");
  for (std::string prefix : {"", "/imgs"}) {
    auto r = remove(prefix + "/blogs/14/10/" + uuid + ".png");
    EXPECT_EQ(r.status, 400) << r.body;
  }
  EXPECT_EQ(slurp(dir_ / "evil" / "10" / (uuid + ".png")), "keep me too");
}

// The upload folder on a full file system (a 256 KiB tmpfs filled to the last block): 507 with a
// message that says so, no partial file left behind, and uploads work again once space is freed.
TEST(UploadDiskFull, AFullUploadFolderIsAClear507) {
  char tmpl[] = "/tmp/surge-upload-full-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  std::string mount = "mount -t tmpfs -o size=256k tmpfs '" + dir.string() + "' 2>/dev/null";
  if (::geteuid() != 0 || std::system(mount.c_str()) != 0) {
    fs::remove(dir);
    GTEST_SKIP() << "mounting a small tmpfs needs root (CAP_SYS_ADMIN)";
  }
  struct Unmount {
    fs::path d;
    ~Unmount() {
      std::string cmd = "umount -l '" + d.string() + "'";
      (void)std::system(cmd.c_str());
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } unmount{dir};
  SurgeServer server(api_flags({"--upload-dir", dir.string(), "--upload-max", "4096"}));
  // A session, for servers that want one for uploads; harmless where they are public.
  std::string token = login(server.port(), unique_phone());
  auto send = [&] {
    return api(server.port(), "POST", "/upload/blog", token,
               multipart("file", "a.png", "image/png", kPng), kForm);
  };
  auto first = send();
  ASSERT_EQ(first.status, 200) << first.body;
  auto count_files = [&] {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
    return n;
  };
  ASSERT_EQ(count_files(), 1u);

  // Fill every block (dd stops at ENOSPC).
  std::string fill = "dd if=/dev/zero of='" + (dir / "filler").string() + "' bs=4k 2>/dev/null";
  (void)std::system(fill.c_str());
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dir.c_str(), &st), 0);
  ASSERT_EQ(st.f_bavail, 0u) << "the tmpfs is meant to be full";

  auto full = send();
  EXPECT_EQ(full.status, 507) << full.body;
  EXPECT_NE(full.body.find("upload storage is full"), std::string::npos) << full.body;
  EXPECT_EQ(count_files(), 2u) << "only the first upload and the filler";

  fs::remove(dir / "filler");
  auto again = send();
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(count_files(), 2u);
}

// The daily quota (3 files, 500 bytes here): the fourth small file and the third 208-byte one
// are 429s in the envelope and leave nothing on disk; each user has a quota of their own.
TEST(UploadQuota, CountAndBytesPerUserPerDay) {
  char tmpl[] = "/tmp/surge-quota-XXXXXX";
  fs::path root = fs::path(::mkdtemp(tmpl)) / "imgs";
  SurgeServer server(api_flags(
      {"--upload-dir", root.string(), "--upload-daily-count", "3", "--upload-daily-bytes", "500"}));
  auto send = [&](const std::string& token, const std::string& data) {
    return api(server.port(), "POST", "/upload/blog", token,
               multipart("file", "x.png", "image/png", data), kForm);
  };
  const std::string small = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(12, 's');
  std::string counted = login(server.port(), unique_phone());
  std::string heavy = login(server.port(), unique_phone());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(counted, small).status, 200) << i;
  auto fourth = send(counted, small);
  EXPECT_EQ(fourth.status, 429) << fourth.body;
  EXPECT_NE(fourth.body.find("daily upload quota"), std::string::npos) << fourth.body;
  EXPECT_EQ(send(heavy, kPng).status, 200);
  EXPECT_EQ(send(heavy, kPng).status, 200);
  auto third = send(heavy, kPng);  // 624 bytes > 500
  EXPECT_EQ(third.status, 429) << third.body;
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) files += e.is_regular_file();
  EXPECT_EQ(files, 5u);
  fs::remove_all(root.parent_path());
}

// The per-user rate (a burst of 3 here, refilled at 3 a minute; each of the server's two workers
// has its own buckets, so a user gets at most 6 at once): of 8 uploads at once at least 2 are
// 429s that write nothing, and another user still uploads.
TEST(UploadRate, OneUserFloodingUploadsIsTurnedAwayOthersAreNot) {
  char tmpl[] = "/tmp/surge-rate-XXXXXX";
  fs::path root = fs::path(::mkdtemp(tmpl)) / "imgs";
  SurgeServer server(api_flags({"--upload-dir", root.string(), "--upload-per-minute", "3"}));
  auto send = [&](const std::string& token) {
    return api(server.port(), "POST", "/upload/blog", token,
               multipart("file", "x.png", "image/png", kPng), kForm);
  };
  std::string flooder = login(server.port(), unique_phone());
  std::string other = login(server.port(), unique_phone());
  size_t stored = 0, limited = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = send(flooder);
    if (r.status == 200) {
      ++stored;
    } else {
      EXPECT_EQ(r.status, 429) << r.body;
      EXPECT_NE(r.body.find("upload rate limit"), std::string::npos) << r.body;
      ++limited;
    }
  }
  EXPECT_GE(stored, 3u);
  EXPECT_LE(stored, 6u);
  EXPECT_EQ(stored + limited, 8u);
  EXPECT_EQ(send(other).status, 200);
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) files += e.is_regular_file();
  EXPECT_EQ(files, stored + 1);
  fs::remove_all(root.parent_path());
}

}  // namespace
}  // namespace surge::test
