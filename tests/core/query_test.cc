// Queries (oiv4kv/query.h) and the label index (store/core/label_index.h):
// every result checked against a brute-force filter over the examples the
// generator wrote (its own record, SampleStore::examples), never the index.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "oiv4kv/image_id.h"
#include "oiv4kv/query.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/label_index.h"
#include "store/verify/verify.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using Indices = std::vector<uint64_t>;
using testing::SampleStore;
using Pred = std::function<bool(const ExampleData&)>;

class QueryTest : public testing::StoreSuite<QueryTest> {
 public:
  static Status Build(const std::string& path, SampleStore* sample) {
    testing::SampleSpec spec;
    spec.examples = {120, 30, 0};
    return testing::WriteSampleStore(path, spec, sample);
  }

 protected:
  // The brute-force answer: the indices of the split's examples meeting `pred`.
  static Indices Brute(Split split, const Pred& pred) {
    Indices out;
    const std::vector<uint64_t> ids = sample_->Ids(split);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (pred(sample_->examples.at({split, ids[i]}))) out.push_back(i);
    }
    return out;
  }
  static Indices Select(Split split, const std::string& text) {
    Query q;
    Status s = ParseQuery(text, *store_, &q);
    EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
    Indices out;
    if (s.ok()) s = store_->Select(split, q, &out);
    EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
    return out;
  }
  static size_t Boxes(const ExampleData& e, uint16_t label, const std::function<bool(size_t)>& ok) {
    size_t n = 0;
    for (size_t b = 0; b < e.bobjects.label.size(); ++b) {
      if (e.bobjects.label[b] == label && ok(b)) ++n;
    }
    return n;
  }
  static int MaxConfidence(const ExampleData& e, uint16_t label) {
    int best = -1;
    for (size_t i = 0; i < e.objects.label.size(); ++i) {
      if (e.objects.label[i] == label) best = std::max<int>(best, e.objects.confidence[i]);
    }
    return best;
  }
  // The most common box label and image-level label of train (so results are not empty).
  static uint16_t CommonBox() {
    std::map<uint16_t, int> n;
    for (const auto& [key, e] : sample_->examples) for (uint16_t l : e.bobjects.label) ++n[l];
    return std::max_element(n.begin(), n.end(), [](auto a, auto b) { return a.second < b.second; })->first;
  }
  static uint16_t CommonLabel() {
    std::map<uint16_t, int> n;
    for (const auto& [key, e] : sample_->examples) for (uint16_t l : e.objects.label) ++n[l];
    return std::max_element(n.begin(), n.end(), [](auto a, auto b) { return a.second < b.second; })->first;
  }
  static std::string Quoted(const VocabEntry& e) { return "\"" + e.display_name + "\""; }
};

