// Allow-list sanitising of user text.
#include "core/sanitize.h"

#include <array>

namespace surge::core {

namespace {

constexpr std::array<std::string_view, 7> kKeptTags = {"br", "p", "b", "i", "strong", "em", "u"};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }

// The length of a kept tag at the start of `s` ("<br>", "<br/>", "<br />", "</p>", any case),
// and its normalised form; 0 when `s` does not start with one.
size_t kept_tag(std::string_view s, std::string& normal) {
  size_t i = 1;
  bool closing = i < s.size() && s[i] == '/';
  if (closing) ++i;
  size_t name_start = i;
  while (i < s.size() && is_alpha(s[i]) && i - name_start < 8) ++i;
  std::string name;
  for (size_t k = name_start; k < i; ++k) name += lower(s[k]);
  bool known = false;
  for (auto t : kKeptTags) known = known || t == name;
  if (!known) return 0;
  bool self_closing = false;
  if (!closing && name == "br") {
    if (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && s[i] == '/') {
      self_closing = true;
      ++i;
    }
  }
  if (i >= s.size() || s[i] != '>') return 0;
  normal.assign(closing ? "</" : "<");
  normal.append(name);
  normal.append(self_closing ? "/>" : ">");
  return i + 1;
}

// The length of a character reference at the start of `s` ("&amp;", "&#60;", "&#x3c;"), or 0.
size_t char_reference(std::string_view s) {
  size_t i = 1;
  if (i < s.size() && s[i] == '#') {
    ++i;
    bool hex = i < s.size() && (s[i] == 'x' || s[i] == 'X');
    if (hex) ++i;
    size_t start = i;
    while (i < s.size() && (hex ? is_hex(s[i]) : is_digit(s[i])) && i - start < 7) ++i;
    if (i == start) return 0;
  } else {
    size_t start = i;
    while (i < s.size() && (is_alpha(s[i]) || is_digit(s[i])) && i - start < 12) ++i;
    if (i == start) return 0;
  }
  return i < s.size() && s[i] == ';' ? i + 1 : 0;
}

bool is_url_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  static constexpr std::string_view kAllowed = "-._~:/?#[]@!$&*+,;=%";
  return kAllowed.find(c) != std::string_view::npos;
}

}  // namespace

std::string sanitize_rich_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '<') {
      std::string normal;
      if (size_t n = kept_tag(text.substr(i), normal)) {
        out += normal;
        i += n;
        continue;
      }
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      size_t n = char_reference(text.substr(i));
      if (n > 0) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
      out += "&amp;";
    } else {
      out += c;
    }
    ++i;
  }
  return out;
}

bool is_plain_text(std::string_view text) {
  for (unsigned char c : text) {
    if (c == '<' || c == '>' || c == 0x7F) return false;
    if (c < 0x20 && c != '\t' && c != '\n') return false;
  }
  return true;
}

bool is_safe_image_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 512) return false;
  if (ref.front() == '/') {
    if (ref.size() > 1 && ref[1] == '/') return false;  // "//host/..." leaves the site
    if (ref.find("..") != std::string_view::npos) return false;
    for (char c : ref) {
      if (!(is_alpha(c) || is_digit(c) || c == '/' || c == '.' || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }
  std::string_view rest;
  if (ref.starts_with("https://")) {
    rest = ref.substr(8);
  } else if (ref.starts_with("http://")) {
    rest = ref.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/') return false;
  for (char c : rest) {
    if (!is_url_char(c)) return false;
  }
  return true;
}

bool is_safe_image_list(std::string_view list, size_t max_items) {
  if (list.empty()) return true;
  size_t items = 0;
  for (size_t at = 0; at <= list.size();) {
    size_t comma = list.find(',', at);
    if (comma == std::string_view::npos) comma = list.size();
    if (++items > max_items || !is_safe_image_ref(list.substr(at, comma - at))) return false;
    at = comma + 1;
  }
  return true;
}

}  // namespace surge::core
