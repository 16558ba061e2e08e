// Strict Transfer-Encoding handling (see framing.h).
#include "http/framing.h"

#include <boost/beast/core/string.hpp>

namespace surge::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

// RFC 9112 6.1/6.3 for a request whose header has been read. Beast alone would take a
// Transfer-Encoding that does not end in chunked (or one beside a Content-Length it saw first)
// as a body-less request and parse the body as the next request: the smuggling a proxy in
// front would not see. Everything ambiguous is refused before any body byte is read.
std::optional<Failure> framing_failure(const Request& req) {
  auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return std::nullopt;
  if (req.version() < 11) return Failure{400u, "Transfer-Encoding is not allowed in HTTP/1.0"};
  if (req.count(bhttp::field::content_length) != 0) {
    return Failure{400u, "both Content-Length and Transfer-Encoding"};
  }
  size_t codings = 0;
  size_t chunked = 0;
  bool chunked_last = false;
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view coding = trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (coding.empty()) continue;  // list syntax allows empty elements
      ++codings;
      chunked_last = boost::beast::iequals(coding, "chunked");
      if (chunked_last) ++chunked;
    }
  }
  if (!chunked_last || chunked != 1) {
    return Failure{400u, "chunked must be the final transfer coding, once"};
  }
  if (codings != 1) return Failure{501u, "unsupported transfer coding"};
  return std::nullopt;
}

}  // namespace surge::http
