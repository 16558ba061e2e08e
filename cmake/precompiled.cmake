# Precompiled headers: every compile unit parses the same third-party headers (Asio's coroutine
# machinery, fmt, spdlog, Boost.JSON, googletest). Measured with GCC 12 here, this saves 10-20 % on
# app and test files (app/upload_routes.cc 17.7 s -> 14.1 s) and nothing on small engine files;
# most of a file's time is the project's own headers, which the unity batches address.
# Three header sets, each compiled once by a tiny owner target and reused by every target of its
# kind, so a unit test still depends only on its own layer:
#   engine - the standard library, Asio, fmt, spdlog (what the engine layers use; no Beast, no JSON)
#   app    - engine + Boost.JSON (http, app, the executable, benchmarks)
#   test   - app + googletest
# A header left out of a set costs time, never correctness: the sets only hold headers that the
# sources include themselves anyway. SURGE_PCH=OFF compiles without them (e.g. to check that every
# file includes what it uses).
option(SURGE_PCH "Precompile the common third-party headers" ON)

set(surge_pch_engine_headers
  <algorithm> <array> <atomic> <chrono> <cstdint> <functional> <map> <memory> <optional> <set>
  <string> <string_view> <unordered_map> <utility> <variant> <vector>
  <boost/asio/as_tuple.hpp> <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp>
  <boost/asio/detached.hpp> <boost/asio/io_context.hpp> <boost/asio/post.hpp>
  <boost/asio/steady_timer.hpp> <boost/asio/use_awaitable.hpp>
  <fmt/format.h> <spdlog/spdlog.h>)
set(surge_pch_app_headers ${surge_pch_engine_headers}
  <boost/json/parse.hpp> <boost/json/serialize.hpp> <boost/json/value.hpp>)
set(surge_pch_test_headers ${surge_pch_app_headers} <gtest/gtest.h>)

# surge_pch_owner(KIND LIBS...): the target that compiles KIND's header set, with the include
# directories and definitions of LIBS (they must match the targets reusing it).
function(surge_pch_owner kind)
  if(NOT SURGE_PCH)
    return()
  endif()
  set(anchor ${CMAKE_BINARY_DIR}/generated/pch_${kind}.cc)
  if(NOT EXISTS ${anchor})
    file(WRITE ${anchor} "// Compiles the ${kind} precompiled header; no code of its own.\n")
  endif()
  add_library(surge_pch_${kind} OBJECT ${anchor})
  target_link_libraries(surge_pch_${kind} PRIVATE ${ARGN})
  target_precompile_headers(surge_pch_${kind} PRIVATE ${surge_pch_${kind}_headers})
endfunction()

# surge_use_pch(KIND TARGETS...)
function(surge_use_pch kind)
  if(NOT SURGE_PCH)
    return()
  endif()
  foreach(target ${ARGN})
    target_precompile_headers(${target} REUSE_FROM surge_pch_${kind})
  endforeach()
endfunction()
