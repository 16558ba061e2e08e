// /upload/**: blog images stored under the configured root with the original's layout
// (/blogs/{d1}/{d2}/{uuid}.{ext}), only real images (sniffed, not trusted from the name) and only
// up to the size limit. Both routes need a session: every file records its uploader, and only
// the uploader (or the administrator, with the admin token) may delete it. Deletes accept nothing
// but a name of that exact layout (with or without the web root's /imgs in front, as the original
// page sends it), so they cannot reach outside the root.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include "app/errors.h"
#include "app/routes.h"
#include "common/random.h"
#include "core/upload.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

namespace fs = std::filesystem;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

// Writes `data` to a new file (never replacing one); false with errno set on failure.
bool write_new_file(const fs::path& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      errno = saved;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

class UploadApi {
 public:
  explicit UploadApi(Services& s) : s_(s), root_(s.config.social.upload_dir) {}

  // POST /upload/blog, multipart field "file" → data: "/blogs/d1/d2/uuid.ext".
  // Small files written on the worker: at most upload-max bytes, one write, no fsync.
  awaitable<Response> upload(Context& ctx) {
    // The rate first: it costs no I/O, so a flood is turned away before any work is done.
    if (core::TokenBuckets* limits = s_.upload_limits.local().get();
        limits && !limits->take(std::to_string(ctx.me().id), s_.clock->now_ms())) {
      co_return http::json(429, envelope::fail("上传过于频繁 (upload rate limit)"));
    }
    auto boundary = core::multipart_boundary(ctx.header("content-type"));
    if (!boundary) co_return http::json(415, envelope::fail("multipart/form-data expected"));
    auto parts = core::parse_multipart(ctx.request.body(), *boundary);
    if (!parts) co_return bad_request("malformed multipart body");
    const core::FormPart* file = nullptr;
    for (const auto& p : *parts) {
      if (p.name == "file") file = &p;
    }
    if (!file) co_return bad_request("missing multipart field: file");
    if (file->data.empty()) co_return bad_request("empty file");
    if (file->data.size() > s_.config.social.upload_max_bytes) {
      co_return http::json(413, envelope::fail("file too large"));
    }
    // The daily quota, before anything is written (concurrent uploads of one user may pass it
    // together by a file or two: the check and the record are separate statements).
    auto used = co_await s_.uploads.usage_today(ctx.me().id);
    if (!used) co_return error_response(used.error());
    const auto& social = s_.config.social;
    if (used->files + 1 > social.upload_daily_count ||
        used->bytes + static_cast<int64_t>(file->data.size()) > social.upload_daily_bytes) {
      co_return http::json(429, envelope::fail("今日上传已达上限 (daily upload quota reached)"));
    }
    std::string_view ext = core::sniff_image(file->data);
    if (ext.empty()) {
      co_return http::json(415,
                           envelope::fail("unsupported image type (jpg, png, gif, webp, bmp)"));
    }
    unsigned char bytes[16];
    random_bytes(bytes, sizeof bytes);
    std::string name = core::blog_image_path(core::format_uuid_v4(bytes), ext);
    fs::path path = root_ / name.substr(1);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec || !write_new_file(path, file->data)) {
      int err = ec ? ec.value() : errno;
      spdlog::error("upload: cannot write {}: {}", path.string(), std::strerror(err));
      // A full disk is the operator's to fix, not the client's: say so plainly.
      if (err == ENOSPC || err == EDQUOT) {
        co_return http::json(507, envelope::fail("upload storage is full; try again later"));
      }
      co_return business_failure("文件上传失败");
    }
    // A file nobody owns could never be deleted through the API, so it does not stay.
    auto owned = co_await s_.uploads.record(name, ctx.me().id, file->data.size());
    if (!owned) {
      fs::remove(path, ec);
      co_return error_response(owned.error());
    }
    spdlog::debug("upload: user {} stored {}", ctx.me().id, name);
    co_return http::json(200, envelope::ok(boost::json::value(name)));
  }

  // GET /upload/blog/delete?name=[/imgs]/blogs/d1/d2/uuid.ext, by the uploader or the
  // administrator (the admin token) only: anyone else gets 403 and the file stays.
  awaitable<Response> remove(Context& ctx) {
    auto requested = core::blog_image_path_from_request(ctx.query_param("name").value_or(""));
    if (!requested) co_return bad_request("错误的文件名称");
    const std::string& name = *requested;
    fs::path path = root_ / name.substr(1);
    // The layout has no "..", but a folder inside the root could still be a symlink.
    std::error_code parent_ec, root_ec, ec;
    fs::path parent = fs::weakly_canonical(path.parent_path(), parent_ec);
    fs::path root = fs::weakly_canonical(root_, root_ec);
    auto [r, p] = std::mismatch(root.begin(), root.end(), parent.begin(), parent.end());
    if (parent_ec || root_ec || r != root.end()) co_return bad_request("错误的文件名称");
    auto status = fs::symlink_status(path, ec);
    if (fs::is_directory(status)) co_return bad_request("错误的文件名称");
    bool admin = is_admin(s_, ctx.header("authorization"));
    auto owner = co_await s_.uploads.owner(name);
    if (!owner) co_return error_response(owner.error());
    if (!*owner) {
      // Already deleted (the original answered success for an absent file); a file that is
      // there without a recorded uploader belongs to nobody but the administrator.
      if (!fs::exists(status)) co_return http::json(200, envelope::ok());
      if (!admin) co_return http::json(403, envelope::fail("无权删除该文件"));
    } else if (!admin && **owner != ctx.me().id) {
      co_return http::json(403, envelope::fail("无权删除该文件"));
    }
    fs::remove(path, ec);
    if (ec) {
      spdlog::error("upload: cannot delete {}: {}", path.string(), ec.message());
      co_return business_failure("文件删除失败");
    }
    auto forgotten = co_await s_.uploads.forget(name);
    if (!forgotten) co_return error_response(forgotten.error());
    co_return http::json(200, envelope::ok());
  }

 private:
  Services& s_;
  fs::path root_;
};

}  // namespace

void register_upload_routes(RouteTable& t) {
  auto api = std::make_shared<UploadApi>(t.services());
  using enum Access;
  t.add(verb::post, "/upload/blog", kLogin, api, &UploadApi::upload);
  t.add(verb::get, "/upload/blog/delete", kLoginOrAdmin, api, &UploadApi::remove);
}

}  // namespace surge::app
