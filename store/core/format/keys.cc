#include "store/core/format/keys.h"

#include <cstdio>

namespace oiv4kv {

Key EncodeKey(Split split, uint64_t image_id) {
  Key key;
  key[0] = static_cast<char>(split);
  for (int i = 0; i < 8; ++i) {
    key[1 + i] = static_cast<char>((image_id >> (56 - 8 * i)) & 0xff);
  }
  return key;
}

bool DecodeKey(std::string_view key, Split* split, uint64_t* image_id) {
  if (key.size() != kKeySize) return false;
  const auto s = static_cast<uint8_t>(key[0]);
  if (s >= kNumSplits) return false;
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) {
    id = (id << 8) | static_cast<uint8_t>(key[1 + i]);
  }
  *split = static_cast<Split>(s);
  *image_id = id;
  return true;
}

std::string IndexKey(Split split) {
  return "index/" + std::string(SplitName(split));
}

std::string ProgressKey(std::string_view key) {
  return "progress/" + std::string(key);
}

}  // namespace oiv4kv
