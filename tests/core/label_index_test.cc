// The label index's encoding (store/core/label_index.h, version 2: Elias-Fano
// indices, then counts or confidences): exact bytes worked out by hand for
// small lists, and round trips checked against a brute-force tally of the
// examples the test made (empty classes, one entry, dense runs, the last
// index, counts over 255), plus damage and the refusal of version 1.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

#include "oiv4kv/query.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/label_index.h"
#include "store/verify/verify.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using Entries = std::vector<std::pair<uint64_t, uint32_t>>;  // (index, value)

// One example with these box labels (one box each) and image-level (label, confidence) rows.
ExampleData MakeExample(const std::vector<uint16_t>& boxes,
                        const std::vector<std::pair<uint16_t, uint8_t>>& image) {
  ExampleData e;
  for (uint16_t label : boxes) {
    e.bobjects.label.push_back(label);
    e.bobjects.source.push_back(0);
    for (float v : {0.1f, 0.2f, 0.3f, 0.4f}) e.bobjects.bbox.push_back(v);
    for (auto* flags : {&e.bobjects.is_occluded, &e.bobjects.is_truncated,
                        &e.bobjects.is_group_of, &e.bobjects.is_depiction,
                        &e.bobjects.is_inside}) {
      flags->push_back(0);
    }
  }
  for (const auto& [label, confidence] : image) {
    e.objects.label.push_back(label);
    e.objects.confidence.push_back(confidence);
    e.objects.source.push_back(0);
  }
  return e;
}

void AddAll(const std::vector<ExampleData>& examples, LabelIndexBuilder* builder) {
  flatbuffers::FlatBufferBuilder fbb;
  for (size_t i = 0; i < examples.size(); ++i) {
    ASSERT_OK(BuildExample(examples[i], &fbb));
    ASSERT_OK(builder->Add(i, *fb::GetExample(fbb.GetBufferPointer())));
  }
}

Entries Read(const LabelPostings& p, size_t label) {
  Entries out;
  EXPECT_OK(p.ForEach(label, [&](uint64_t i, uint32_t v) { out.emplace_back(i, v); }));
  return out;
}

TEST(LabelIndexEncoding, BoxesBytesByHand) {
  // 10 examples; boxable class 0 in examples 0 and 9, one box each.
  std::vector<ExampleData> examples(10);
  examples[0] = MakeExample({0}, {});
  examples[9] = MakeExample({0}, {});
  LabelIndexBuilder builder(3, 2);
  AddAll(examples, &builder);
  // n = 2, L = floor(log2(10 / 2)) = 2. Lows: 0 & 3 = 0 at bits 0-1, 9 & 3 = 1
  // at bits 2-3: 0x04. Highs (2 + (9 >> 2) + 1 = 5 bits): 0 >> 2 + 0 = bit 0,
  // 9 >> 2 + 1 = bit 3: 0x09. No counts over 1: no value bytes.
  const std::string want("L\x02\x00\x0a\x03\x02\x02\x00\x00\x04\x09", 11);
  EXPECT_EQ(want, builder.Finish(LabelList::kBoxes));
  // No image-level rows: both classes absent, one zero byte each.
  EXPECT_EQ(std::string("L\x02\x01\x0a\x02\x00\x00", 7), builder.Finish(LabelList::kImageLevel));
}

TEST(LabelIndexEncoding, ImageLevelBytesByHand) {
  // 10 examples; class 1 in example 3 at confidences 7 and 9 (the larger is
  // kept) and in example 5 at 0 (a verified negative: left out).
  std::vector<ExampleData> examples(10);
  examples[3] = MakeExample({}, {{1, 7}, {1, 9}});
  examples[5] = MakeExample({}, {{1, 0}});
  LabelIndexBuilder builder(1, 2);
  AddAll(examples, &builder);
  // n = 1, L = floor(log2(10)) = 3. Lows: 3 & 7 = 3: 0x03. Highs (1 + (9 >> 3)
  // + 1 = 3 bits): 3 >> 3 + 0 = bit 0: 0x01. Confidence 9 - 1 = 8 in 4 bits: 0x08.
  const std::string want("L\x02\x01\x0a\x02\x00\x01\x03\x03\x01\x08", 11);
  EXPECT_EQ(want, builder.Finish(LabelList::kImageLevel));
}

