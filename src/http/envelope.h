// The hm-dianping JSON envelope {"success","errorMsg","data","total"}: absent fields are omitted,
// exactly as the original's Jackson non_null setting produced it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace surge::http::envelope {

std::string ok();                                // {"success":true}
std::string ok(const boost::json::value& data);  // {"success":true,"data":...}
// `data_json` must already be valid JSON (a cached, pre-serialised value).
std::string ok_raw(std::string_view data_json);
std::string fail(std::string_view message);  // {"success":false,"errorMsg":"..."}
// A failure that still carries data (e.g. which dependency is down).
std::string fail(std::string_view message, const boost::json::value& data);

}  // namespace surge::http::envelope
