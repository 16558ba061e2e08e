#include "core/sanitize.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vectors/xss.h"

namespace surge::core {
namespace {

using test::has_live_markup;
using test::kVectors;

TEST(Sanitize, ClassicVectorsComeBackInert) {
  ASSERT_GE(kVectors.size(), 20u);
  for (const auto& v : kVectors) {
    std::string out = sanitize_rich_text(v);
    EXPECT_FALSE(has_live_markup(out)) << v << " -> " << out;
    EXPECT_EQ(out.find("<script"), std::string::npos) << out;
    EXPECT_EQ(sanitize_rich_text(out), out) << "sanitising twice changes nothing: " << out;
  }
}

TEST(Sanitize, KeepsPlainTextAndTheFormattingSubset) {
  EXPECT_EQ(sanitize_rich_text("味道不错，下次还来"), "味道不错，下次还来");
  EXPECT_EQ(sanitize_rich_text("line one<br>line two<BR/>three<br />"),
            "line one<br>line two<br/>three<br/>");
  EXPECT_EQ(sanitize_rich_text("<P>a <B>b</B> <em>c</em></p>"), "<p>a <b>b</b> <em>c</em></p>");
  EXPECT_EQ(sanitize_rich_text("1 < 2 && 3 > 2"), "1 &lt; 2 &amp;&amp; 3 &gt; 2");
  EXPECT_EQ(sanitize_rich_text("&amp; &#60; &#x3C; &nbsp; & ;"),
            "&amp; &#60; &#x3C; &nbsp; &amp; ;");
  EXPECT_EQ(sanitize_rich_text("<b class=x>"), "&lt;b class=x&gt;");
  EXPECT_EQ(sanitize_rich_text("<brx>"), "&lt;brx&gt;");
}

TEST(Sanitize, PlainTextFieldsHaveNoMarkup) {
  EXPECT_TRUE(is_plain_text("探店笔记：一家好吃的火锅"));
  EXPECT_TRUE(is_plain_text("a & b \"quoted\" 'single'\tand\nlines"));
  for (const auto& v : kVectors) EXPECT_FALSE(is_plain_text(v)) << v;
  EXPECT_FALSE(is_plain_text(std::string("nul\0byte", 8)));
  EXPECT_FALSE(is_plain_text("bell\a"));
}

TEST(Sanitize, ImagesAreSitePathsOrHttpUrls) {
  for (const char* ok : {"/imgs/blogs/7/14/4771fefb1a.jpg", "/blogs/14/10/x-y_z.png",
                         "https://cdn.example.com/a/b.png?w=100&h=2", "http://example.com/x.jpg"}) {
    EXPECT_TRUE(is_safe_image_ref(ok)) << ok;
  }
  for (const char* bad :
       {"", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:image/svg+xml;base64,PHN2Zz4=",
        "//evil.example/x.png", "/imgs/../../etc/passwd", "x.png", "https://",
        "https://a.example/x.png\" onerror=\"alert(1)", "https://a.example/<svg>",
        "https://a.example/x y.png", "/imgs/a b.png", "/imgs/a\".png", "vbscript:msgbox(1)",
        "https:///x.png", "https://a.example/x.png'", "http://a.example/\\x"}) {
    EXPECT_FALSE(is_safe_image_ref(bad)) << bad;
  }
  EXPECT_TRUE(is_safe_image_list("", 9));
  EXPECT_TRUE(is_safe_image_list("/blogs/1/2/a.png,https://x.example/b.jpg", 9));
  EXPECT_FALSE(is_safe_image_list("/blogs/1/2/a.png,", 9));
  EXPECT_FALSE(is_safe_image_list("/blogs/1/2/a.png,javascript:alert(1)", 9));
  EXPECT_FALSE(is_safe_image_list("/a.png,/b.png,/c.png", 2));
}

}  // namespace
}  // namespace surge::core
