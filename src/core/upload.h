// Pure parts of image upload: multipart/form-data parsing, content sniffing, and the original's
// storage layout /blogs/{d1}/{d2}/{uuid}.{ext}, where d1 and d2 are the low two nibbles of Java's
// String.hashCode of the uuid text. A delete request may only name a path of exactly that shape,
// which is what keeps it inside the upload root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace surge::core {

// Java's String.hashCode (s[0]*31^(n-1) + ... + s[n-1], wrapping) over ASCII text.
int32_t java_string_hash(std::string_view s);

// A random (version 4) UUID in the usual 36-character lower-case form, from 16 random bytes.
std::string format_uuid_v4(const unsigned char (&bytes)[16]);

// "/blogs/{d1}/{d2}/{uuid}.{ext}".
std::string blog_image_path(std::string_view uuid, std::string_view ext);
// True only for names blog_image_path can produce: a 36-character lower-case UUID, a known image
// extension, and d1/d2 that match the UUID's hash. No "..", no extra separators, no other root.
bool is_blog_image_path(std::string_view name);
// The layout name a delete request means: the original page sends it as shown in an <img src>,
// with the web root's "/imgs" in front, other clients without it. nullopt for anything else.
std::optional<std::string> blog_image_path_from_request(std::string_view name);

// The extension of the image format `data` starts with (jpg, png, gif, webp, bmp), or "" when
// the bytes are not one of those formats, whatever the client claimed.
std::string_view sniff_image(std::string_view data);

// The boundary parameter of a multipart/form-data Content-Type; nullopt for any other type.
std::optional<std::string> multipart_boundary(std::string_view content_type);

struct FormPart {
  std::string name;      // Content-Disposition name=
  std::string filename;  // Content-Disposition filename=, empty for plain fields
  std::string content_type;
  std::string_view data;  // borrows the body
};
// Splits a multipart body; nullopt when it is malformed (no closing boundary, bad part headers).
std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary);

}  // namespace surge::core
