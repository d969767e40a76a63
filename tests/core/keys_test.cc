#include "store/core/format/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace oiv4kv {
namespace {

TEST(Keys, EncodesSplitThenBigEndianId) {
  // Worked by hand: validation = 1, then 0x0011d545a9314517 byte by byte.
  const Key key = EncodeKey(Split::kValidation, 0x0011d545a9314517ULL);
  const std::string expected("\x01\x00\x11\xd5\x45\xa9\x31\x45\x17", 9);
  EXPECT_EQ(expected, std::string(KeyView(key)));
}

TEST(Keys, DecodeInvertsEncode) {
  Split split;
  uint64_t id;
  const Key key = EncodeKey(Split::kTest, 0xfedcba9876543210ULL);
  ASSERT_TRUE(DecodeKey(KeyView(key), &split, &id));
  EXPECT_EQ(Split::kTest, split);
  EXPECT_EQ(0xfedcba9876543210ULL, id);
}

TEST(Keys, DecodeRejectsMalformedKeys) {
  Split split;
  uint64_t id;
  EXPECT_FALSE(DecodeKey("short", &split, &id));
  EXPECT_FALSE(DecodeKey(std::string("\x03" "12345678", 9), &split, &id));  // no split 3
  EXPECT_FALSE(DecodeKey(std::string(10, '\0'), &split, &id));
}

TEST(Keys, ByteOrderIsNumericOrderIsHexOrder) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> ids(2000);
  for (auto& id : ids) id = rng() >> (rng() % 64);  // many magnitudes
  std::vector<uint64_t> by_bytes = ids, by_hex = ids;
  std::sort(ids.begin(), ids.end());
  std::sort(by_bytes.begin(), by_bytes.end(), [](uint64_t a, uint64_t b) {
    return std::string(KeyView(EncodeKey(Split::kTrain, a))) <
           std::string(KeyView(EncodeKey(Split::kTrain, b)));
  });
  std::sort(by_hex.begin(), by_hex.end(),
            [](uint64_t a, uint64_t b) { return ImageIdHex(a) < ImageIdHex(b); });
  EXPECT_EQ(ids, by_bytes);
  EXPECT_EQ(ids, by_hex);
}

TEST(Keys, SplitsOccupyDisjointRanges) {
  EXPECT_LT(std::string(KeyView(EncodeKey(Split::kTrain, ~0ULL))),
            std::string(KeyView(EncodeKey(Split::kValidation, 0))));
  EXPECT_LT(std::string(KeyView(EncodeKey(Split::kValidation, ~0ULL))),
            std::string(KeyView(EncodeKey(Split::kTest, 0))));
}

TEST(Keys, Names) {
  EXPECT_EQ("0011d545a9314517", ImageIdHex(0x0011d545a9314517ULL));
  EXPECT_EQ("0000000000000001", ImageIdHex(1));
  EXPECT_EQ("test/00000000000000ff", ExampleName(Split::kTest, 255));
  EXPECT_EQ("index/validation", IndexKey(Split::kValidation));
}

}  // namespace
}  // namespace oiv4kv
