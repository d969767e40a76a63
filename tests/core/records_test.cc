#include "store/core/format/records.h"

#include <gtest/gtest.h>

#include <cstring>

#include "oiv4kv/version.h"
#include "schema/example_generated.h"
#include "schema/manifest_generated.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

// An aligned copy of a byte string, as a reader would hold it.
struct Aligned {
  explicit Aligned(std::string_view s) : words((s.size() + 7) / 8 + 1), size(s.size()) {
    std::memcpy(words.data(), s.data(), s.size());
  }
  std::span<const uint8_t> span() const {
    return {reinterpret_cast<const uint8_t*>(words.data()), size};
  }
  std::vector<uint64_t> words;
  size_t size;
};

std::string Finished(const flatbuffers::FlatBufferBuilder& fbb) {
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

TEST(Records, ImageValueRoundTrip) {
  const std::vector<uint8_t> bytes = {0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9};
  std::string value;
  AppendImageValue(bytes, {640, 480, ImageFormat::kJpeg}, &value);
  // Parse at an odd address: image values need no alignment.
  std::string shifted = "x" + value;
  std::span<const uint8_t> v(reinterpret_cast<const uint8_t*>(shifted.data()) + 1,
                             value.size());
  std::span<const uint8_t> out;
  ImageMeta meta;
  ASSERT_OK(ParseImageValue(v, &out, &meta));
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.end()), bytes);
  EXPECT_EQ(v.data(), out.data());  // zero-copy: the bytes are the value's prefix
  EXPECT_EQ(640u, meta.width);
  EXPECT_EQ(480u, meta.height);
  EXPECT_EQ(ImageFormat::kJpeg, meta.format);
}

TEST(Records, ImageValueWithBadTrailerIsCorruption) {
  std::span<const uint8_t> out;
  ImageMeta meta;
  const uint8_t tiny[3] = {1, 2, 3};
  EXPECT_TRUE(ParseImageValue(tiny, &out, &meta).IsCorruption());
  // A trailer size larger than the value.
  const uint8_t big[8] = {0, 0, 0, 0, 200, 0, 0, 0};
  EXPECT_TRUE(ParseImageValue(big, &out, &meta).IsCorruption());
  // A plausible size in front of bytes that are no ImageInfo.
  std::vector<uint8_t> junk(64, 0xAB);
  junk[60] = 32, junk[61] = 0, junk[62] = 0, junk[63] = 0;
  EXPECT_TRUE(ParseImageValue(junk, &out, &meta).IsCorruption());
}

TEST(Records, ExampleRejectsUnequalArrays) {
  flatbuffers::FlatBufferBuilder fbb;
  ExampleData e;
  e.objects.label = {1, 2};
  e.objects.confidence = {10};
  e.objects.source = {0, 1};
  EXPECT_TRUE(BuildExample(e, &fbb).IsInvalidArgument());
  ExampleData b;
  b.bobjects.label = {3};
  b.bobjects.source = {4};
  b.bobjects.bbox = {0.1f, 0.2f, 0.3f};  // 3 floats for one box
  b.bobjects.is_occluded = b.bobjects.is_truncated = b.bobjects.is_group_of =
      b.bobjects.is_depiction = b.bobjects.is_inside = {0};
  EXPECT_TRUE(BuildExample(b, &fbb).IsInvalidArgument());
}

TEST(Records, VerifierRejectsGarbageTruncationAndForeignBuffers) {
  SampleExampleGenerator gen(3);
  flatbuffers::FlatBufferBuilder fbb;
  ASSERT_OK(BuildExample(gen.Next(Split::kTrain, 42), &fbb));
  const std::string good = Finished(fbb);
  const fb::Example* root = nullptr;
  ASSERT_OK(ParseExample(Aligned(good).span(), true, &root));

  EXPECT_TRUE(ParseExample(Aligned(good.substr(0, good.size() / 2)).span(), true, &root)
                  .IsCorruption());
  EXPECT_TRUE(ParseExample(Aligned(std::string(good.size(), '\x5a')).span(), true, &root)
                  .IsCorruption());
  std::string wrong_id = good;
  std::memcpy(wrong_id.data() + 4, "XXXX", 4);  // file identifier lives at 4..8
  EXPECT_TRUE(ParseExample(Aligned(wrong_id).span(), true, &root).IsCorruption());
  EXPECT_TRUE(ParseExample(Aligned(wrong_id).span(), false, &root).IsCorruption());
}

TEST(Records, VerifierRejectsValidFlatBufferWithUnequalArrays) {
  // A well-formed FlatBuffer that the writer would never produce: 2 labels
  // but 1 confidence. Spans of unequal length would read out of bounds.
  flatbuffers::FlatBufferBuilder fbb;
  const uint16_t labels[] = {1, 2};
  const uint8_t conf[] = {10};
  const uint8_t src[] = {0, 0};
  auto objects = fb::CreateImageLabels(fbb, fbb.CreateVector(labels, 2),
                                       fbb.CreateVector(conf, 1), fbb.CreateVector(src, 2));
  fb::FinishExampleBuffer(fbb, fb::CreateExample(fbb, fbb.CreateString("a.jpg"), objects));
  const fb::Example* root = nullptr;
  EXPECT_TRUE(ParseExample(Aligned(Finished(fbb)).span(), true, &root).IsCorruption());
}

TEST(Records, IndexRoundTripAndOrderCheck) {
  const std::vector<uint64_t> ids = {1, 5, 0xffffffffffffffffULL};
  std::vector<uint64_t> back;
  ASSERT_OK(DecodeIndex(EncodeIndex(ids), &back));
  EXPECT_EQ(ids, back);
  const std::vector<uint64_t> unsorted = {5, 1};
  EXPECT_TRUE(DecodeIndex(EncodeIndex(unsorted), &back).IsCorruption());
  EXPECT_TRUE(DecodeIndex("1234567", &back).IsCorruption());
}

