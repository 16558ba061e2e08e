// Strict parsers for untrusted text (path segments, query values, env vars): whole-string
// matches only, no locale, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace surge::core {

// A decimal integer in [min, max]; nullopt for empty, signs where not allowed, junk, overflow.
std::optional<int64_t> parse_int64(std::string_view s, int64_t min = INT64_MIN,
                                   int64_t max = INT64_MAX);

// A positive database id (1 .. 2^63-1).
inline std::optional<int64_t> parse_id(std::string_view s) { return parse_int64(s, 1); }

// A finite decimal number (no hex, no inf/nan).
std::optional<double> parse_double(std::string_view s);

// Decodes %XX escapes and '+' as space (application/x-www-form-urlencoded); nullopt on a
// malformed escape.
std::optional<std::string> url_decode(std::string_view s);

// "YYYY-MM-DDTHH:MM:SS" (or with a space for the T), read as UTC, to Unix milliseconds; the
// form the original's LocalDateTime fields take in JSON. nullopt for anything else or an
// impossible date.
std::optional<int64_t> parse_datetime_ms(std::string_view s);
// The inverse: Unix milliseconds to "YYYY-MM-DDTHH:MM:SS" (UTC, seconds truncated).
std::string format_datetime(int64_t ms);

}  // namespace surge::core
