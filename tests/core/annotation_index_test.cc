#include "store/core/annotation_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace oiv4kv {
namespace {

// Every id is found at its position and every absent id is not, checked
// against a linear scan, for sizes on both sides of the bucket thresholds.
TEST(IdLookup, FindsEveryIdAndNothingElse) {
  std::mt19937_64 rng(7);
  for (size_t n : {0, 1, 2, 15, 16, 17, 100, 4096, 50000}) {
    std::vector<uint64_t> ids(n);
    for (auto& id : ids) id = rng();
    if (n >= 4) {  // the extremes and a run sharing its top bits
      ids[0] = 0;
      ids[1] = ~uint64_t{0};
      ids[2] = uint64_t{1} << 63;
      ids[3] = (uint64_t{1} << 63) + 1;
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const IdLookup lookup(ids);
    for (size_t i = 0; i < ids.size(); ++i) {
      uint64_t at = 12345;
      ASSERT_TRUE(lookup.Find(ids[i], &at)) << n << " " << ids[i];
      EXPECT_EQ(i, at);
    }
    for (int probe = 0; probe < 2000; ++probe) {
      const uint64_t id = probe < 4 ? ids.empty() ? probe : ids[probe % ids.size()] + 1 : rng();
      const bool present = std::find(ids.begin(), ids.end(), id) != ids.end();
      uint64_t at = 0;
      EXPECT_EQ(present, lookup.Find(id, &at)) << n << " " << id;
    }
  }
}

}  // namespace
}  // namespace oiv4kv
