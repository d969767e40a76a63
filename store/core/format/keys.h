// Keys of the store. Data families: [split: 1 byte][image id: 8 bytes
// big-endian], so byte order = numeric order = hex-filename order, and one
// key addresses an example in every family. The meta and vocab families use
// short text keys, listed here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "oiv4kv/dataset.h"
#include "oiv4kv/image_id.h"  // ImageIdHex, ExampleName

namespace oiv4kv {

inline constexpr size_t kKeySize = 9;
using Key = std::array<char, kKeySize>;

Key EncodeKey(Split split, uint64_t image_id);
// False if `key` is not a well-formed data key.
bool DecodeKey(std::string_view key, Split* split, uint64_t* image_id);
inline std::string_view KeyView(const Key& key) { return {key.data(), key.size()}; }

// Meta family keys.
inline constexpr std::string_view kManifestKey = "manifest";
std::string IndexKey(Split split);            // "index/train"
std::string ProgressKey(std::string_view key);  // "progress/<key>"

}  // namespace oiv4kv
