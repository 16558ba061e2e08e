// GET /openapi.json: the API document, for tools (client generators, validators, API browsers).
#include "app/openapi.h"
#include "app/route_table.h"
#include "app/routes.h"

namespace surge::app {

namespace {

boost::asio::awaitable<http::Response> serve_document(http::Context&) {
  co_return http::Response{200, std::string(openapi_document())};
}

}  // namespace

void register_openapi_routes(RouteTable& t) {
  t.add_handler(boost::beast::http::verb::get, "/openapi.json", Access::kPublic, serve_document);
}

}  // namespace surge::app
