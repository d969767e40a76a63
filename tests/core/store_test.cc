#include "oiv4kv/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "oiv4kv/version.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

// Every read test runs twice: through the annotation index (the default)
// and through RocksDB Gets.
class StoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), SampleSpec(), &sample_));
    ASSERT_OK(Store::Open(sample_.path, Options(), &store_));
  }
  static StoreOptions Options() {
    StoreOptions options;
    options.index_annotations = GetParam();
    return options;
  }

  TempDir dir_;
  SampleStore sample_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, GetReturnsEveryFeatureAsWritten) {
  for (const auto& [key, expected] : sample_.examples) {
    ExampleView view;
    ASSERT_OK(store_->Get(key.first, key.second, &view));
    testing::ExpectSameExample(expected, view);
  }
}

TEST_P(StoreTest, CountsAndIndexMatchTheWrittenIds) {
  const SampleSpec spec;
  for (Split split : kAllSplits) {
    const std::vector<uint64_t> ids = sample_.Ids(split);
    EXPECT_EQ(spec.examples[static_cast<int>(split)], store_->NumExamples(split));
    const auto index = store_->ImageIds(split);
    EXPECT_EQ(ids, std::vector<uint64_t>(index.begin(), index.end()));
    EXPECT_EQ(ids.size(), store_->manifest().num_examples[static_cast<int>(split)]);
  }
}

TEST_P(StoreTest, AtOverAWholeSplitEqualsGetById) {
  for (Split split : kAllSplits) {
    const std::vector<uint64_t> ids = sample_.Ids(split);
    for (size_t i = 0; i < ids.size(); ++i) {
      ExampleView by_index, by_id;
      ASSERT_OK(store_->At(split, i, &by_index));
      ASSERT_OK(store_->Get(split, ids[i], &by_id));
      EXPECT_EQ(ids[i], by_index.image_id());
      const auto a = by_index.record(), b = by_id.record();
      EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
      testing::ExpectSameExample(sample_.examples.at({split, ids[i]}), by_index);
    }
    ExampleView view;
    EXPECT_TRUE(store_->At(split, ids.size(), &view).IsInvalidArgument());
  }
}

TEST_P(StoreTest, ImagesRoundTripZeroCopy) {
  for (const auto& [key, expected] : sample_.images) {
    const auto& [config, split, id] = key;
    ImageView view;
    ASSERT_OK(store_->GetImage(config, split, id, &view));
    EXPECT_TRUE(std::equal(expected.bytes.begin(), expected.bytes.end(),
                           view.bytes().begin(), view.bytes().end()))
        << ExampleName(split, id);
    EXPECT_EQ(expected.meta.width, view.width());
    EXPECT_EQ(expected.meta.height, view.height());
    EXPECT_EQ(expected.meta.format, view.format());
    EXPECT_EQ(id, view.image_id());
  }
  ImageView first;
  ASSERT_OK(store_->ImageAt(Config::kOriginal, Split::kTest, 0, &first));
  EXPECT_EQ(sample_.Ids(Split::kTest)[0], first.image_id());
}

TEST_P(StoreTest, ViewsStayValidWhenMoved) {
  const auto& [key, expected] = *sample_.examples.begin();
  std::vector<ExampleView> views;
  for (int i = 0; i < 20; ++i) {  // vector growth moves the views
    ExampleView v;
    ASSERT_OK(store_->Get(key.first, key.second, &v));
    views.push_back(std::move(v));
  }
  for (const ExampleView& v : views) testing::ExpectSameExample(expected, v);
}

