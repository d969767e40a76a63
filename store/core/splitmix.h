// splitmix64's finalizer (Steele, Lea, Flood 2014): the mixing function of
// Scan's order and of the Loader's per-example draws. Both are part of the
// contract of checkpoints: changing it reorders epochs and re-draws crops.
#pragma once

#include <cstdint>

namespace oiv4kv {

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace oiv4kv
