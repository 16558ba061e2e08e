// The live dashboard page (src/app/dashboard.html), compiled into the binary so that a deployed
// `surge` serves it without the source tree; the admin listener serves it at /dashboard.
#pragma once

#include <string_view>

namespace surge::app {

// The page's bytes, exactly as in src/app/dashboard.html when the binary was built.
std::string_view dashboard_page();

}  // namespace surge::app