TEST_P(StoreTest, MultiGetAnswersEachKeyLikeGet) {
  std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  ids.insert(ids.begin() + 3, 12345);  // absent
  std::vector<ExampleView> views;
  std::vector<Status> statuses;
  store_->MultiGet(Split::kTrain, ids, &views, &statuses);
  ASSERT_EQ(ids.size(), views.size());
  ASSERT_EQ(ids.size(), statuses.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == 12345) {
      EXPECT_TRUE(statuses[i].IsNotFound()) << statuses[i].ToString();
      EXPECT_FALSE(views[i].valid());
      continue;
    }
    ASSERT_OK(statuses[i]);
    testing::ExpectSameExample(sample_.examples.at({Split::kTrain, ids[i]}), views[i]);
  }

  const std::vector<uint64_t> indices = {2, 0, 999, 1};
  store_->MultiAt(Split::kValidation, indices, &views, &statuses);
  const std::vector<uint64_t> val = sample_.Ids(Split::kValidation);
  EXPECT_TRUE(statuses[2].IsInvalidArgument());
  for (size_t i : {0, 1, 3}) {
    ASSERT_OK(statuses[i]);
    EXPECT_EQ(val[indices[i]], views[i].image_id());
  }

  std::vector<ImageView> images;
  const std::vector<uint64_t> test_ids = sample_.Ids(Split::kTest);
  store_->MultiGetImages(Config::kOriginal, Split::kTest, test_ids, &images, &statuses);
  for (size_t i = 0; i < test_ids.size(); ++i) {
    ASSERT_OK(statuses[i]);
    const auto& expected = sample_.images.at({Config::kOriginal, Split::kTest, test_ids[i]});
    EXPECT_TRUE(std::equal(expected.bytes.begin(), expected.bytes.end(),
                           images[i].bytes().begin(), images[i].bytes().end()));
  }
  store_->MultiGetImages(Config::k300k, Split::kTest, test_ids, &images, &statuses);
  for (const Status& s : statuses) EXPECT_TRUE(s.IsNotSupported());
}

TEST_P(StoreTest, MultiImageAtAnswersEachIndexLikeImageAt) {
  const std::vector<uint64_t> test_ids = sample_.Ids(Split::kTest);
  ASSERT_GE(test_ids.size(), 2u);
  const uint64_t last = test_ids.size() - 1, past = test_ids.size() + 5;
  const std::vector<uint64_t> indices = {last, 0, past, 0};
  std::vector<ImageView> images;
  std::vector<Status> statuses;
  store_->MultiImageAt(Config::kOriginal, Split::kTest, indices, &images, &statuses);
  ASSERT_EQ(indices.size(), images.size());
  ASSERT_EQ(indices.size(), statuses.size());
  EXPECT_TRUE(statuses[2].IsInvalidArgument()) << statuses[2].ToString();
  size_t checked = 0;
  for (size_t i : {0, 1, 3}) {
    ASSERT_OK(statuses[i]);
    const auto& expected =
        sample_.images.at({Config::kOriginal, Split::kTest, test_ids[indices[i]]});
    EXPECT_TRUE(std::equal(expected.bytes.begin(), expected.bytes.end(),
                           images[i].bytes().begin(), images[i].bytes().end()));
    ++checked;
  }
  EXPECT_EQ(3u, checked);
  // A config the store lacks: NotSupported for the valid indices.
  store_->MultiImageAt(Config::k300k, Split::kTest, indices, &images, &statuses);
  EXPECT_TRUE(statuses[0].IsNotSupported()) << statuses[0].ToString();
  EXPECT_TRUE(statuses[2].IsInvalidArgument()) << statuses[2].ToString();
}

TEST_P(StoreTest, AbsentKeysAndConfigs) {
  ExampleView view;
  const Status s = store_->Get(Split::kTrain, 0x0123456789abcdefULL, &view);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("train/0123456789abcdef")) << s.message();
  // An id of the validation split is not in train.
  EXPECT_TRUE(store_->Get(Split::kTrain, sample_.Ids(Split::kValidation)[0], &view)
                  .IsNotFound());
  EXPECT_EQ(Split::kValidation, store_->SplitOf(sample_.Ids(Split::kValidation)[0]));
  EXPECT_EQ(Split::kTrain, store_->SplitOf(sample_.Ids(Split::kTrain).back()));
  EXPECT_EQ(std::nullopt, store_->SplitOf(0x0123456789abcdefULL));
  ImageView image;
  EXPECT_TRUE(store_->GetImage(Config::k200k, Split::kTrain, sample_.Ids(Split::kTrain)[0],
                               &image).IsNotSupported());
  EXPECT_EQ(std::vector<Config>{Config::kOriginal}, store_->Configs());
}

