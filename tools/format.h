// Text formatting shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>

namespace oiv4kv::tools {

// "1.5 GiB", "312 B".
std::string HumanBytes(uint64_t bytes);

}  // namespace oiv4kv::tools
