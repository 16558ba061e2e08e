// Stored-XSS test data shared by the sanitiser's unit test and the API's integration test: the
// classic vectors, and what "inert" means for what comes back.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace surge::test {

// True when `html`, parsed as a browser parses element content, could start any tag other than
// the attribute-less formatting tags the sanitiser keeps.
inline bool has_live_markup(const std::string& html) {
  for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    size_t end = html.find('>', at);
    if (end == std::string::npos) return true;
    std::string tag = html.substr(at, end - at + 1);
    static const std::vector<std::string> kKept = {"<br>", "<br/>", "<p>",  "</p>",     "<b>",
                                                   "</b>", "<i>",   "</i>", "<strong>", "</strong>",
                                                   "<em>", "</em>", "<u>",  "</u>"};
    if (std::find(kKept.begin(), kKept.end(), tag) == kKept.end()) return true;
  }
  return false;
}

// Classic stored-XSS vectors (OWASP's filter evasion cheat sheet and friends).
inline const std::vector<std::string> kVectors = {
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1)//<</script>",
    "<b onmouseover=alert(1)>bold</b>",
    "<p style=\"x:expression(alert(1))\">",
    "<br onclick=alert(1)>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<embed src=javascript:alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<video><source onerror=alert(1)>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<img\tsrc=x\tonerror=alert(1)>",
    "\"><script>alert(document.cookie)</script>",
    "<template><script>alert(1)</script></template>",
};

}  // namespace surge::test