TEST_F(QueryTest, TermsMatchBruteForce) {
  const uint16_t box = CommonBox();
  const uint16_t label = CommonLabel();
  const std::string b = Quoted(sample_->vocab.boxable[box]);
  // By index: a few display names of the all list are shared by several
  // classes, and a name selects every class that has it.
  const std::string l = "#" + std::to_string(label);
  const std::string mid = sample_->vocab.boxable[box].mid;
  auto any = [](size_t) { return true; };
  struct Case {
    std::string text;
    Pred pred;
  };
  const std::vector<Case> cases = {
      {"box:" + b, [&](const ExampleData& e) { return Boxes(e, box, any) >= 1; }},
      {"box:" + mid, [&](const ExampleData& e) { return Boxes(e, box, any) >= 1; }},
      {"box:#" + std::to_string(box), [&](const ExampleData& e) { return Boxes(e, box, any) >= 1; }},
      {"box:" + b + ">=2", [&](const ExampleData& e) { return Boxes(e, box, any) >= 2; }},
      {"box:" + b + "[!group_of]>=2",
       [&](const ExampleData& e) {
         return Boxes(e, box, [&](size_t i) { return e.bobjects.is_group_of[i] != 1; }) >= 2;
       }},
      {"box:" + b + "[occluded,human]",
       [&](const ExampleData& e) {
         return Boxes(e, box, [&](size_t i) {
                  return e.bobjects.is_occluded[i] == 1 && e.bobjects.source[i] != 2 &&
                         e.bobjects.source[i] != 5;
                }) >= 1;
       }},
      {"NOT group_of",
       [&](const ExampleData& e) {
         return std::count(e.bobjects.is_group_of.begin(), e.bobjects.is_group_of.end(), 1) == 0;
       }},
      {"box:" + b + " AND box:*>=3 AND NOT depiction",
       [&](const ExampleData& e) {
         return Boxes(e, box, any) >= 1 && e.bobjects.label.size() >= 3 &&
                std::count(e.bobjects.is_depiction.begin(), e.bobjects.is_depiction.end(), 1) == 0;
       }},
      {"label:" + l, [&](const ExampleData& e) { return MaxConfidence(e, label) >= 5; }},
      {"label:" + l + "@0.7", [&](const ExampleData& e) { return MaxConfidence(e, label) >= 7; }},
      {"label:" + l + "@0.1 OR box:" + b,
       [&](const ExampleData& e) { return MaxConfidence(e, label) >= 1 || Boxes(e, box, any) >= 1; }},
      {"NOT NOT box:" + b, [&](const ExampleData& e) { return Boxes(e, box, any) >= 1; }},
      {"NOT all", [](const ExampleData&) { return false; }},
      {"all", [](const ExampleData&) { return true; }},
      {"box:" + b + " AND NOT box:" + b, [](const ExampleData&) { return false; }},
      {"(box:" + b + " OR machine) and not (label:" + l + ")",
       [&](const ExampleData& e) {
         bool machine = false;
         for (uint8_t s : e.bobjects.source) machine |= s == 2 || s == 5;
         return (Boxes(e, box, any) >= 1 || machine) && MaxConfidence(e, label) < 5;
       }},
  };
  size_t checked = 0, nonempty = 0;
  for (Split split : {Split::kTrain, Split::kValidation}) {
    for (const Case& c : cases) {
      const Indices want = Brute(split, c.pred);
      EXPECT_EQ(want, Select(split, c.text)) << SplitName(split) << ": " << c.text;
      ++checked;
      nonempty += !want.empty();
    }
  }
  EXPECT_EQ(2 * cases.size(), checked);
  EXPECT_GE(nonempty, cases.size());  // most cases select something
}

TEST_F(QueryTest, TrainableTermsAreTheirClassInTheAllList) {
  const std::vector<uint64_t> train = sample_->Ids(Split::kTrain);
  size_t checked = 0;
  for (size_t t = 0; t < sample_->vocab.trainable.size() && checked < 5; ++t) {
    const Indices want = Brute(Split::kTrain, [&](const ExampleData& e) {
      for (size_t i = 0; i < e.objects_trainable.label.size(); ++i) {
        if (e.objects_trainable.label[i] == t && e.objects_trainable.confidence[i] >= 5) return true;
      }
      return false;
    });
    if (want.empty()) continue;
    EXPECT_EQ(want, Select(Split::kTrain, "trainable:#" + std::to_string(t)));
    ++checked;
  }
  EXPECT_EQ(5u, checked);
}

TEST_F(QueryTest, AbsentSplitAndAbsentLabelAreEmpty) {
  EXPECT_TRUE(Select(Split::kTest, "all").empty());  // a split the store lacks
  // A boxable class no validation example has.
  for (size_t label = 0; label < sample_->vocab.boxable.size(); ++label) {
    if (!Brute(Split::kValidation, [&](const ExampleData& e) {
          return Boxes(e, label, [](size_t) { return true; }) > 0;
        }).empty()) {
      continue;
    }
    EXPECT_TRUE(Select(Split::kValidation, "box:#" + std::to_string(label)).empty());
    EXPECT_EQ(30u, Select(Split::kValidation, "NOT box:#" + std::to_string(label)).size());
    return;
  }
  FAIL() << "every boxable class is in validation";
}

