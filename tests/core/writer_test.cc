#include "oiv4kv/writer.h"

#include <gtest/gtest.h>

#include "store/core/format/keys.h"
#include "store/core/writer_internal.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(Writer::Open(dir_.Sub("s"), WriterOptions(), &writer_));
  }

  void PutVocabularies() {
    const SampleVocabularies& v = gen_.vocabularies();
    ASSERT_OK(writer_->PutVocabulary(VocabKind::kAll, v.all));
    ASSERT_OK(writer_->PutVocabulary(VocabKind::kTrainable, v.trainable));
    ASSERT_OK(writer_->PutVocabulary(VocabKind::kBoxable, v.boxable));
    ASSERT_OK(writer_->PutVocabulary(VocabKind::kSource, v.source));
  }

  // Writes examples `ids` of train, with images in `config` for `with_image`.
  void WriteExamples(const std::vector<uint64_t>& ids,
                     const std::vector<uint64_t>& with_image) {
    Batch batch;
    for (uint64_t id : ids) ASSERT_OK(batch.AddExample(gen_.Next(Split::kTrain, id)));
    for (uint64_t id : with_image) {
      ASSERT_OK(batch.AddImage(Config::k300k, Split::kTrain, id, gen_.ImageBytes(10, 50),
                               {4, 3, ImageFormat::kJpeg}));
    }
    ASSERT_OK(writer_->Write(batch));
  }

  TempDir dir_;
  SampleExampleGenerator gen_{11};
  std::unique_ptr<Writer> writer_;
  const Split train_[1] = {Split::kTrain};
};

TEST_F(WriterTest, CommitConfigNamesAnExampleWithoutImage) {
  PutVocabularies();
  ASSERT_OK(writer_->BeginConfig(Config::k300k));
  WriteExamples({10, 20, 30}, {10, 30});
  ASSERT_OK(writer_->CommitAnnotations(LabelOrder::kTfds, train_));
  const Status s = writer_->CommitConfig(Config::k300k);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(ExampleName(Split::kTrain, 20)))
      << s.message();
  EXPECT_FALSE(writer_->manifest().FindConfig(Config::k300k)->complete);
}

TEST_F(WriterTest, CommitConfigNamesAnImageWithoutExample) {
  PutVocabularies();
  ASSERT_OK(writer_->BeginConfig(Config::k300k));
  WriteExamples({10, 30}, {10, 20, 30});
  ASSERT_OK(writer_->CommitAnnotations(LabelOrder::kTfds, train_));
  const Status s = writer_->CommitConfig(Config::k300k);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(ExampleName(Split::kTrain, 20)))
      << s.message();
}

TEST_F(WriterTest, CommitConfigRecordsCountsOptionsAndReport) {
  PutVocabularies();
  ASSERT_OK(writer_->BeginConfig(Config::k300k));
  WriteExamples({1, 2, 3}, {1, 2, 3});
  ASSERT_OK(writer_->CommitAnnotations(LabelOrder::kTfds, train_));
  ConfigCommit commit;
  commit.options.on_error = ErrorPolicy::kSkip;
  commit.report.problems.push_back({"train_0.tar.gz:x.jpg", "not a JPEG"});
  ASSERT_OK(CommitConfig(*writer_, Config::k300k, commit));
  const ConfigManifest* c = writer_->manifest().FindConfig(Config::k300k);
  ASSERT_NE(nullptr, c);
  EXPECT_TRUE(c->complete);
  EXPECT_EQ(3u, c->num_images[0]);
  EXPECT_FALSE(c->num_images[1].has_value());
  EXPECT_EQ(ErrorPolicy::kSkip, c->options.on_error);
  ASSERT_EQ(1u, c->report.problems.size());
  EXPECT_EQ(3u, writer_->manifest().num_examples[0]);
}

