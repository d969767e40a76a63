#include "tests/testutil.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <random>

#include "store/testing/sample_images.h"

namespace oiv4kv::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "oiv4kv-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  EXPECT_NE(p, nullptr) << "mkdtemp failed";
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult RunCommand(const std::string& command, bool with_stderr) {
  CommandResult r;
  FILE* p = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#ifdef OIV4KV_BINARY
CommandResult Oiv4kv(const std::string& args, bool with_stderr) {
  return RunCommand(std::string(OIV4KV_BINARY) + " " + args, with_stderr);
}
#endif

std::vector<uint64_t> SampleStore::Ids(Split split) const {
  std::vector<uint64_t> ids;
  for (const auto& [key, e] : examples) {
    if (key.first == split) ids.push_back(key.second);
  }
  return ids;
}

namespace {

ImageMeta RandomMeta(std::mt19937_64& rng) {
  std::uniform_int_distribution<uint32_t> side(16, 1024);
  return {side(rng), side(rng), ImageFormat::kJpeg};
}

Status WriteImages(Writer* writer, Config config, SampleExampleGenerator* gen,
                   SampleStore* sample, size_t per_batch) {
  Batch batch;
  for (const auto& [key, e] : sample->examples) {
    StoredImage img{gen->ImageBytes(100, 20'000), RandomMeta(gen->rng())};
    OIV4KV_RETURN_IF_ERROR(batch.AddImage(config, key.first, key.second, img.bytes, img.meta));
    sample->images[{config, key.first, key.second}] = std::move(img);
    if (batch.Count() >= per_batch) {
      OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
      batch.Clear();
    }
  }
  return writer->Write(batch);
}

}  // namespace

Status AddSampleConfig(Writer* writer, Config config, SampleExampleGenerator* gen,
                       SampleStore* sample) {
  OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(config));
  OIV4KV_RETURN_IF_ERROR(WriteImages(writer, config, gen, sample, 16));
  return writer->CommitConfig(config);
}

Status PutSampleVocabularies(Writer* writer, const SampleVocabularies& v) {
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kAll, v.all));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kTrainable, v.trainable));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kBoxable, v.boxable));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kSource, v.source));
  return Status::OK();
}

std::vector<uint8_t> JpegWithoutSegments(const std::vector<uint8_t>& jpeg, uint8_t marker) {
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  size_t i = 2;
  while (i + 4 <= jpeg.size() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA) {
    const size_t len = size_t{jpeg[i + 2]} << 8 | jpeg[i + 3];
    if (jpeg[i + 1] != marker) out.insert(out.end(), jpeg.begin() + i, jpeg.begin() + i + 2 + len);
    i += 2 + len;
  }
  out.insert(out.end(), jpeg.begin() + i, jpeg.end());
  return out;
}

Status AddJpegConfig(Config config, SampleStore* sample) {
  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(sample->path, WriterOptions(), &writer));
  OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(config));
  Batch batch;
  for (const auto& [key, e] : sample->examples) {
    std::mt19937_64 rng(key.second ^ static_cast<uint64_t>(config));
    std::uniform_int_distribution<uint32_t> side(24, 160);
    const uint32_t w = side(rng), h = side(rng);
    StoredImage img;
    OIV4KV_RETURN_IF_ERROR(EncodeJpeg(SyntheticImage(w, h, key.second), JpegSpec{}, &img.bytes));
    img.meta = {w, h, ImageFormat::kJpeg};
    OIV4KV_RETURN_IF_ERROR(batch.AddImage(config, key.first, key.second, img.bytes, img.meta));
    sample->images[{config, key.first, key.second}] = std::move(img);
    if (batch.Count() >= 16) {
      OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
      batch.Clear();
    }
  }
  OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
  return writer->CommitConfig(config);
}

Status WriteSampleStore(const std::string& path, const SampleSpec& spec, SampleStore* out) {
  SampleExampleGenerator gen(spec.seed);
  out->path = path;
  out->vocab = gen.vocabularies();
  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(path, WriterOptions(), &writer));
  const SampleVocabularies& v = gen.vocabularies();
  OIV4KV_RETURN_IF_ERROR(PutSampleVocabularies(writer.get(), v));
  for (Config c : spec.configs) OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(c));

  // Examples are written in a shuffled order: the store must not depend on
  // arriving in key order.
  std::vector<std::pair<Split, uint64_t>> keys;
  for (Split split : kAllSplits) {
    for (uint64_t id : gen.ImageIds(spec.examples[static_cast<int>(split)])) {
      keys.emplace_back(split, id);
    }
  }
  std::shuffle(keys.begin(), keys.end(), gen.rng());
  Batch batch;
  for (const auto& [split, id] : keys) {
    ExampleData e = gen.Next(split, id);
    OIV4KV_RETURN_IF_ERROR(batch.AddExample(e));
    out->examples[{split, id}] = std::move(e);
    if (batch.Count() >= spec.examples_per_batch) {
      OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
      batch.Clear();
    }
  }
  OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
  for (Config c : spec.configs) {
    OIV4KV_RETURN_IF_ERROR(WriteImages(writer.get(), c, &gen, out, spec.examples_per_batch));
  }
  if (!spec.commit) return Status::OK();
  std::vector<Split> splits;
  for (Split s : kAllSplits) {
    if (spec.examples[static_cast<int>(s)] > 0) splits.push_back(s);
  }
  OIV4KV_RETURN_IF_ERROR(writer->CommitAnnotations(LabelOrder::kTfds, splits));
  for (Config c : spec.configs) {
    OIV4KV_RETURN_IF_ERROR(writer->CommitConfig(c));
  }
  return Status::OK();
}

namespace {

template <typename T>
void ExpectSpanEq(const std::vector<T>& expected, std::span<const T> actual,
                  const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i], actual[i]) << what << "[" << i << "]";
  }
}

}  // namespace

void ExpectSameExample(const ExampleData& e, const ExampleView& v) {
  ASSERT_TRUE(v.valid());
  EXPECT_EQ(e.split, v.split());
  EXPECT_EQ(e.image_id, v.image_id());
  EXPECT_EQ(e.filename, v.filename());
  ExpectSpanEq(e.objects.label, v.objects().label, "objects/label");
  ExpectSpanEq(e.objects.confidence, v.objects().confidence, "objects/confidence");
  ExpectSpanEq(e.objects.source, v.objects().source, "objects/source");
  ExpectSpanEq(e.objects_trainable.label, v.objects_trainable().label,
               "objects_trainable/label");
  ExpectSpanEq(e.objects_trainable.confidence, v.objects_trainable().confidence,
               "objects_trainable/confidence");
  ExpectSpanEq(e.objects_trainable.source, v.objects_trainable().source,
               "objects_trainable/source");
  const BoxesView b = v.bobjects();
  ExpectSpanEq(e.bobjects.label, b.label, "bobjects/label");
  ExpectSpanEq(e.bobjects.source, b.source, "bobjects/source");
  ExpectSpanEq(e.bobjects.bbox, b.bbox, "bobjects/bbox");
  ExpectSpanEq(e.bobjects.is_occluded, b.is_occluded, "bobjects/is_occluded");
  ExpectSpanEq(e.bobjects.is_truncated, b.is_truncated, "bobjects/is_truncated");
  ExpectSpanEq(e.bobjects.is_group_of, b.is_group_of, "bobjects/is_group_of");
  ExpectSpanEq(e.bobjects.is_depiction, b.is_depiction, "bobjects/is_depiction");
  ExpectSpanEq(e.bobjects.is_inside, b.is_inside, "bobjects/is_inside");
}

}  // namespace oiv4kv::testing
