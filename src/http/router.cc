// Linear best-match routing: tens of routes, a handful of segment compares each.
#include "http/router.h"

#include "core/parse.h"

namespace surge::http {

Response json(unsigned status, std::string body) { return Response{status, std::move(body)}; }

std::optional<std::string> Context::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key != name) continue;
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    return core::url_decode(value);
  }
  return std::nullopt;
}

std::string_view Context::header(std::string_view name) const {
  auto it = request.find(name);
  return it == request.end() ? std::string_view() : std::string_view(it->value());
}

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

size_t Router::add(bhttp::verb verb, std::string_view pattern, Handler handler) {
  Route r{verb, std::string(pattern), {}, std::move(handler), first_id_ + routes_.size(), 0};
  for (auto seg : split(pattern)) {
    r.segments.emplace_back(seg);
    if (!is_param(seg)) ++r.literals;
  }
  routes_.push_back(std::move(r));
  return routes_.back().id;
}

Router::Match Router::match(bhttp::verb verb, std::string_view path) const {
  Match best;
  // A trailing or doubled slash is not a different resource.
  std::array<std::string_view, 16> segs;
  size_t n = 0;
  for (auto s : split(path)) {
    if (n == segs.size()) return best;
    segs[n++] = s;
  }
  for (const Route& r : routes_) {
    if (r.segments.size() != n) continue;
    std::array<std::string_view, kMaxParams> params{};
    size_t np = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; ++i) {
      if (is_param(r.segments[i])) {
        if (np < kMaxParams) params[np++] = segs[i];
      } else {
        ok = r.segments[i] == segs[i];
      }
    }
    if (!ok) continue;
    if (r.verb != verb) {
      best.path_known = true;
      continue;
    }
    if (!best.route || r.literals > best.route->literals) {
      best.route = &r;
      best.params = params;
    }
  }
  return best;
}

}  // namespace surge::http
