// Images (store/verify/images.cc): a missing image, an image of no example
// or of a config the manifest does not name, and a damaged image value are
// problems naming the image.
#include <gtest/gtest.h>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, MissingImageIsNamed) {
  const uint64_t id = sample_.Ids(Split::kValidation)[3];
  Delete(sample_.path, Family::kImages300k, Key(Split::kValidation, id));
  const VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(1u, CountProblems(r, "images.300k validation/" + ImageIdHex(id), "missing"))
      << Describe(r);
  EXPECT_EQ(1u, CountProblems(r, "meta/manifest",
                              "counts 12 validation images in 300k, "
                              "images.300k holds 11"))
      << Describe(r);
  EXPECT_EQ(2u, r.num_problems) << Describe(r);
}

TEST_F(VerifyTest, ImageOfNoExampleIsNamed) {
  const auto& img = sample_.images.begin()->second;
  std::string value;
  AppendImageValue(img.bytes, img.meta, &value);
  Put(sample_.path, Family::kImages300k, Key(Split::kTest, 42), value);
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "images.300k test/000000000000002a", "an image of no example"))
      << Describe(r);
}

TEST_F(VerifyTest, ImagesOfAConfigTheManifestDoesNotName) {
  const auto& img = sample_.images.begin()->second;
  std::string value;
  AppendImageValue(img.bytes, img.meta, &value);
  Put(sample_.path, Family::kImages200k, Key(Split::kTest, sample_.Ids(Split::kTest)[0]), value);
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "images.200k", "manifest names no config 200k")) << Describe(r);
}

TEST_F(VerifyTest, DamagedImageValuesAreNamed) {
  const std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  const auto& img = sample_.images.at({Config::k300k, Split::kTrain, ids[0]});
  Put(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[0]), "\xff\xd8 not an image value");
  std::string png;  // PNG bytes stored as a JPEG
  AppendImageValue(std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0},
                   img.meta, &png);
  Put(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[1]), png);
  std::string zero;
  AppendImageValue(img.bytes, {0, 0, ImageFormat::kJpeg}, &zero);
  Put(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[2]), zero);
  const VerifyReport r = Verify();
  const std::string name = "images.300k train/";
  EXPECT_EQ(1u, CountProblems(r, name + ImageIdHex(ids[0]), "metadata")) << Describe(r);
  EXPECT_EQ(1u,
            CountProblems(r, name + ImageIdHex(ids[1]), "stored as jpeg, but the bytes are png"))
      << Describe(r);
  EXPECT_EQ(1u, CountProblems(r, name + ImageIdHex(ids[2]), "stored size is 0")) << Describe(r);
  EXPECT_EQ(3u, r.num_problems) << Describe(r);
}

}  // namespace
}  // namespace oiv4kv::verify_test