TEST_P(StoreTest, VocabulariesAndLabelNames) {
  const Vocabulary& all = store_->vocabulary(VocabKind::kAll);
  ASSERT_EQ(sample_.vocab.all.size(), all.size());
  EXPECT_EQ(19'995u, all.size());
  EXPECT_EQ(7'186u, store_->vocabulary(VocabKind::kTrainable).size());
  EXPECT_EQ(601u, store_->vocabulary(VocabKind::kBoxable).size());
  EXPECT_EQ(6u, store_->vocabulary(VocabKind::kSource).size());
  for (size_t i : {size_t{0}, size_t{5000}, all.size() - 1}) {
    EXPECT_EQ(sample_.vocab.all[i].mid, all.mid(i));
    EXPECT_EQ(sample_.vocab.all[i].display_name, all.display_name(i));
    EXPECT_EQ(i, all.Find(sample_.vocab.all[i].mid));
  }
  EXPECT_EQ("xclick", store_->vocabulary(VocabKind::kSource).mid(4));
  // A box label names the same class through the boxable list.
  ExampleView view;
  bool found = false;
  for (const auto& [key, e] : sample_.examples) {
    if (e.bobjects.label.empty()) continue;
    ASSERT_OK(store_->Get(key.first, key.second, &view));
    const uint16_t label = view.bobjects().label[0];
    EXPECT_EQ(sample_.vocab.boxable[e.bobjects.label[0]].mid,
              store_->vocabulary(VocabKind::kBoxable).mid(label));
    found = true;
    break;
  }
  EXPECT_TRUE(found) << "no sample example has a box";
  EXPECT_EQ(LabelOrder::kTfds, store_->label_order());
}

TEST_P(StoreTest, ReadsComeFromTableFilesNotTheLog) {
  // After commit, a reader must find everything in SST files (the pinned,
  // unaligned path), with nothing replayed into a memtable from the WAL.
  rocksdb::DBOptions options;
  auto descriptors = ReaderFamilies(LayoutTuning());
  OpenDb db;
  ASSERT_OK(OpenRocksDb(sample_.path, ReaderDbOptions(StoreOptions()), descriptors, true, &db));
  for (Family f : {Family::kAnnotations, Family::kImagesOriginal, Family::kMeta}) {
    uint64_t mem_entries = 1;
    ASSERT_TRUE(db.db->GetIntProperty(db.family(f), "rocksdb.num-entries-active-mem-table",
                                      &mem_entries));
    EXPECT_EQ(0u, mem_entries) << FamilyName(f);
    rocksdb::ColumnFamilyMetaData meta;
    db.db->GetColumnFamilyMetaData(db.family(f), &meta);
    EXPECT_GT(meta.file_count, 0u) << FamilyName(f);
  }
  // Annotations were compacted into a single level.
  rocksdb::ColumnFamilyMetaData meta;
  db.db->GetColumnFamilyMetaData(db.family(Family::kAnnotations), &meta);
  int levels_with_files = 0;
  for (const auto& level : meta.levels) levels_with_files += level.files.empty() ? 0 : 1;
  EXPECT_EQ(1, levels_with_files);
}

TEST_P(StoreTest, ColumnFamilyBytesCoverTheData) {
  const auto bytes = store_->ColumnFamilyBytes();
  size_t image_bytes = 0;
  for (const auto& [key, img] : sample_.images) image_bytes += img.bytes.size();
  EXPECT_GE(bytes.at("images.original"), image_bytes);  // JPEG bytes are not compressed
  EXPECT_EQ(0u, bytes.at("images.300k"));
  EXPECT_GT(bytes.at("annotations"), 0u);
}

// Rewrites one value of a committed store through RocksDB directly.
void Overwrite(const std::string& path, Family family, std::string_view key,
               std::string_view value) {
  OpenDb db;
  ASSERT_OK(OpenRocksDb(path, WriterDbOptions(WriterOptions()),
                        WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
  ASSERT_TRUE(db.db->Put(rocksdb::WriteOptions(), db.family(family),
                         rocksdb::Slice(key.data(), key.size()),
                         rocksdb::Slice(value.data(), value.size())).ok());
  ASSERT_TRUE(db.db->Flush(rocksdb::FlushOptions(), db.family(family)).ok());
}

TEST_P(StoreTest, CorruptRecordsAreCorruptionNotCrashes) {
  const uint64_t garbage_id = sample_.Ids(Split::kTrain)[0];
  const uint64_t flipped_id = sample_.Ids(Split::kTrain)[1];
  const uint64_t image_id = sample_.Ids(Split::kTrain)[2];
  std::string flipped;
  {
    ExampleView view;  // must not outlive store_
    ASSERT_OK(store_->Get(Split::kTrain, flipped_id, &view));
    flipped.assign(reinterpret_cast<const char*>(view.record().data()), view.record().size());
  }
  flipped[0] ^= 0x40;  // the root offset now points elsewhere
  store_.reset();
  Overwrite(sample_.path, Family::kAnnotations,
            KeyView(EncodeKey(Split::kTrain, garbage_id)), std::string(300, '\x7f'));
  Overwrite(sample_.path, Family::kAnnotations,
            KeyView(EncodeKey(Split::kTrain, flipped_id)), flipped);
  Overwrite(sample_.path, Family::kImagesOriginal,
            KeyView(EncodeKey(Split::kTrain, image_id)), "\xff\xd8 not an image value");

  // Written around the writer, with valid block checksums: only the
  // FlatBuffers verifier can tell.
  StoreOptions options = Options();
  options.verify_records = true;
  ASSERT_OK(Store::Open(sample_.path, options, &store_));
  ExampleView view;
  Status s = store_->Get(Split::kTrain, garbage_id, &view);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(ImageIdHex(garbage_id))) << s.message();
  s = store_->Get(Split::kTrain, flipped_id, &view);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  ImageView image;
  s = store_->GetImage(Config::kOriginal, Split::kTrain, image_id, &image);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // The rest of the store still reads.
  ASSERT_OK(store_->Get(Split::kTrain, sample_.Ids(Split::kTrain)[3], &view));
}

// Flips one byte inside the first data block of the annotations table.
void FlipAnnotationTableByte(const std::string& path) {
  std::string file;
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(path, ReaderDbOptions(StoreOptions()), ReaderFamilies(LayoutTuning()),
                          true, &db));
    rocksdb::ColumnFamilyMetaData meta;
    db.db->GetColumnFamilyMetaData(db.family(Family::kAnnotations), &meta);
    ASSERT_EQ(1u, meta.file_count);
    file = meta.levels.back().files.at(0).db_path + meta.levels.back().files.at(0).name;
  }
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << file;
  f.seekg(100);
  char c = 0;
  f.read(&c, 1);
  c ^= 0x10;
  f.seekp(100);
  f.write(&c, 1);
}

TEST_P(StoreTest, AFlippedByteOnDiskIsCaught) {
  store_.reset();
  FlipAnnotationTableByte(sample_.path);
  Status s = Store::Open(sample_.path, Options(), &store_);
  if (GetParam()) {
    // The index reads every block at open and checks its checksum.
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find("checksum")) << s.message();
    return;
  }
  // Without the index the block is found bad when a Get reads it.
  ASSERT_OK(s);
  int corrupt = 0;
  for (Split split : kAllSplits) {
    for (uint64_t i = 0; i < store_->NumExamples(split); ++i) {
      ExampleView view;
      s = store_->At(split, i, &view);
      if (s.IsCorruption()) ++corrupt;
      EXPECT_TRUE(s.ok() || s.IsCorruption()) << s.ToString();
    }
  }
  EXPECT_GT(corrupt, 0);
}