TEST_F(QueryTest, UnknownNamesSuggestCloseOnes) {
  const std::string name = sample_->vocab.boxable[CommonBox()].display_name;
  ASSERT_GE(name.size(), 3u);
  std::string typo = name;
  std::swap(typo[1], typo[2]);
  Query q;
  const Status s = ParseQuery("box:\"" + typo + "\"", *store_, &q);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("unknown boxable class '" + typo + "'")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("did you mean")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("'" + name + "'")) << s.message();
  EXPECT_TRUE(ParseQuery("box:Dog AND", *store_, &q).IsInvalidArgument());
  EXPECT_TRUE(ParseQuery("label:#0@1.5", *store_, &q).IsInvalidArgument());
  EXPECT_TRUE(ParseQuery("(all", *store_, &q).IsInvalidArgument());
  EXPECT_TRUE(ParseQuery("", *store_, &q).IsInvalidArgument());
}

TEST_F(QueryTest, CommandLineOutputs) {
  const uint16_t box = CommonBox();
  const std::string q = "'box:#" + std::to_string(box) + "'";
  const Indices want = Brute(Split::kTrain, [&](const ExampleData& e) {
    return Boxes(e, box, [](size_t) { return true; }) >= 1;
  });
  ASSERT_GE(want.size(), 3u);
  const std::vector<uint64_t> ids = sample_->Ids(Split::kTrain);
  std::string lines, id_lines;
  for (uint64_t i : want) {
    lines += std::to_string(i) + " " + ImageIdHex(ids[i]) + "\n";
    id_lines += ImageIdHex(ids[i]) + "\n";
  }
  const std::string base = "query " + sample_->path + " --split train " + q;
  testing::CommandResult r = testing::Oiv4kv(base);
  EXPECT_EQ(0, r.exit_code);
  EXPECT_EQ(lines, r.out);
  r = testing::Oiv4kv(base + " --ids");
  EXPECT_EQ(id_lines, r.out);
  r = testing::Oiv4kv(base + " --count");
  EXPECT_EQ(std::to_string(want.size()) + "\n", r.out);
  r = testing::Oiv4kv(base + " --ids --limit 2");
  EXPECT_EQ(ImageIdHex(ids[want[0]]) + "\n" + ImageIdHex(ids[want[1]]) + "\n", r.out);
  r = testing::Oiv4kv(base + " --json --limit 1");
  EXPECT_EQ(0, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("\"count\": " + std::to_string(want.size()))) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("\"id\": \"" + ImageIdHex(ids[want[0]]) + "\"")) << r.out;
  r = testing::Oiv4kv("query " + sample_->path + " --split train 'box:#0 AND'", true);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("oiv4-kv query: query 'box:#0 AND', column 11: expected a term")) << r.out;
  r = testing::Oiv4kv("query " + sample_->path + " --split train 'box:#0 AND NOT box:#0' --count");
  EXPECT_EQ("0\n", r.out);
}

