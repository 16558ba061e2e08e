// Logger set-up: one stderr sink shared by all threads.
#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace surge {

bool init_logging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("surge");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%t] %v");
  spdlog::set_default_logger(logger);
  auto parsed = spdlog::level::from_str(std::string(level));
  bool known = parsed != spdlog::level::off || level == "off";
  spdlog::set_level(known ? parsed : spdlog::level::info);
  return known;
}

}  // namespace surge
