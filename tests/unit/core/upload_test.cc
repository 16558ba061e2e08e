// Upload layout (Java hash nibbles), the delete whitelist, sniffing and multipart parsing.
#include "core/upload.h"

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Upload, JavaStringHash) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("0f8fad5b-d9cb-469f-a165-70867728950e"), -2049132882);
}

TEST(Upload, LayoutUsesTheHashNibbles) {
  // -2049132882: low nibble 14, next nibble 10 (arithmetic shift, as Java's >> is).
  EXPECT_EQ(blog_image_path("0f8fad5b-d9cb-469f-a165-70867728950e", "png"),
            "/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png");
}

TEST(Upload, UuidV4Form) {
  unsigned char bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<unsigned char>(0xF0 + i);
  std::string u = format_uuid_v4(bytes);
  EXPECT_EQ(u, "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff");
}

TEST(Upload, DeleteAcceptsOnlyTheLayout) {
  std::string good = "/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png";
  EXPECT_TRUE(is_blog_image_path(good));
  for (std::string bad : {
           std::string(""),
           std::string("/"),
           std::string("/blogs"),
           std::string("/blogs/14/10/"),
           std::string("/blogs/1/10/0f8fad5b-d9cb-469f-a165-70867728950e.png"),   // wrong d1
           std::string("/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.exe"),  // extension
           std::string("/blogs/14/10/0F8FAD5B-D9CB-469F-A165-70867728950E.png"),  // case
           std::string("blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png"),   // relative
           std::string("/blogs/14/10/../../../etc/passwd"),
           std::string("/../../etc/passwd"),
           std::string("/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png/.."),
           std::string("/blogs/14/10//0f8fad5b-d9cb-469f-a165-70867728950e.png"),
           std::string("/x/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png"),
           std::string("/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png\0x", 55),
       }) {
    EXPECT_FALSE(is_blog_image_path(bad)) << bad;
  }
}

TEST(Upload, DeleteRequestMayCarryTheWebRoot) {
  std::string good = "/blogs/14/10/0f8fad5b-d9cb-469f-a165-70867728950e.png";
  EXPECT_EQ(blog_image_path_from_request(good), good);
  EXPECT_EQ(blog_image_path_from_request("/imgs" + good), good);
  for (std::string bad : {
           std::string("/imgs"),
           std::string("/imgs/"),
           std::string("/imgs/imgs") + good,
           std::string("imgs") + good,
           std::string("/img") + good,
           std::string("/imgsx") + good,
           std::string("/imgs/../etc/passwd"),
           std::string("/imgs/blogs/14/10/../../../etc/passwd"),
       }) {
    EXPECT_EQ(blog_image_path_from_request(bad), std::nullopt) << bad;
  }
}

TEST(Upload, SniffsImageFormatsNotNames) {
  EXPECT_EQ(sniff_image("\xFF\xD8\xFF\xE0rest"), "jpg");
  EXPECT_EQ(sniff_image(std::string_view("\x89PNG\r\n\x1A\n....", 12)), "png");
  EXPECT_EQ(sniff_image("GIF89a..."), "gif");
  EXPECT_EQ(sniff_image("RIFF\x10\0\0\0WEBPVP8 "), "");  // embedded NUL cuts the literal
  EXPECT_EQ(sniff_image(std::string_view("RIFF\x10\0\0\0WEBPVP8 ", 16)), "webp");
  EXPECT_EQ(sniff_image("<?php echo 1; ?>"), "");
  EXPECT_EQ(sniff_image(""), "");
  EXPECT_EQ(sniff_image("BM"), "");  // too short for a BMP header
}

TEST(Upload, Boundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b\""), "a b");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("application/json"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')),
            std::nullopt);
}

TEST(Upload, ParsesParts) {
  std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
      "hello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
      "Content-Type: image/png\r\n\r\n"
      "\x89PNG\r\n--X not a boundary\r\n"
      "--XyZ--\r\n";
  auto parts = parse_multipart(body, "XyZ");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "title");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].data, "hello");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "a.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\x89PNG\r\n--X not a boundary");
}

TEST(Upload, RejectsMalformedBodies) {
  EXPECT_FALSE(parse_multipart("", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nNoColonHere\r\n\r\nx\r\n--b--", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b"));
  auto empty = parse_multipart("--b--\r\n", "b");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace surge::core