TEST(LabelIndexEncoding, CountsOverOneByHand) {
  // 4 examples; class 0: 1 box in example 1, 300 boxes in example 2.
  std::vector<ExampleData> examples(4);
  examples[1] = MakeExample({0}, {});
  examples[2] = MakeExample(std::vector<uint16_t>(300, 0), {});
  LabelIndexBuilder builder(1, 1);
  AddAll(examples, &builder);
  // n = 2, L = floor(log2(4 / 2)) = 1. Lows: 1 & 1 = 1 at bit 0, 2 & 1 = 0 at
  // bit 1: 0x01. Highs (2 + (3 >> 1) + 1 = 4 bits): 1 >> 1 + 0 = bit 0,
  // 2 >> 1 + 1 = bit 2: 0x05. Flags: entry 1 over 1: 0x02. varint(298) = 0xaa 0x02.
  const std::string want("L\x02\x00\x04\x01\x02\x05\x01\x05\x02\xaa\x02", 12);
  const std::string value = builder.Finish(LabelList::kBoxes);
  EXPECT_EQ(want, value);
  LabelPostings p;
  ASSERT_OK(LabelPostings::Parse(value, LabelList::kBoxes, &p));
  EXPECT_EQ((Entries{{1, 1}, {2, 300}}), Read(p, 0));
  std::vector<uint64_t> indices;
  ASSERT_OK(p.Decode(0, 256, &indices));
  EXPECT_EQ(std::vector<uint64_t>{2}, indices);
}

TEST(LabelIndexEncoding, RoundTripsAgainstABruteForceTally) {
  // 1000 examples: class 0 in every one (n = N: L = 0), class 1 in a run of
  // 200 (400..599), class 2 only in the last example, class 3 only in the
  // first, class 4 nowhere, classes 5..9 at random with counts up to 300;
  // image-level: class 0 everywhere at confidence 10, classes 1..49 at random
  // with confidences 0..10.
  constexpr size_t kN = 1000, kBoxable = 10, kAll = 50;
  std::mt19937 rng(26);
  std::vector<ExampleData> examples;
  std::map<size_t, Entries> boxes, image;  // the tally: class -> entries
  for (size_t i = 0; i < kN; ++i) {
    std::map<uint16_t, uint32_t> count;
    count[0] = 1 + rng() % 3;
    if (i >= 400 && i < 600) count[1] = 1;
    if (i == kN - 1) count[2] = 1;
    if (i == 0) count[3] = 2;
    for (uint16_t c = 5; c < kBoxable; ++c) {
      if (rng() % 10 == 0) count[c] = rng() % 4 == 0 ? 256 + rng() % 45 : 1 + rng() % 3;
    }
    std::vector<uint16_t> box_labels;
    for (const auto& [c, n] : count) {
      box_labels.insert(box_labels.end(), n, c);
      boxes[c].emplace_back(i, n);
    }
    std::vector<std::pair<uint16_t, uint8_t>> rows = {{0, 10}};
    std::map<uint16_t, uint8_t> best = {{0, 10}};
    for (uint16_t c = 1; c < kAll; ++c) {
      if (rng() % 8 != 0) continue;
      const auto confidence = static_cast<uint8_t>(rng() % 11);
      rows.emplace_back(c, confidence);
      if (confidence > 0) best[c] = confidence;
    }
    for (const auto& [c, v] : best) image[c].emplace_back(i, v);
    std::shuffle(box_labels.begin(), box_labels.end(), rng);
    examples.push_back(MakeExample(box_labels, rows));
  }
  LabelIndexBuilder builder(kBoxable, kAll);
  AddAll(examples, &builder);
  size_t checked = 0;
  for (LabelList list : kAllLabelLists) {
    const std::string value = builder.Finish(list);
    LabelPostings p;
    ASSERT_OK(LabelPostings::Parse(value, list, &p));
    ASSERT_EQ(kN, p.num_examples());
    const std::map<size_t, Entries>& want = list == LabelList::kBoxes ? boxes : image;
    ASSERT_EQ(list == LabelList::kBoxes ? kBoxable : kAll, p.num_labels());
    for (size_t c = 0; c < p.num_labels(); ++c) {
      const Entries expected = want.count(c) ? want.at(c) : Entries{};
      EXPECT_EQ(expected.size(), p.entries(c)) << c;
      EXPECT_EQ(expected, Read(p, c)) << "class " << c;
      ++checked;
    }
  }
  EXPECT_EQ(kBoxable + kAll, checked);
  EXPECT_EQ(kN, boxes.at(0).size());
  EXPECT_EQ((Entries{{kN - 1, 1}}), boxes.at(2));
  EXPECT_EQ((Entries{{0, 2}}), boxes.at(3));
  EXPECT_EQ(0u, boxes.count(4));
}

