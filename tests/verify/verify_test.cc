// VerifyStore as a whole (store/verify/verify.cc): a clean store has no
// problem and every phase reports progress; no store is InvalidArgument;
// problems past max_problems are counted, not kept. The phases' own tests
// are beside this one, one file each (verify_fixture.h).
#include <gtest/gtest.h>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, CleanStoreHasNoProblems) {
  for (bool deep : {false, true}) {
    std::vector<std::string> phases;
    VerifyOptions o;
    o.deep = deep;
    VerifyReport r;
    ASSERT_OK(VerifyStore(
        sample_.path, o,
        [&](const VerifyProgress& p) {
          if (p.event == VerifyProgress::Event::kStart) phases.push_back(p.phase);
        },
        &r));
    EXPECT_TRUE(r.ok()) << Describe(r);
    EXPECT_TRUE(r.notes.empty()) << r.notes[0];
    EXPECT_EQ(sample_.examples.size(), r.records);
    EXPECT_EQ(sample_.examples.size(), r.images[static_cast<int>(Config::k300k)]);
    EXPECT_FALSE(r.images[static_cast<int>(Config::kOriginal)].has_value());
    EXPECT_GE(r.files, 8u);  // tables of 4 families, MANIFEST, OPTIONS, CURRENT, IDENTITY
    EXPECT_EQ(deep ? sample_.examples.size() : 0u, r.decoded);
    EXPECT_EQ(0u, r.decode_warnings);
    EXPECT_EQ((std::vector<std::string>{"files", "annotations", "images.300k"}), phases);
  }
}

TEST_F(VerifyTest, NoStoreIsInvalidArgument) {
  VerifyReport r;
  EXPECT_TRUE(VerifyStore(dir_.Sub("nothing"), {}, nullptr, &r).IsInvalidArgument());
  std::filesystem::create_directories(dir_.Sub("empty"));
  EXPECT_TRUE(VerifyStore(dir_.Sub("empty"), {}, nullptr, &r).IsInvalidArgument());
}

TEST_F(VerifyTest, ProblemsAreCappedButCounted) {
  const std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  for (size_t i = 0; i < 10; ++i)
    Delete(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[i]));
  const VerifyReport r = Verify(/*deep=*/false, /*max_problems=*/3);
  EXPECT_EQ(3u, r.problems.size());
  EXPECT_EQ(11u, r.num_problems);  // 10 images and the train count
}

}  // namespace
}  // namespace oiv4kv::verify_test
