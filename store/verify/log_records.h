// The records of a RocksDB log file (a MANIFEST or a write-ahead log), each
// checked against its CRC-32C: RocksDB's own recovery reads these leniently,
// so verify walks every record itself (log_records.cc says how).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace oiv4kv::verify {

// "" if every record of the log `data` is intact, else what is wrong and at
// which offset ("record checksum mismatch at offset 32770").
std::string CheckLogRecords(std::span<const uint8_t> data);

}  // namespace oiv4kv::verify
