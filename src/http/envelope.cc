// Envelope serialisation. ok_raw splices pre-serialised bytes so hot reads skip re-encoding.
#include "http/envelope.h"

#include <boost/json/serialize.hpp>

namespace surge::http::envelope {

namespace json = boost::json;

std::string ok() { return R"({"success":true})"; }

std::string ok(const json::value& data) { return ok_raw(json::serialize(data)); }

std::string ok_raw(std::string_view data_json) {
  std::string out;
  out.reserve(data_json.size() + 28);
  out += R"({"success":true,"data":)";
  out += data_json;
  out += '}';
  return out;
}

std::string fail(std::string_view message) {
  std::string out = R"({"success":false,"errorMsg":)";
  out += json::serialize(json::string_view(message.data(), message.size()));
  out += '}';
  return out;
}

std::string fail(std::string_view message, const json::value& data) {
  std::string out = fail(message);
  out.pop_back();
  out += R"(,"data":)";
  out += json::serialize(data);
  out += '}';
  return out;
}

}  // namespace surge::http::envelope
