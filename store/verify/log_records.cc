// RocksDB log files (MANIFEST and write-ahead logs), record by record.
//
// RocksDB's recovery reads these leniently: a record whose length runs past
// the end of the file is taken for a write cut short by a crash and dropped
// without an error, and a damaged write-ahead log record ends the replay
// quietly (WALRecoveryMode::kPointInTimeRecovery). So verify walks every
// record itself. The format (db/log_format.h, stable since LevelDB): 32 KiB
// blocks of records, each a header of masked CRC-32C (4 bytes LE), payload
// length (2 LE) and type (1), plus the log number (4) for the recyclable
// types 5..8; the CRC covers the type, the log number if any, and the
// payload. A block's last < header-size bytes are zero padding.
#include "store/verify/log_records.h"

#include <algorithm>
#include <array>

namespace oiv4kv::verify {
namespace {

uint32_t Crc32cExtend(uint32_t crc, const uint8_t* p, size_t n) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

std::string CheckLogRecords(std::span<const uint8_t> data) {
  constexpr size_t kBlock = 32768;
  constexpr size_t kHeader = 7, kRecyclableHeader = 11;
  const auto at = [](size_t pos) { return " at offset " + std::to_string(pos); };
  bool inside_record = false;  // after a First fragment, before its Last
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t left_in_block = kBlock - pos % kBlock;
    if (left_in_block < kHeader) {
      for (size_t i = pos; i < std::min(pos + left_in_block, data.size()); ++i) {
        if (data[i] != 0) return "non-zero block padding" + at(i);
      }
      pos += left_in_block;
      continue;
    }
    if (data.size() - pos < kHeader) return "file ends inside a record header" + at(pos);
    const uint8_t* h = data.data() + pos;
    const uint32_t stored_crc = Le32(h);
    const size_t length = size_t{h[4]} | size_t{h[5]} << 8;
    const uint8_t type = h[6];
    if (stored_crc == 0 && length == 0 && type == 0) {
      // A preallocated region RocksDB never wrote: zeros to the end.
      for (size_t i = pos; i < data.size(); ++i) {
        if (data[i] != 0) return "non-zero byte after the last record" + at(i);
      }
      break;
    }
    if (type == 0 || type > 10) return "unknown record type " + std::to_string(type) + at(pos);
    const bool recyclable = type >= 5 && type <= 8;
    const size_t header = recyclable ? kRecyclableHeader : kHeader;
    if (header + length > left_in_block) {
      return "record length " + std::to_string(length) + " runs past its block" + at(pos);
    }
    if (pos + header + length > data.size()) return "file ends inside a record" + at(pos);
    uint32_t crc = Crc32cExtend(0, h + 6, 1 + (header - kHeader));
    crc = Crc32cExtend(crc, h + header, length);
    if (MaskCrc(crc) != stored_crc) return "record checksum mismatch" + at(pos);
    const int base = recyclable ? type - 4 : type;  // 1 full, 2 first, 3 middle, 4 last
    if (base == 2 || base == 1 || base > 4) {
      if (inside_record) return "a record's fragments end early" + at(pos);
      inside_record = base == 2;
    } else if (!inside_record) {
      return "a record fragment without its first part" + at(pos);
    } else if (base == 4) {
      inside_record = false;
    }
    pos += header + length;
  }
  if (inside_record) return "file ends inside a fragmented record";
  return "";
}

}  // namespace oiv4kv::verify
