// Counts and split indexes (store/verify/indexes.cc, and the image counts
// of images.cc): the manifest and the meta family against the keys.
#include <gtest/gtest.h>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, IndexMustEqualTheKeys) {
  std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  const uint64_t dropped = ids[7];
  ids.erase(ids.begin() + 7);
  Put(sample_.path, Family::kMeta, IndexKey(Split::kTrain), EncodeIndex(ids));
  VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "meta/index/train",
                              "holds 39 ids, the annotations 40 train examples; it lacks " +
                                  ImageIdHex(dropped)))
      << Describe(r);
  EXPECT_EQ(1u, r.num_problems) << Describe(r);

  ids = sample_.Ids(Split::kValidation);
  ids.push_back(ids.back() + 1);
  Put(sample_.path, Family::kMeta, IndexKey(Split::kValidation), EncodeIndex(ids));
  r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "meta/index/validation",
                              "it lists " + ImageIdHex(ids.back()) + ", which has no record"))
      << Describe(r);
}

TEST_F(VerifyTest, ManifestCountsMustEqualTheKeys) {
  std::string value;
  {
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(sample_.path, StoreOptions(), &store));
    Manifest m = store->manifest();
    m.num_examples[static_cast<int>(Split::kTest)] = 9;
    m.FindConfig(Config::k300k)->num_images[static_cast<int>(Split::kTrain)] = 41;
    value = EncodeManifest(m);
  }
  Put(sample_.path, Family::kMeta, kManifestKey, value);
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "meta/manifest",
                              "counts 9 test examples, the annotations family holds 8"))
      << Describe(r);
  EXPECT_EQ(
      1u, CountProblems(r, "meta/manifest", "counts 41 train images in 300k, images.300k holds 40"))
      << Describe(r);
}

}  // namespace
}  // namespace oiv4kv::verify_test
