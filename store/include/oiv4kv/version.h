// Versions of the on-disk format and of this library. Thread-safe: constants.
#pragma once

#include <cstdint>
#include <string_view>

#include "oiv4kv/export.h"

namespace oiv4kv {

// The schema version written into every manifest. A reader opens only
// stores of exactly this version: bump it whenever a reader of the previous
// version would misread what a new writer stores.
inline constexpr uint32_t kSchemaVersion = 1;

// The library's version, "MAJOR.MINOR.PATCH", recorded by writers.
OIV4KV_EXPORT std::string_view LibraryVersion();

}  // namespace oiv4kv
