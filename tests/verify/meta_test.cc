// The manifest and vocabularies (store/verify/meta.cc).
#include <gtest/gtest.h>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, MissingVocabularyIsAProblem) {
  Delete(sample_.path, Family::kVocab, "boxable");
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "vocab/boxable", "missing")) << Describe(r);
}

}  // namespace
}  // namespace oiv4kv::verify_test
