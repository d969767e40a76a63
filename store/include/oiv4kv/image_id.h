// Image ids as text: the one rule the library, the command line and the
// Python binding share. Thread-safe: pure functions.
//
// An Open Images image id is a 64-bit number written as exactly 16 hex
// digits ("0011d545a9314517"); the download names its image
// "<16 hex digits>.jpg", which TFDS keeps as `image/filename`.
//   Formatting: 16 lower-case hex digits, leading zeros kept.
//   Parsing: exactly 16 hex digits, either case ("0011D545A9314517" too), or
//   (ParseImageId only) that followed by ".jpg" (lower case). Nothing else:
//   no "0x", no sign, no spaces, no shorter or longer digit strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"

namespace oiv4kv {

inline constexpr size_t kImageIdHexDigits = 16;

// "0011d545a9314517".
OIV4KV_EXPORT std::string ImageIdHex(uint64_t image_id);
// "0011d545a9314517.jpg": the image's file name in the download and TFDS.
OIV4KV_EXPORT std::string ImageFileName(uint64_t image_id);
// "train/0011d545a9314517", for messages.
OIV4KV_EXPORT std::string ExampleName(Split split, uint64_t image_id);

// Exactly 16 hex digits, either case; nullopt for anything else.
OIV4KV_EXPORT std::optional<uint64_t> ParseImageIdHex(std::string_view text);
// 16 hex digits (either case) or "<16 hex digits>.jpg"; nullopt for
// anything else.
OIV4KV_EXPORT std::optional<uint64_t> ParseImageId(std::string_view text);

}  // namespace oiv4kv
