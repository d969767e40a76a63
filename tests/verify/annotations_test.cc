// Annotation records (store/verify/annotations.cc): a record the
// FlatBuffers verifier rejects, and each value out of its range, is a problem
// naming the record and the value.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

TEST_F(VerifyTest, GarbageRecordFailsTheFlatBuffersVerifier) {
  const uint64_t id = sample_.Ids(Split::kTest)[1];
  Put(sample_.path, Family::kAnnotations, Key(Split::kTest, id), std::string(300, '\x7f'));
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "annotations test/" + ImageIdHex(id), "FlatBuffers verification"))
      << Describe(r);
  EXPECT_EQ(1u, r.num_problems) << Describe(r);
}

// One record rewritten with one value out of its range: a problem naming
// the record and the value.
struct Mutation {
  const char* name;
  std::function<void(ExampleData*)> apply;
  const char* reason;
};

void PrintTo(const Mutation& m, std::ostream* os) { *os << m.name; }

class VerifyRecordTest : public VerifyTest, public ::testing::WithParamInterface<Mutation> {};

TEST_P(VerifyRecordTest, OutOfRangeValueIsAProblem) {
  // An example with objects, trainable objects and boxes.
  const ExampleData* e = nullptr;
  for (const auto& [key, ex] : sample_.examples) {
    if (!ex.objects_trainable.label.empty() && !ex.bobjects.label.empty()) {
      e = &ex;
      break;
    }
  }
  ASSERT_NE(nullptr, e);
  ExampleData bad = *e;
  GetParam().apply(&bad);
  flatbuffers::FlatBufferBuilder fbb;
  ASSERT_OK(BuildExample(bad, &fbb));
  Put(sample_.path, Family::kAnnotations, Key(e->split, e->image_id),
      std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, r.num_problems) << Describe(r);
  EXPECT_EQ(
      1u, CountProblems(r, "annotations " + ExampleName(e->split, e->image_id), GetParam().reason))
      << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(
    Values, VerifyRecordTest,
    ::testing::Values(
        Mutation{"AllLabel", [](ExampleData* e) { e->objects.label[0] = 19'995; },
                 "objects[0]: label 19995 is not in the all list of 19995"},
        Mutation{"TrainableLabel", [](ExampleData* e) { e->objects_trainable.label[0] = 7'186; },
                 "objects_trainable[0]: label 7186 is not in the trainable list of 7186"},
        Mutation{"TrainableMismatch",
                 [](ExampleData* e) {
                   e->objects_trainable.label.pop_back();
                   e->objects_trainable.confidence.pop_back();
                   e->objects_trainable.source.pop_back();
                 },
                 "objects_trainable differs from the objects whose class is trainable"},
        Mutation{"BoxLabel", [](ExampleData* e) { e->bobjects.label[0] = 601; },
                 "bobjects[0]: label 601 is not in the boxable list of 601"},
        Mutation{"Confidence", [](ExampleData* e) { e->objects.confidence[0] = 11; },
                 "objects[0]: confidence 11 is over 10"},
        Mutation{"Source", [](ExampleData* e) { e->bobjects.source[0] = 6; },
                 "bobjects[0]: source 6 is not one of the 6"},
        Mutation{"BoxBelowZero", [](ExampleData* e) { e->bobjects.bbox[1] = -0.25f; },
                 "bobjects[0]: xmin -0.250000 is not in [0, 1]"},
        Mutation{"BoxAboveOne", [](ExampleData* e) { e->bobjects.bbox[2] = 1.5f; },
                 "bobjects[0]: ymax 1.500000 is not in [0, 1]"},
        Mutation{"BoxNaN", [](ExampleData* e) { e->bobjects.bbox[3] = std::nanf(""); },
                 "bobjects[0]: xmax nan is not in [0, 1]"},
        Mutation{"BoxMinAboveMax",
                 [](ExampleData* e) {
                   e->bobjects.bbox[0] = 0.75f;
                   e->bobjects.bbox[2] = 0.5f;
                 },
                 "bobjects[0]: ymin is above ymax"},
        Mutation{"Flag", [](ExampleData* e) { e->bobjects.is_depiction[0] = 2; },
                 "bobjects[0]: is_depiction 2 is not 1, 0 or -1"},
        Mutation{"Filename", [](ExampleData* e) { e->filename = "x.jpg"; },
                 "filename is \"x.jpg\""}),
    [](const ::testing::TestParamInfo<Mutation>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace oiv4kv::verify_test