TEST(LabelIndexEncoding, DamageIsCorruption) {
  std::vector<ExampleData> examples(10);
  examples[0] = MakeExample({0}, {});
  examples[9] = MakeExample({0}, {});
  LabelIndexBuilder builder(3, 2);
  AddAll(examples, &builder);
  const std::string value = builder.Finish(LabelList::kBoxes);
  LabelPostings p;
  // One byte short: the region is smaller than its count needs.
  EXPECT_TRUE(LabelPostings::Parse(value.substr(0, value.size() - 1), LabelList::kBoxes, &p)
                  .IsCorruption());
  // A third high bit for a class of two entries.
  std::string extra_bit = value;
  extra_bit.back() = static_cast<char>(extra_bit.back() | 0x10);
  ASSERT_OK(LabelPostings::Parse(extra_bit, LabelList::kBoxes, &p));
  const Status s = p.ForEach(0, [](uint64_t, uint32_t) {});
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Read as the other kind.
  EXPECT_TRUE(LabelPostings::Parse(value, LabelList::kImageLevel, &p).IsCorruption());
}

TEST(LabelIndexEncoding, Version1IsRefusedUntilReindexed) {
  testing::TempDir dir;
  testing::SampleStore sample;
  testing::SampleSpec spec;
  spec.examples = {40, 0, 0};
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  {  // A version-1 boxes list, as the first indexed stores hold: 40 examples,
     // every class absent (a count of 0, one byte each).
    std::string v1("L\x01\x00\x28", 4);
    const size_t classes = sample.vocab.boxable.size();
    for (size_t v = classes; ; v >>= 7) {  // varint(classes)
      v1 += static_cast<char>(v < 0x80 ? v : ((v & 0x7f) | 0x80));
      if (v < 0x80) break;
    }
    v1.append(classes, '\0');
    OpenDb db;
    ASSERT_OK(OpenRocksDb(dir.Sub("s"), WriterDbOptions(WriterOptions()),
                          WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
    ASSERT_TRUE(db.db->Put(rocksdb::WriteOptions(), db.family(Family::kMeta),
                           LabelIndexKey(Split::kTrain, LabelList::kBoxes), v1)
                    .ok());
  }
  {
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(dir.Sub("s"), StoreOptions(), &store));
    EXPECT_FALSE(store->HasLabelIndex());
    std::vector<uint64_t> out;
    const Status s = store->Select(Split::kTrain, Query::All(), &out);
    EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find("format version 1")) << s.message();
    EXPECT_NE(std::string::npos, s.message().find("`oiv4-kv index " + dir.Sub("s") + "`"))
        << s.message();
    VerifyReport report;
    ASSERT_OK(VerifyStore(dir.Sub("s"), VerifyOptions(), {}, &report));
    EXPECT_TRUE(report.ok());
    ASSERT_EQ(1u, report.notes.size());
    EXPECT_NE(std::string::npos, report.notes[0].find("format version 1")) << report.notes[0];
  }
  ASSERT_EQ(0, testing::Oiv4kv("index " + dir.Sub("s")).exit_code);
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir.Sub("s"), StoreOptions(), &store));
  EXPECT_TRUE(store->HasLabelIndex());
  std::vector<uint64_t> out;
  ASSERT_OK(store->Select(Split::kTrain, Query::All(), &out));
  EXPECT_EQ(40u, out.size());
}

}  // namespace
}  // namespace oiv4kv
