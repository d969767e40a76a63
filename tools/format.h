// Text formatting and output checks shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace oiv4kv::tools {

// "1.5 GiB", "312 B".
std::string HumanBytes(uint64_t bytes);

// `j` as JSON text. Strings that are not valid UTF-8 (a store may hold any
// bytes in a name) have each bad byte replaced by U+FFFD instead of
// throwing.
template <typename Json>
std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `s` as a quoted JSON string, invalid UTF-8 replaced by U+FFFD.
std::string JsonString(std::string_view s);

// False once a write to std::cout has failed (disk full, /dev/full, a closed
// pipe...); remembers the first failure's errno for StdoutError.
bool StdoutOk();

// Flushes std::cout and stdout; returns "" if everything written reached
// them, else the reason ("No space left on device"). main() calls it after
// every subcommand and exits 1 naming the error.
std::string StdoutError();

}  // namespace oiv4kv::tools
