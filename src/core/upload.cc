// Multipart parsing, image sniffing and the upload layout.
#include "core/upload.h"

#include <array>

#include <fmt/format.h>

namespace surge::core {

namespace {

constexpr std::array<std::string_view, 5> kImageExtensions = {"jpg", "png", "gif", "webp", "bmp"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `param` in a header value like `form-data; name="file"; filename="a.png"`.
std::optional<std::string> header_param(std::string_view value, std::string_view param) {
  size_t pos = 0;
  while (pos < value.size()) {
    size_t semi = value.find(';', pos);
    std::string_view item =
        trim(value.substr(pos, semi == std::string_view::npos ? semi : semi - pos));
    pos = semi == std::string_view::npos ? value.size() : semi + 1;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || !iequals(trim(item.substr(0, eq)), param)) continue;
    std::string_view v = trim(item.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return std::nullopt;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

int32_t java_string_hash(std::string_view s) {
  uint32_t h = 0;
  for (unsigned char c : s) h = 31 * h + c;
  return static_cast<int32_t>(h);
}

std::string format_uuid_v4(const unsigned char (&in)[16]) {
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) b[i] = in[i];
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    fmt::format_to(std::back_inserter(out), "{:02x}", b[i]);
  }
  return out;
}

std::string blog_image_path(std::string_view uuid, std::string_view ext) {
  int32_t hash = java_string_hash(uuid);
  return fmt::format("/blogs/{}/{}/{}.{}", hash & 0xF, (hash >> 4) & 0xF, uuid, ext);
}

bool is_blog_image_path(std::string_view name) {
  // /blogs/d1/d2/uuid.ext: rebuild the one name this uuid and extension can have, and compare.
  size_t slash = name.rfind('/');
  size_t dot = name.rfind('.');
  if (slash == std::string_view::npos || dot == std::string_view::npos || dot < slash) {
    return false;
  }
  std::string_view uuid = name.substr(slash + 1, dot - slash - 1);
  std::string_view ext = name.substr(dot + 1);
  if (!is_uuid(uuid)) return false;
  bool known = false;
  for (auto e : kImageExtensions) known = known || e == ext;
  return known && blog_image_path(uuid, ext) == name;
}

std::optional<std::string> blog_image_path_from_request(std::string_view name) {
  constexpr std::string_view kWebRoot = "/imgs";
  if (name.starts_with(kWebRoot) && name.substr(kWebRoot.size()).starts_with("/blogs/")) {
    name.remove_prefix(kWebRoot.size());
  }
  if (!is_blog_image_path(name)) return std::nullopt;
  return std::string(name);
}

std::string_view sniff_image(std::string_view d) {
  auto starts = [&](std::string_view magic) { return d.substr(0, magic.size()) == magic; };
  if (starts("\xFF\xD8\xFF")) return "jpg";
  if (starts(std::string_view("\x89PNG\r\n\x1A\n", 8))) return "png";
  if (starts("GIF87a") || starts("GIF89a")) return "gif";
  if (d.size() >= 12 && starts("RIFF") && d.substr(8, 4) == "WEBP") return "webp";
  if (d.size() >= 26 && starts("BM")) return "bmp";
  return "";
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
  if (semi == std::string_view::npos) return std::nullopt;
  auto b = header_param(content_type.substr(semi + 1), "boundary");
  // RFC 2046: 1 to 70 characters.
  if (!b || b->empty() || b->size() > 70) return std::nullopt;
  return b;
}

std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary) {
  std::string delimiter = "--" + std::string(boundary);
  std::vector<FormPart> parts;
  // The body starts with the first delimiter (a preamble is allowed but browsers send none).
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += delimiter.size();
  std::string next = "\r\n" + delimiter;
  for (;;) {
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return std::nullopt;
    FormPart part;
    bool disposition = false;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      std::string_view key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
      if (iequals(key, "Content-Disposition")) {
        auto name = header_param(value, "name");
        if (!name) return std::nullopt;
        part.name = *name;
        part.filename = header_param(value, "filename").value_or("");
        disposition = true;
      } else if (iequals(key, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    if (!disposition) return std::nullopt;
    size_t data_start = headers_end + 4;
    size_t data_end = body.find(next, data_start);
    if (data_end == std::string_view::npos) return std::nullopt;
    part.data = body.substr(data_start, data_end - data_start);
    parts.push_back(std::move(part));
    pos = data_end + next.size();
  }
}

}  // namespace surge::core