INSTANTIATE_TEST_SUITE_P(ReadPath, StoreTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Indexed" : "RocksDbGet";
                         });

TEST(StoreOpen, RefusesWhatIsNotACompleteStore) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.Sub("nothing"), StoreOptions(), &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();

  // Everything written, nothing committed: an interrupted conversion.
  SampleSpec spec;
  spec.commit = false;
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("uncommitted"), spec, &sample));
  s = Store::Open(dir.Sub("uncommitted"), StoreOptions(), &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("incomplete")) << s.message();
  EXPECT_EQ(nullptr, store);
}

TEST(StoreOpen, RefusesAnotherSchemaVersion) {
  TempDir dir;
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), SampleSpec(), &sample));
  std::string value;
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(sample.path, ReaderDbOptions(StoreOptions()),
                          ReaderFamilies(LayoutTuning()), true, &db));
    ASSERT_TRUE(db.db->Get(rocksdb::ReadOptions(), db.family(Family::kMeta), kManifestKey,
                           &value).ok());
  }
  Manifest m;
  ASSERT_OK(DecodeManifest(value, &m));
  m.schema_version = kSchemaVersion + 1;
  Overwrite(sample.path, Family::kMeta, kManifestKey, EncodeManifest(m));
  std::unique_ptr<Store> store;
  Status s = Store::Open(sample.path, StoreOptions(), &store);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("schema version " +
                                                std::to_string(kSchemaVersion + 1)));
}

// A digest of an example's features, from the view or from the generator's
// record, so two processes can compare what they read with what was written.
uint64_t Mix(uint64_t h, uint64_t x) { return (h ^ x) * 0x100000001b3ULL; }

