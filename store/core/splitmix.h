// splitmix64 (Steele, Lea, Flood 2014): its finalizer is the mixing function
// of Scan's order, the samplers' draws and the Loader's per-example draws.
// All are part of the contract of checkpoints: changing them reorders epochs,
// re-draws samples and crops.
#pragma once

#include <cstdint>

namespace oiv4kv {

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The splitmix64 generator from `state` (each user seeds it from its own
// (seed, epoch) with its own salt).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}

  uint64_t Next() { return Mix64(state_ += 0x9e3779b97f4a7c15ULL); }

  // Uniform in [0, 1): the top 53 bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [0, range), unbiased (Lemire 2019). REQUIRES: range > 0.
  uint64_t Bounded(uint64_t range) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(Next()) * range;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < range) {
      const uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<U128>(Next()) * range;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace oiv4kv
