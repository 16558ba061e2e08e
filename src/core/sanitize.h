// What user text may contain before it is stored: the original web pages render blog content
// as HTML (v-html) next to the session token, so nothing stored may be able to run there.
#pragma once

#include <string>
#include <string_view>

namespace surge::core {

// Blog content as inert HTML: a handful of formatting tags without attributes (<br>, <p>,
// <b>, <i>, <strong>, <em>, <u> and their closing forms) are kept, in lower case; every other
// '<' and '>' becomes an entity, and so does every '&' that does not start a well-formed
// character reference. Text that has neither markup nor '&' comes back unchanged.
std::string sanitize_rich_text(std::string_view text);

// Plain-text fields (titles, nick names): no '<' or '>' at all, and no control characters but
// tab and newline. Such text cannot form markup however a page renders it.
bool is_plain_text(std::string_view text);

// An image reference a page may put in src="...": a site path ("/imgs/...", "/blogs/...") of
// letters, digits and "/._-" without "..", or an http(s) URL without quotes, spaces, angle
// brackets or backslashes. Nothing else (no javascript:, data:, or relative tricks).
bool is_safe_image_ref(std::string_view ref);

// A comma-separated list of at most `max_items` safe image references (empty is fine).
bool is_safe_image_list(std::string_view list, size_t max_items);

}  // namespace surge::core