uint64_t Digest(const ExampleView& v) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : v.filename()) h = Mix(h, static_cast<uint8_t>(c));
  for (uint16_t l : v.objects().label) h = Mix(h, l);
  for (uint16_t l : v.objects_trainable().label) h = Mix(h, l);
  for (float f : v.bobjects().bbox) h = Mix(h, static_cast<uint64_t>(f * 1e6f));
  return h;
}

uint64_t Digest(const ExampleData& e) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : e.filename) h = Mix(h, static_cast<uint8_t>(c));
  for (uint16_t l : e.objects.label) h = Mix(h, l);
  for (uint16_t l : e.objects_trainable.label) h = Mix(h, l);
  for (float f : e.bobjects.bbox) h = Mix(h, static_cast<uint64_t>(f * 1e6f));
  return h;
}

uint64_t ReadAllDigest(const Store& store) {
  uint64_t total = 0;
  for (Split split : kAllSplits) {
    for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
      ExampleView v;
      if (!store.At(split, i, &v).ok()) return 0;
      total += Digest(v);
    }
  }
  return total;
}

TEST_P(StoreTest, TwoProcessesReadOneStoreAtOnce) {
  uint64_t expected = 0;
  for (const auto& [key, e] : sample_.examples) expected += Digest(e);
  int fds[2];
  ASSERT_EQ(0, pipe(fds));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child opens its own Store while the parent holds one open.
    close(fds[0]);
    std::unique_ptr<Store> store;
    uint64_t digest = 0;
    if (Store::Open(sample_.path, Options(), &store).ok()) {
      for (int round = 0; round < 5; ++round) digest = ReadAllDigest(*store);
    }
    const ssize_t n = write(fds[1], &digest, sizeof(digest));
    _exit(n == sizeof(digest) ? 0 : 1);
  }
  close(fds[1]);
  uint64_t parent_digest = 0;
  for (int round = 0; round < 5; ++round) parent_digest = ReadAllDigest(*store_);
  uint64_t child_digest = 0;
  ASSERT_EQ(static_cast<ssize_t>(sizeof(child_digest)),
            read(fds[0], &child_digest, sizeof(child_digest)));
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(child, waitpid(child, &wstatus, 0));
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_EQ(expected, parent_digest);
  EXPECT_EQ(expected, child_digest);
}

TEST(StoreConfigs, AConfigAddedLaterIsVisibleOnlyOnceCommitted) {
  TempDir dir;
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), SampleSpec(), &sample));
  SampleExampleGenerator gen(99);
  {
    std::unique_ptr<Writer> writer;
    ASSERT_OK(Writer::Open(sample.path, WriterOptions(), &writer));
    ASSERT_OK(writer->BeginConfig(Config::k300k));
    Batch batch;
    const auto first = sample.examples.begin()->first;
    ASSERT_OK(batch.AddImage(Config::k300k, first.first, first.second, gen.ImageBytes(10, 20),
                             {1, 1, ImageFormat::kJpeg}));
    ASSERT_OK(writer->Write(batch));
  }
  // In progress: a reader sees the committed config only.
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  EXPECT_EQ(std::vector<Config>{Config::kOriginal}, store->Configs());
  store.reset();

  std::unique_ptr<Writer> writer;
  ASSERT_OK(Writer::Open(sample.path, WriterOptions(), &writer));
  ASSERT_OK(testing::AddSampleConfig(writer.get(), Config::k300k, &gen, &sample));
  writer.reset();
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  EXPECT_EQ((std::vector<Config>{Config::kOriginal, Config::k300k}), store->Configs());
  for (const auto& [key, expected] : sample.images) {
    const auto& [config, split, id] = key;
    ImageView view;
    ASSERT_OK(store->GetImage(config, split, id, &view));
    EXPECT_TRUE(std::equal(expected.bytes.begin(), expected.bytes.end(),
                           view.bytes().begin(), view.bytes().end()));
    EXPECT_EQ(expected.meta.width, view.width());
  }
  const ConfigManifest* c = store->manifest().FindConfig(Config::k300k);
  ASSERT_NE(nullptr, c);
  EXPECT_EQ(sample.Ids(Split::kTrain).size(), c->num_images[0]);
}