TEST_F(WriterTest, ImagesNeedBeginConfig) {
  PutVocabularies();
  Batch batch;
  ASSERT_OK(batch.AddImage(Config::kOriginal, Split::kTrain, 1, gen_.ImageBytes(10, 20),
                           {4, 3, ImageFormat::kJpeg}));
  const Status s = writer_->Write(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // The first error sticks: nothing can be committed after it.
  EXPECT_TRUE(writer_->status().IsInvalidArgument());
  EXPECT_FALSE(writer_->CommitAnnotations(LabelOrder::kTfds, train_).ok());
}

TEST_F(WriterTest, ExamplesAndVocabulariesAreFrozenOnceCommitted) {
  PutVocabularies();
  WriteExamples({1}, {});
  ASSERT_OK(writer_->CommitAnnotations(LabelOrder::kTfds, train_));
  Batch batch;
  ASSERT_OK(batch.AddExample(gen_.Next(Split::kTrain, 2)));
  EXPECT_TRUE(writer_->Write(batch).IsInvalidArgument());
}

TEST_F(WriterTest, VocabulariesAreRequiredAndSourcesFixed) {
  WriteExamples({1}, {});
  Status s = writer_->CommitAnnotations(LabelOrder::kTfds, train_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("vocabulary all")) << s.message();
  s = writer_->PutVocabulary(VocabKind::kSource, {{"machine", ""}, {"verification", ""}});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(WriterTest, BatchRejectsArraysOfUnequalLength) {
  ExampleData e = gen_.Next(Split::kTrain, 5);
  e.objects.source.push_back(1);
  Batch batch;
  const Status s = batch.AddExample(e);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.message().find(ExampleName(Split::kTrain, 5)));
  EXPECT_EQ(0u, batch.Count());
}

// Bad input to a Batch is refused at once, naming the image and the reason,
// and leaves the batch as it was: nothing of it reaches the store.
TEST_F(WriterTest, BatchRefusesBadImagesAndProgress) {
  Batch batch;
  const std::vector<uint8_t> bytes = {0xff, 0xd8, 0xff};
  const uint64_t id = 0x0011d545a9314517ULL;
  struct Case {
    Config config;
    Split split;
    std::vector<uint8_t> bytes;
    ImageMeta meta;
    std::string message;
  };
  const Case cases[] = {
      {Config::k300k, Split::kTrain, bytes, {0, 3, ImageFormat::kJpeg},
       "image 300k train/0011d545a9314517: size 0x3 (width and height must be > 0)"},
      {Config::k300k, Split::kTrain, bytes, {4, 0, ImageFormat::kJpeg},
       "image 300k train/0011d545a9314517: size 4x0 (width and height must be > 0)"},
      {Config::kOriginal, Split::kTest, bytes, {0xffffffffu, 65535, ImageFormat::kUnknown},
       "image original test/0011d545a9314517: format unknown (want jpeg or png)"},
      {Config::k200k, Split::kValidation, bytes, {4, 3, static_cast<ImageFormat>(7)},
       "image 200k validation/0011d545a9314517: format unknown (want jpeg or png)"},
      {Config::k300k, Split::kTrain, {}, {4, 3, ImageFormat::kJpeg},
       "image 300k train/0011d545a9314517: no bytes"},
      {Config::k300k, Split::kTrain, bytes, {65536, 3, ImageFormat::kJpeg},
       "image 300k train/0011d545a9314517: size 65536x3 is larger than jpeg allows (65535 a "
       "side)"},
      {Config::kOriginal, Split::kTrain, bytes, {1, 0x80000000u, ImageFormat::kPng},
       "image original train/0011d545a9314517: size 1x2147483648 is larger than png allows "
       "(2147483647 a side)"},
      {static_cast<Config>(3), Split::kTrain, bytes, {4, 3, ImageFormat::kJpeg},
       "config 3 / split 0 is not a config / split (original, 300k or 200k / train, "
       "validation or test)"},
      {Config::k300k, static_cast<Split>(3), bytes, {4, 3, ImageFormat::kJpeg},
       "config 1 / split 3 is not a config / split"},
  };
  int checked = 0;
  for (const Case& c : cases) {
    const Status s = batch.AddImage(c.config, c.split, id, c.bytes, c.meta);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.message << ": " << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find("Batch::AddImage: " + c.message))
        << s.message();
    EXPECT_EQ(0u, batch.Count()) << c.message;
    ++checked;
  }
  EXPECT_EQ(9, checked);
  const Status s = PutProgress(batch, "", "17");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ("Batch::PutProgress: empty key (value \"17\")", s.message());
  EXPECT_EQ(0u, batch.Count());
  // Good input still goes in, up to each format's largest sides.
  ASSERT_OK(batch.AddImage(Config::kOriginal, Split::kTest, id, bytes,
                           {0x7fffffffu, 1, ImageFormat::kPng}));
  ASSERT_OK(batch.AddImage(Config::k300k, Split::kTest, id, bytes,
                           {65535, 65535, ImageFormat::kJpeg}));
  ASSERT_OK(PutProgress(batch, "k", ""));
  EXPECT_EQ(3u, batch.Count());
}

TEST_F(WriterTest, ProgressIsWrittenWithItsBatch) {
  std::string value;
  EXPECT_TRUE(GetProgress(*writer_, "train_0.tar.gz", &value).IsNotFound());
  Batch batch;
  ASSERT_OK(batch.AddExample(gen_.Next(Split::kTrain, 7)));
  ASSERT_OK(PutProgress(batch, "train_0.tar.gz", "member 17"));
  ASSERT_OK(writer_->Write(batch));
  ASSERT_OK(GetProgress(*writer_, "train_0.tar.gz", &value));
  EXPECT_EQ("member 17", value);
  writer_.reset();
  ASSERT_OK(Writer::Open(dir_.Sub("s"), WriterOptions(), &writer_));
  ASSERT_OK(GetProgress(*writer_, "train_0.tar.gz", &value));
  EXPECT_EQ("member 17", value);
}

TEST_F(WriterTest, ScanAndClearProgressByPrefix) {
  Batch batch;
  ASSERT_OK(PutProgress(batch, "present/300k/b", "2"));
  ASSERT_OK(PutProgress(batch, "present/300k/a", "1"));
  ASSERT_OK(PutProgress(batch, std::string("present/300k/\xff", 14), "3"));
  ASSERT_OK(PutProgress(batch, "present/original/a", "x"));
  ASSERT_OK(PutProgress(batch, "archive/300k/train_0", "17"));
  ASSERT_OK(writer_->Write(batch));
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_OK(ScanProgress(*writer_, "present/300k/", [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  }));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"present/300k/a", "1"}, {"present/300k/b", "2"},
      {std::string("present/300k/\xff", 14), "3"}};
  EXPECT_EQ(expected, seen);
  ASSERT_OK(ClearProgress(*writer_, "present/300k/"));
  seen.clear();
  ASSERT_OK(ScanProgress(*writer_, "present/", [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  }));
  const std::vector<std::pair<std::string, std::string>> left = {{"present/original/a", "x"}};
  EXPECT_EQ(left, seen);
  std::string value;
  ASSERT_OK(GetProgress(*writer_, "archive/300k/train_0", &value));
}

TEST_F(WriterTest, OneWriterAtATime) {
  std::unique_ptr<Writer> second;
  const Status s = Writer::Open(dir_.Sub("s"), WriterOptions(), &second);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(nullptr, second);
}

}  // namespace
}  // namespace oiv4kv