TEST(QueryIndexTest, UnindexedStoreSaysToRunIndexThenWorks) {
  testing::TempDir dir;
  SampleStore sample;
  testing::SampleSpec spec;
  spec.examples = {40, 10, 0};
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  {  // Remove the index, as a store converted before it existed lacks it.
    OpenDb db;
    ASSERT_OK(OpenRocksDb(dir.Sub("s"), WriterDbOptions(WriterOptions()),
                          WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
    for (Split split : kAllSplits) {
      for (LabelList list : kAllLabelLists) {
        ASSERT_TRUE(db.db->Delete(rocksdb::WriteOptions(), db.family(Family::kMeta),
                                  LabelIndexKey(split, list)).ok());
      }
    }
  }
  {
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(dir.Sub("s"), StoreOptions(), &store));
    EXPECT_FALSE(store->HasLabelIndex());
    Indices out;
    const Status s = store->Select(Split::kTrain, Query::All(), &out);
    EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find("`oiv4-kv index " + dir.Sub("s") + "`"))
        << s.message();
    VerifyReport report;
    ASSERT_OK(VerifyStore(dir.Sub("s"), VerifyOptions(), {}, &report));
    EXPECT_TRUE(report.ok());
    ASSERT_EQ(1u, report.notes.size());
    EXPECT_NE(std::string::npos, report.notes[0].find("no label index")) << report.notes[0];
  }
  const testing::CommandResult q =
      testing::Oiv4kv("query " + dir.Sub("s") + " --split train all --count", true);
  EXPECT_EQ(1, q.exit_code) << q.out;
  EXPECT_NE(std::string::npos, q.out.find("oiv4-kv index")) << q.out;
  const testing::CommandResult r = testing::Oiv4kv("index " + dir.Sub("s"));
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_EQ(0, testing::Oiv4kv("index " + dir.Sub("s")).exit_code);  // idempotent
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir.Sub("s"), StoreOptions(), &store));
  EXPECT_TRUE(store->HasLabelIndex());
  Indices out;
  ASSERT_OK(store->Select(Split::kTrain, Query::All(), &out));
  EXPECT_EQ(40u, out.size());
  const testing::CommandResult c =
      testing::Oiv4kv("query " + dir.Sub("s") + " --split validation all --count");
  EXPECT_EQ(0, c.exit_code);
  EXPECT_EQ("10\n", c.out);
  VerifyReport report;
  ASSERT_OK(VerifyStore(dir.Sub("s"), VerifyOptions(), {}, &report));
  EXPECT_TRUE(report.ok() && report.notes.empty());
}

TEST(QueryIndexTest, VerifyNamesTheSplitAndClassOfADamagedIndex) {
  testing::TempDir dir;
  SampleStore sample;
  testing::SampleSpec spec;
  spec.examples = {30, 0, 0};
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  // An index built from the records with example 0's first box class removed.
  const std::vector<uint64_t> ids = sample.Ids(Split::kTrain);
  LabelIndexBuilder builder(sample.vocab.boxable.size(), sample.vocab.all.size());
  uint16_t dropped = 0;
  flatbuffers::FlatBufferBuilder fbb;
  for (size_t i = 0; i < ids.size(); ++i) {
    ExampleData e = sample.examples.at({Split::kTrain, ids[i]});
    if (i == 0) {
      ASSERT_FALSE(e.bobjects.label.empty());
      dropped = e.bobjects.label[0];
      for (uint16_t& l : e.bobjects.label) {
        if (l == dropped) l = static_cast<uint16_t>((dropped + 1) % sample.vocab.boxable.size());
      }
    }
    ASSERT_OK(BuildExample(e, &fbb));
    ASSERT_OK(builder.Add(i, *fb::GetExample(fbb.GetBufferPointer())));
  }
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(dir.Sub("s"), WriterDbOptions(WriterOptions()),
                          WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
    ASSERT_TRUE(db.db->Put(rocksdb::WriteOptions(), db.family(Family::kMeta),
                           LabelIndexKey(Split::kTrain, LabelList::kBoxes),
                           builder.Finish(LabelList::kBoxes)).ok());
  }
  VerifyReport report;
  ASSERT_OK(VerifyStore(dir.Sub("s"), VerifyOptions(), {}, &report));
  ASSERT_FALSE(report.ok());
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ("meta/labels/train/boxable", report.problems[0].where);
  const uint16_t first = std::min<uint16_t>(dropped, (dropped + 1) % sample.vocab.boxable.size());
  EXPECT_NE(std::string::npos,
            report.problems[0].reason.find("train split, boxable class " + std::to_string(first) + " '"))
      << report.problems[0].reason;
  const testing::CommandResult v = testing::Oiv4kv("verify " + dir.Sub("s"));
  EXPECT_EQ(1, v.exit_code) << v.out;
}

}  // namespace
}  // namespace oiv4kv