TEST(StoreLimits, EmptySequencesAndMaximumSizes) {
  TempDir dir;
  SampleExampleGenerator gen(5);
  const SampleVocabularies& v = gen.vocabularies();
  std::unique_ptr<Writer> writer;
  ASSERT_OK(Writer::Open(dir.Sub("s"), WriterOptions(), &writer));
  ASSERT_OK(writer->PutVocabulary(VocabKind::kAll, v.all));
  ASSERT_OK(writer->PutVocabulary(VocabKind::kTrainable, v.trainable));
  ASSERT_OK(writer->PutVocabulary(VocabKind::kBoxable, v.boxable));
  ASSERT_OK(writer->PutVocabulary(VocabKind::kSource, v.source));

  ExampleData empty;
  empty.split = Split::kTest;
  empty.image_id = 0;  // smallest id
  empty.filename = "0000000000000000.jpg";

  // Largest values of every field, far more rows than any real image.
  ExampleData big;
  big.split = Split::kTest;
  big.image_id = ~0ULL;  // largest id
  big.filename = "ffffffffffffffff.jpg";
  for (int i = 0; i < 20'000; ++i) {
    big.objects.label.push_back(static_cast<uint16_t>(v.all.size() - 1 - i % 7));
    big.objects.confidence.push_back(10);
    big.objects.source.push_back(5);
  }
  big.objects_trainable.label.assign(7'000, static_cast<uint16_t>(v.trainable.size() - 1));
  big.objects_trainable.confidence.assign(7'000, 0);
  big.objects_trainable.source.assign(7'000, 2);
  const size_t boxes = 5'000;
  big.bobjects.label.assign(boxes, 600);
  big.bobjects.source.assign(boxes, 4);
  for (size_t i = 0; i < boxes; ++i) {
    big.bobjects.bbox.insert(big.bobjects.bbox.end(), {0.0f, 1e-7f, 0.99999994f, 1.0f});
  }
  big.bobjects.is_occluded.assign(boxes, -1);
  big.bobjects.is_truncated.assign(boxes, 1);
  big.bobjects.is_group_of.assign(boxes, 0);
  big.bobjects.is_depiction.assign(boxes, -1);
  big.bobjects.is_inside.assign(boxes, 1);

  ASSERT_OK(writer->BeginConfig(Config::k200k));
  Batch batch;
  ASSERT_OK(batch.AddExample(empty));
  ASSERT_OK(batch.AddExample(big));
  const std::vector<uint8_t> one_byte = {0x42};
  std::vector<uint8_t> large(8 << 20);
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<uint8_t>(i * 31);
  ASSERT_OK(batch.AddImage(Config::k200k, Split::kTest, 0, one_byte, {1, 1, ImageFormat::kPng}));
  // The largest sizes a Batch accepts (PNG's 2^31 - 1 a side).
  ASSERT_OK(batch.AddImage(Config::k200k, Split::kTest, ~0ULL, large,
                           {0x7fffffffu, 65535, ImageFormat::kPng}));
  ASSERT_OK(writer->Write(batch));
  const Split splits[] = {Split::kTest};
  ASSERT_OK(writer->CommitAnnotations(LabelOrder::kDownload, splits));
  ASSERT_OK(writer->CommitConfig(Config::k200k));
  writer.reset();

  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir.Sub("s"), StoreOptions(), &store));
  EXPECT_EQ(2u, store->NumExamples(Split::kTest));
  EXPECT_EQ(0u, store->NumExamples(Split::kTrain));
  EXPECT_FALSE(store->manifest().num_examples[0].has_value());
  ExampleView view;
  ASSERT_OK(store->At(Split::kTest, 0, &view));
  testing::ExpectSameExample(empty, view);
  EXPECT_EQ(0u, view.objects().size());
  EXPECT_EQ(0u, view.bobjects().size());
  ASSERT_OK(store->At(Split::kTest, 1, &view));
  testing::ExpectSameExample(big, view);
  EXPECT_EQ(1e-7f, view.bobjects().box(4999)[1]);

  ImageView image;
  ASSERT_OK(store->GetImage(Config::k200k, Split::kTest, 0, &image));
  ASSERT_EQ(1u, image.bytes().size());
  EXPECT_EQ(0x42, image.bytes()[0]);
  EXPECT_EQ(ImageFormat::kPng, image.format());
  ASSERT_OK(store->GetImage(Config::k200k, Split::kTest, ~0ULL, &image));
  EXPECT_TRUE(std::equal(large.begin(), large.end(), image.bytes().begin(),
                         image.bytes().end()));
  EXPECT_EQ(0x7fffffffu, image.width());
  EXPECT_EQ(65535u, image.height());
  EXPECT_EQ(LabelOrder::kDownload, store->label_order());
}

}  // namespace
}  // namespace oiv4kv
