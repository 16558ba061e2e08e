# Writes a C++ source defining `std::string_view <FUNCTION>()` that returns INPUT's bytes.
# Run as: cmake -DINPUT=file -DOUTPUT=file.cc -DNAMESPACE=ns -DFUNCTION=name -P embed_file.cmake
# A byte array rather than a raw string literal: no delimiter can clash with the content. Local to
# the function, so two embedded files can share a unity batch.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_file.cmake; do not edit.\n"
  "#include <string_view>\n\n"
  "namespace ${NAMESPACE} {\n\n"
  "std::string_view ${FUNCTION}() {\n"
  "  static const unsigned char kBytes[] = {${bytes}0x00};\n"
  "  return std::string_view(reinterpret_cast<const char*>(kBytes), ${size});\n"
  "}\n\n"
  "}  // namespace ${NAMESPACE}\n")
# Only touch the output when it changed, so an unrelated re-run does not recompile it.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
