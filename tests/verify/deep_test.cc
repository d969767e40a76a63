// Deep decoding (store/verify/deep.cc): only decoding finds an image of
// another size than stored, or one that does not decode.
#include <gtest/gtest.h>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, DeepCatchesWrongDimensionsAndUndecodableImages) {
  const std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  const auto& img = sample_.images.at({Config::k300k, Split::kTrain, ids[4]});
  std::string value;
  AppendImageValue(img.bytes, {img.meta.width + 1, img.meta.height, ImageFormat::kJpeg}, &value);
  Put(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[4]), value);
  // A JPEG start, then no valid marker.
  std::vector<uint8_t> junk = {0xff, 0xd8, 0xff, 0xe0};
  junk.resize(300, 0x5a);
  value.clear();
  AppendImageValue(junk, img.meta, &value);
  Put(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[5]), value);

  EXPECT_TRUE(Verify(/*deep=*/false).ok()) << "only decoding can tell";
  const VerifyReport r = Verify(/*deep=*/true);
  const std::string size = std::to_string(img.meta.width) + "x" + std::to_string(img.meta.height);
  const std::string stored =
      std::to_string(img.meta.width + 1) + "x" + std::to_string(img.meta.height);
  EXPECT_EQ(1u, CountProblems(r, "images.300k train/" + ImageIdHex(ids[4]),
                              "decodes to " + size + ", stored as " + stored))
      << Describe(r);
  EXPECT_EQ(1u, CountProblems(r, "images.300k train/" + ImageIdHex(ids[5]), "does not decode"))
      << Describe(r);
  EXPECT_EQ(2u, r.num_problems) << Describe(r);
  EXPECT_EQ(sample_.examples.size(), r.decoded);
}

}  // namespace
}  // namespace oiv4kv::verify_test
