// The OpenAPI document of the HTTP API (docs/openapi.json), compiled into the binary so that a
// deployed `surge` serves it without the source tree.
#pragma once

#include <string_view>

namespace surge::app {

// The document's bytes, exactly as in docs/openapi.json when the binary was built.
std::string_view openapi_document();

}  // namespace surge::app
