// VerifyStore on generated stores: a clean store has no problem, and each
// kind of damage, written around the writer with valid block checksums, is
// a problem naming the key and the reason.
#include "store/verify/verify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/writer_internal.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

// Writes (or with a null `value` deletes) one key straight into RocksDB, as
// a bug or a foreign tool could, and flushes it into a table file.
void Overwrite(const std::string& path, Family family, std::string_view key,
               const std::string* value) {
  OpenDb db;
  ASSERT_OK(OpenRocksDb(path, WriterDbOptions(WriterOptions()),
                        WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
  const rocksdb::Slice k(key.data(), key.size());
  rocksdb::Status s = value ? db.db->Put(rocksdb::WriteOptions(), db.family(family), k, *value)
                            : db.db->Delete(rocksdb::WriteOptions(), db.family(family), k);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db.db->Flush(rocksdb::FlushOptions(), db.family(family)).ok());
}
void Put(const std::string& path, Family family, std::string_view key, const std::string& value) {
  Overwrite(path, family, key, &value);
}
void Delete(const std::string& path, Family family, std::string_view key) {
  Overwrite(path, family, key, nullptr);
}

std::string Describe(const VerifyReport& r) {
  std::string out = std::to_string(r.num_problems) + " problems:\n";
  for (const Problem& p : r.problems) out += "  " + p.where + ": " + p.reason + "\n";
  return out;
}

// The problems whose `where` is `where` and whose reason contains `reason`.
size_t CountProblems(const VerifyReport& r, const std::string& where, const std::string& reason) {
  size_t n = 0;
  for (const Problem& p : r.problems) {
    n += p.where == where && p.reason.find(reason) != std::string::npos;
  }
  return n;
}

// 60 examples with real JPEGs in 300k, so that `deep` decodes them all.
class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SampleSpec spec;
    spec.configs = {};
    ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), spec, &sample_));
    ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample_));
  }

  VerifyReport Verify(bool deep = false, size_t max_problems = 1000) {
    VerifyOptions o;
    o.deep = deep;
    o.max_problems = max_problems;
    o.threads = 2;
    VerifyReport r;
    EXPECT_OK(VerifyStore(sample_.path, o, nullptr, &r));
    return r;
  }

  std::string Key(Split split, uint64_t id) const {
    return std::string(KeyView(EncodeKey(split, id)));
  }

  TempDir dir_;
  SampleStore sample_;
};

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

TEST_F(VerifyTest, MissingVocabularyIsAProblem) {
  Delete(sample_.path, Family::kVocab, "boxable");
  const VerifyReport r = Verify();
  EXPECT_EQ(1u, CountProblems(r, "vocab/boxable", "missing")) << Describe(r);
}

TEST_F(VerifyTest, ProblemsAreCappedButCounted) {
  const std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  for (size_t i = 0; i < 10; ++i)
    Delete(sample_.path, Family::kImages300k, Key(Split::kTrain, ids[i]));
  const VerifyReport r = Verify(/*deep=*/false, /*max_problems=*/3);
  EXPECT_EQ(3u, r.problems.size());
  EXPECT_EQ(11u, r.num_problems);  // 10 images and the train count
}

// OPTIONS files carry no checksum and RocksDB does not read them back; a
// byte that is not text in one, even inside a value RocksDB still parses,
// is damage.
TEST_F(VerifyTest, OptionsFilesMustBeText) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(sample_.path)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("OPTIONS-")) continue;
    names.push_back(name);
    std::string text;
    {
      std::ifstream f(e.path(), std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(f), {});
    }
    const size_t at = text.find("db_host_id=__hostname__");
    ASSERT_NE(std::string::npos, at) << name;
    text[at + 13] = '\xe9';
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << text;
  }
  ASSERT_FALSE(names.empty());
  const VerifyReport r = Verify();
  for (const std::string& name : names) {
    EXPECT_EQ(1u, CountProblems(r, name, "byte 233 at offset")) << Describe(r);
  }
  EXPECT_EQ(names.size(), r.num_problems) << Describe(r);
}

// A write-ahead log of several 32 KiB blocks, with records split across
// them, is read record by record: intact it is clean, and a changed bit in
// any record is found (RocksDB's own replay would stop there quietly).
TEST_F(VerifyTest, EveryWriteAheadLogRecordIsChecked) {
  {
    std::unique_ptr<Writer> writer;
    ASSERT_OK(Writer::Open(sample_.path, WriterOptions(), &writer));
    for (int i = 0; i < 40; ++i) {
      Batch batch;
      ASSERT_OK(PutProgress(batch, "test/" + std::to_string(i),
                                  std::string(500 + 997 * i, 'a' + i % 26)));
      ASSERT_OK(writer->Write(batch));
    }
  }  // closed without a flush: the batches stay in the log
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(sample_.path)) {
    if (e.path().extension() == ".log" && e.file_size() > 100'000) wal = e.path().string();
  }
  ASSERT_FALSE(wal.empty()) << "no write-ahead log of several blocks";
  ASSERT_TRUE(Verify().ok()) << Describe(Verify());

  const std::string original = [&] {
    std::ifstream f(wal, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();
  for (size_t offset : {size_t{3}, size_t{32768 + 2}, original.size() / 3, original.size() / 2,
                        original.size() - 5}) {
    std::string damaged = original;
    damaged[offset] ^= 0x04;
    std::ofstream(wal, std::ios::binary | std::ios::trunc) << damaged;
    const VerifyReport r = Verify();
    const std::string name = std::filesystem::path(wal).filename().string();
    EXPECT_EQ(1u, CountProblems(r, name, "")) << "offset " << offset << "\n" << Describe(r);
  }
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << original;
  EXPECT_TRUE(Verify().ok());
}

}  // namespace
}  // namespace oiv4kv
