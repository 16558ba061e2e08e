// Fuzzes the upload path's pure parts: the multipart boundary from a Content-Type, the multipart
// splitter, the image sniffer, and the delete-path validator (which guards the upload root).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/upload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace surge::core;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // First line: the Content-Type; the rest: the body.
  size_t nl = in.find('\n');
  std::string_view type = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  (void)sniff_image(in);
  if (is_blog_image_path(type)) {
    // Whatever passes must be a path blog_image_path could have made: no way out of the root.
    if (type.find("..") != std::string_view::npos || !type.starts_with("/blogs/")) std::abort();
  }
  if (auto boundary = multipart_boundary(type)) {
    if (auto parts = parse_multipart(body, *boundary)) {
      for (const FormPart& p : *parts) {
        // Parts borrow the body: their bytes must lie inside it.
        if (!p.data.empty() && (p.data.data() < body.data() ||
                                p.data.data() + p.data.size() > body.data() + body.size())) {
          std::abort();
        }
        (void)sniff_image(p.data);
      }
    }
  }
  return 0;
}