TEST(Records, ManifestRoundTrip) {
  Manifest m;
  m.schema_version = kSchemaVersion;
  m.writer_version = "9.8.7";
  m.label_order = LabelOrder::kTfds;
  m.annotations_complete = true;
  m.num_examples = {std::optional<uint64_t>(10), std::nullopt, std::optional<uint64_t>(0)};
  m.updated_unix_seconds = 1234567890123ULL;
  ConfigManifest c;
  c.config = Config::k200k;
  c.complete = true;
  c.num_images = {std::optional<uint64_t>(10), std::nullopt, std::optional<uint64_t>(0)};
  c.options = {"/data/oi", 16, ErrorPolicy::kSkip, 100'000'000, "/tfds"};
  c.report.problems = {{"train_0.tar.gz:train_0/00ab.jpg", "truncated JPEG"}};
  c.report.orphan_annotation_rows = 17;
  m.configs = {c};
  Manifest back;
  ASSERT_OK(DecodeManifest(EncodeManifest(m), &back));
  EXPECT_EQ(m.schema_version, back.schema_version);
  EXPECT_EQ(m.writer_version, back.writer_version);
  EXPECT_EQ(m.label_order, back.label_order);
  EXPECT_TRUE(back.annotations_complete);
  EXPECT_EQ(m.num_examples, back.num_examples);
  EXPECT_EQ(m.updated_unix_seconds, back.updated_unix_seconds);
  ASSERT_EQ(1u, back.configs.size());
  const ConfigManifest& b = back.configs[0];
  EXPECT_EQ(Config::k200k, b.config);
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(c.num_images, b.num_images);
  EXPECT_EQ("/data/oi", b.options.source);
  EXPECT_EQ(16u, b.options.threads);
  EXPECT_EQ(ErrorPolicy::kSkip, b.options.on_error);
  EXPECT_EQ(100'000'000u, b.options.max_pixels);
  EXPECT_EQ("/tfds", b.options.label_lists);
  ASSERT_EQ(1u, b.report.problems.size());
  EXPECT_EQ("train_0.tar.gz:train_0/00ab.jpg", b.report.problems[0].where);
  EXPECT_EQ("truncated JPEG", b.report.problems[0].reason);
  EXPECT_EQ(17u, b.report.orphan_annotation_rows);
}

// A manifest as a store written by any version holds it: config 300k with
// its options' on_error stored as `on_error` text.
std::string ManifestWithOnError(const std::string& on_error) {
  flatbuffers::FlatBufferBuilder fbb;
  auto options = fb::CreateConvertOptions(fbb, fbb.CreateString("/dl"), 4,
                                          fbb.CreateString(on_error), 7, fbb.CreateString(""));
  std::vector<flatbuffers::Offset<fb::ConfigInfo>> configs = {
      fb::CreateConfigInfo(fbb, fbb.CreateString("300k"), true, 0, options, 0)};
  auto root = fb::CreateManifest(fbb, kSchemaVersion, fbb.CreateString("0.1"),
                                 fb::LabelOrder::Download, true, 0, fbb.CreateVector(configs));
  fb::FinishManifestBuffer(fbb, root);
  return Finished(fbb);
}

TEST(Records, ManifestOnErrorTextReadsAsErrorPolicy) {
  const std::pair<std::string, std::optional<ErrorPolicy>> cases[] = {
      {"fail", ErrorPolicy::kFail}, {"skip", ErrorPolicy::kSkip}, {"", std::nullopt}};
  int checked = 0;
  for (const auto& [text, policy] : cases) {
    Manifest m;
    ASSERT_OK(DecodeManifest(ManifestWithOnError(text), &m));
    ASSERT_EQ(1u, m.configs.size());
    EXPECT_EQ(policy, m.configs[0].options.on_error) << "'" << text << "'";
    EXPECT_EQ("/dl", m.configs[0].options.source);
    EXPECT_EQ(4u, m.configs[0].options.threads);
    EXPECT_EQ(7u, m.configs[0].options.max_pixels);
    // Written back, it reads the same.
    Manifest back;
    ASSERT_OK(DecodeManifest(EncodeManifest(m), &back));
    EXPECT_EQ(policy, back.configs[0].options.on_error) << "'" << text << "'";
    ++checked;
  }
  EXPECT_EQ(3, checked);
}

TEST(Records, ManifestUnknownOnErrorIsCorruption) {
  Manifest m;
  const Status s = DecodeManifest(ManifestWithOnError("warn"), &m);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ("manifest: config 300k records unknown on_error 'warn' (want fail or skip)",
            s.message());
}

TEST(Records, VocabularyRoundTrip) {
  const std::vector<VocabEntry> entries = {{"/m/011k07", "Tortoise"},
                                           {"/m/0120dh", "Sea \"turtle\", green"},
                                           {"/m/x", ""}};
  std::vector<VocabEntry> back;
  ASSERT_OK(DecodeVocabulary(EncodeVocabulary(VocabKind::kBoxable, entries), &back));
  ASSERT_EQ(entries.size(), back.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].mid, back[i].mid);
    EXPECT_EQ(entries[i].display_name, back[i].display_name);
  }
  Vocabulary v(back);
  EXPECT_EQ(1u, v.Find("/m/0120dh"));
  EXPECT_FALSE(v.Find("/m/nope").has_value());
  EXPECT_EQ("Tortoise", v.display_name(0));
}

}  // namespace
}  // namespace oiv4kv
