// Loader (oiv4kv/loader.h) over sample stores with real JPEGs: the same bytes
// for any threads and prefetch, resume from every batch, every example once
// across shards with equal batch counts, annotations and boxes against the
// generator's record, the bad-image policies, states of other loaders, and
// repeats of a sampled epoch drawn apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "oiv4kv/image_id.h"
#include "oiv4kv/loader.h"
#include "oiv4kv/sampling.h"
#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/testing/sample_images.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

constexpr size_t kTrain = 40;

// FNV-1a over everything a batch holds.
struct Hasher {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  }
  template <typename T>
  void Vec(const std::vector<T>& v) {
    Bytes(v.data(), v.size() * sizeof(T));
  }
};

uint64_t HashBatch(const LoaderBatch& b) {
  Hasher h;
  h.Bytes(b.images.data(), b.images.size());
  h.Vec(b.image_ids);
  h.Vec(b.indices);
  h.Vec(b.valid);
  for (const TransformRecord& r : b.transforms) {
    const double v[] = {r.crop_x, r.crop_y, r.crop_width, r.crop_height};
    h.Bytes(v, sizeof v);
    const int32_t w[] = {int32_t(r.content_width), int32_t(r.content_height), r.pad_x, r.pad_y,
                         r.flip};
    h.Bytes(w, sizeof w);
  }
  h.Vec(b.objects.offsets);
  h.Vec(b.objects.label);
  h.Vec(b.objects_trainable.label);
  h.Vec(b.bobjects.offsets);
  h.Vec(b.bobjects.bbox);
  h.Vec(b.bobjects.kept);
  return h.h;
}

// Calls fn on every batch of the loader's epoch; returns how many there were.
// Fails the test on an error.
size_t ForEachBatch(Loader* loader, const std::function<void(const LoaderBatch&)>& fn) {
  size_t n = 0;
  for (;;) {
    const LoaderBatch* b = nullptr;
    const Status s = loader->Next(&b);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok() || b == nullptr) return n;
    fn(*b);
    ++n;
  }
}

class LoaderTest : public testing::StoreSuite<LoaderTest> {
 public:
  static Status Build(const std::string& path, SampleStore* sample) {
    SampleSpec spec;
    spec.examples = {kTrain, 12, 0};
    spec.configs = {};
    OIV4KV_RETURN_IF_ERROR(testing::WriteSampleStore(path, spec, sample));
    return testing::AddJpegConfig(Config::k300k, sample);
  }

 protected:
  static LoaderOptions Options(uint32_t threads, uint32_t prefetch) {
    LoaderOptions o;
    o.scan.batch_size = 6;
    o.scan.seed = 3;
    o.scan.epoch = 1;
    o.scan.config = Config::k300k;
    o.transform.width = 40;
    o.transform.height = 32;
    o.threads = threads;
    o.prefetch = prefetch;
    return o;
  }

  // Every batch's hash until the end (or an error).
  static std::vector<uint64_t> Hashes(Loader* loader) {
    std::vector<uint64_t> out;
    ForEachBatch(loader, [&](const LoaderBatch& b) { out.push_back(HashBatch(b)); });
    return out;
  }
};

TEST_F(LoaderTest, SameBytesForAnyThreadsAndPrefetch) {
  std::vector<uint64_t> first;
  int runs = 0;
  for (uint32_t threads : {1u, 2u, 4u}) {
    for (uint32_t prefetch : {0u, 1u, 3u}) {
      std::unique_ptr<Loader> loader;
      ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(threads, prefetch), &loader));
      const std::vector<uint64_t> hashes = Hashes(loader.get());
      EXPECT_EQ(hashes.size(), 7u);  // ceil(40 / 6)
      if (first.empty()) {
        first = hashes;
      } else {
        EXPECT_EQ(hashes, first) << threads << " threads, prefetch " << prefetch;
      }
      ++runs;
    }
  }
  EXPECT_EQ(runs, 9);
  // Another seed or epoch gives other batches.
  LoaderOptions o = Options(2, 1);
  o.scan.epoch = 2;
  std::unique_ptr<Loader> loader;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, o, &loader));
  EXPECT_NE(Hashes(loader.get()), first);
}

// The reference for boxes: fractions along the reported crop, clipped.
std::array<double, 4> RefBox(const TransformRecord& r, const float* b, double* kept) {
  double f[4];
  f[0] = (b[0] * r.source_height - r.crop_y) / r.crop_height;
  f[1] = (b[1] * r.source_width - r.crop_x) / r.crop_width;
  f[2] = (b[2] * r.source_height - r.crop_y) / r.crop_height;
  f[3] = (b[3] * r.source_width - r.crop_x) / r.crop_width;
  double c[4];
  for (int i = 0; i < 4; ++i) c[i] = std::clamp(f[i], 0.0, 1.0);
  const double area = (f[2] - f[0]) * (f[3] - f[1]);
  // A zero-area box (the generator writes some, as the real CSVs hold
  // some) is kept whole when it lies inside the crop, else not at all.
  const bool inside = f[0] >= 0 && f[1] >= 0 && f[2] <= 1 && f[3] <= 1;
  *kept = area > 0 ? (c[2] - c[0]) * (c[3] - c[1]) / area : (inside ? 1 : 0);
  double x0 = r.pad_x + c[1] * r.content_width, x1 = r.pad_x + c[3] * r.content_width;
  if (r.flip) {
    const double t = x0;
    x0 = r.width - x1;
    x1 = r.width - t;
  }
  return {(r.pad_y + c[0] * r.content_height) / r.height, x0 / r.width,
          (r.pad_y + c[2] * r.content_height) / r.height, x1 / r.width};
}

TEST_F(LoaderTest, BatchesHoldTheScanOrderAnnotationsAndMappedBoxes) {
  for (TransformKind kind : {TransformKind::kRandomResizedCrop, TransformKind::kLetterbox}) {
    LoaderOptions o = Options(2, 2);
    o.transform.kind = kind;
    o.transform.jitter_min = 0.7;
    o.transform.jitter_max = 1.6;
    std::unique_ptr<Loader> loader;
    ASSERT_OK(Loader::Open(store_, Split::kTrain, o, &loader));
    std::unique_ptr<Scan> scan;
    ASSERT_OK(Scan::Open(store_, Split::kTrain, o.scan, &scan));
    const std::vector<uint64_t>& order = scan->indices();
    const std::vector<uint64_t> ids = sample_->Ids(Split::kTrain);
    size_t examples = 0, boxes = 0, kept = 0, pixels_checked = 0;
    TransformDecoder decoder;
    for (;;) {
      const LoaderBatch* b = nullptr;
      ASSERT_OK(loader->Next(&b));
      if (b == nullptr) break;
      ASSERT_EQ(b->images.size(), 6u * 40 * 32 * 3);
      for (uint32_t i = 0; i < b->size; ++i) {
        const size_t pos = b->batch_index * 6 + i;
        if (pos >= order.size()) {
          EXPECT_EQ(b->valid[i], 0);
          continue;
        }
        ASSERT_EQ(b->valid[i], 1);
        EXPECT_EQ(b->indices[i], order[pos]);
        ASSERT_EQ(b->image_ids[i], ids[order[pos]]);
        const ExampleData& e = sample_->examples.at({Split::kTrain, ids[order[pos]]});
        const auto& img = sample_->images.at({Config::k300k, Split::kTrain, e.image_id});
        const TransformRecord& r = b->transforms[i];
        EXPECT_EQ(r.source_width, img.meta.width);
        EXPECT_EQ(r.source_height, img.meta.height);
        // Labels, as stored.
        const uint64_t o0 = b->objects.offsets[i], o1 = b->objects.offsets[i + 1];
        EXPECT_EQ(std::vector<uint16_t>(b->objects.label.begin() + o0,
                                        b->objects.label.begin() + o1),
                  e.objects.label);
        const uint64_t t0 = b->objects_trainable.offsets[i];
        const uint64_t t1 = b->objects_trainable.offsets[i + 1];
        EXPECT_EQ(std::vector<uint16_t>(b->objects_trainable.label.begin() + t0,
                                        b->objects_trainable.label.begin() + t1),
                  e.objects_trainable.label);
        // Boxes through the reference.
        const uint64_t b0 = b->bobjects.offsets[i], b1 = b->bobjects.offsets[i + 1];
        ASSERT_EQ(b1 - b0, e.bobjects.label.size());
        for (uint64_t k = 0; k < b1 - b0; ++k) {
          double frac;
          const auto ref = RefBox(r, &e.bobjects.bbox[4 * k], &frac);
          for (int c = 0; c < 4; ++c) {
            EXPECT_NEAR(b->bobjects.bbox[4 * (b0 + k) + c], ref[c], 1e-5);
          }
          EXPECT_EQ(b->bobjects.kept[b0 + k], frac >= o.transform.min_box_area_kept ? 1 : 0);
          EXPECT_EQ(b->bobjects.label[b0 + k], e.bobjects.label[k]);
          kept += b->bobjects.kept[b0 + k];
          ++boxes;
        }
        // The slot's pixels: the reported record decoded on its own.
        std::vector<uint8_t> alone(40 * 32 * 3);
        ASSERT_OK(decoder.DecodeTransformed(img.bytes, r, o.transform.pad_value, {}, alone,
                                            nullptr));
        EXPECT_EQ(0, std::memcmp(alone.data(), b->images.data() + size_t{i} * alone.size(),
                                 alone.size()));
        pixels_checked += alone.size();
        ++examples;
      }
    }
    EXPECT_EQ(examples, kTrain);
    EXPECT_EQ(pixels_checked, kTrain * 40 * 32 * 3);
    EXPECT_GT(boxes, 0u);
    EXPECT_EQ(loader->delivered(), 7u);
  }
}

TEST_F(LoaderTest, ResumeFromEveryBatchYieldsTheRest) {
  std::unique_ptr<Loader> whole;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(2, 1), &whole));
  const std::vector<uint64_t> all = Hashes(whole.get());
  ASSERT_EQ(all.size(), 7u);
  int checked = 0;
  for (size_t k = 0; k <= all.size(); ++k) {
    std::unique_ptr<Loader> first;
    ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(2, 1), &first));
    for (size_t i = 0; i < k; ++i) {
      const LoaderBatch* b = nullptr;
      ASSERT_OK(first->Next(&b));
      ASSERT_NE(b, nullptr);
    }
    const std::string state = first->position();
    EXPECT_NE(state.find("batches=" + std::to_string(k) + ";"), std::string::npos) << state;
    first.reset();
    std::unique_ptr<Loader> rest;
    ASSERT_OK(Loader::Resume(store_, Split::kTrain, Options(3, 2), state, &rest));
    EXPECT_EQ(rest->delivered(), k);
    EXPECT_EQ(Hashes(rest.get()), std::vector<uint64_t>(all.begin() + k, all.end())) << k;
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST_F(LoaderTest, ResumeRefusesAnotherLoadersState) {
  std::unique_ptr<Loader> loader;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(1, 0), &loader));
  const LoaderBatch* b = nullptr;
  ASSERT_OK(loader->Next(&b));
  const std::string state = loader->position();
  std::unique_ptr<Loader> other;
  LoaderOptions o = Options(1, 0);
  o.scan.batch_size = 8;
  Status s = Loader::Resume(store_, Split::kTrain, o, state, &other);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("batch_size is 6 in the state, 8 here"), std::string::npos)
      << s.ToString();
  o = Options(1, 0);
  o.remainder = Remainder::kDrop;
  s = Loader::Resume(store_, Split::kTrain, o, state, &other);
  EXPECT_NE(s.message().find("remainder is pad in the state, drop here"), std::string::npos)
      << s.ToString();
  o = Options(1, 0);
  o.transform.width = 64;
  s = Loader::Resume(store_, Split::kTrain, o, state, &other);
  EXPECT_NE(s.message().find("size is 40x32 in the state, 64x32 here"), std::string::npos)
      << s.ToString();
  o = Options(1, 0);
  o.scan.seed = 4;
  s = Loader::Resume(store_, Split::kTrain, o, state, &other);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("seed"), std::string::npos) << s.ToString();
  s = Loader::Resume(store_, Split::kTrain, Options(1, 0), "scan2:epoch=1,offset=6", &other);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("not a loader state"), std::string::npos) << s.ToString();
  // The state records its epoch: resuming it under another epoch keeps its own.
  o = Options(1, 0);
  o.scan.epoch = 9;
  ASSERT_OK(Loader::Resume(store_, Split::kTrain, o, state, &other));
  EXPECT_NE(other->position().find("epoch=1,"), std::string::npos) << other->position();
}

TEST_F(LoaderTest, EveryExampleOnceAcrossShardsWithEqualBatchCounts) {
  // 40 examples, 3 shards (14, 13, 13), batches of 4: pad -> 4 batches each
  // (every example once); drop -> 3 batches each (13 // 4), all full.
  int checked = 0;
  for (Remainder rem : {Remainder::kPad, Remainder::kDrop}) {
    std::multiset<uint64_t> seen;
    for (uint32_t shard = 0; shard < 3; ++shard) {
      LoaderOptions o = Options(2, 1);
      o.scan.batch_size = 4;
      o.scan.shard_index = shard;
      o.scan.num_shards = 3;
      o.remainder = rem;
      std::unique_ptr<Loader> loader;
      ASSERT_OK(Loader::Open(store_, Split::kTrain, o, &loader));
      EXPECT_EQ(loader->size(), rem == Remainder::kPad ? 4u : 3u);
      const size_t batches = ForEachBatch(loader.get(), [&](const LoaderBatch& b) {
        for (uint32_t i = 0; i < b.size; ++i) {
          if (b.valid[i]) seen.insert(b.indices[i]);
          if (rem == Remainder::kDrop) {
            EXPECT_EQ(b.valid[i], 1);
          }
        }
      });
      EXPECT_EQ(batches, loader->size());
      ++checked;
    }
    std::set<uint64_t> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size());  // no example twice
    EXPECT_EQ(seen.size(), rem == Remainder::kPad ? kTrain : 36u);
    if (rem == Remainder::kPad) {
      EXPECT_EQ(*unique.rbegin(), kTrain - 1);
    }
  }
  EXPECT_EQ(checked, 6);
}

TEST_F(LoaderTest, AllocatorHookAndOutputOptions) {
  int allocations = 0, releases = 0;
  std::vector<void*> blocks;
  {
    LoaderOptions o = Options(2, 2);
    o.output.dtype = ImageDType::kFloat32;
    o.output.layout = ImageLayout::kCHW;
    o.allocate = [&](size_t bytes) {
      ++allocations;
      EXPECT_EQ(bytes, 6u * 40 * 32 * 3 * 4);
      void* p = std::aligned_alloc(64, bytes);
      blocks.push_back(p);
      return p;
    };
    o.deallocate = [&](void* p) {
      ++releases;
      std::free(p);
    };
    std::unique_ptr<Loader> loader;
    ASSERT_OK(Loader::Open(store_, Split::kTrain, o, &loader));
    const LoaderBatch* b = nullptr;
    ASSERT_OK(loader->Next(&b));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->images.size(), 6u * 40 * 32 * 3 * 4);
    EXPECT_NE(std::find(blocks.begin(), blocks.end(), b->images.data()), blocks.end());
    o.deallocate = nullptr;
    std::unique_ptr<Loader> bad;
    EXPECT_TRUE(Loader::Open(store_, Split::kTrain, o, &bad).IsInvalidArgument());
  }
  EXPECT_EQ(allocations, 3);  // prefetch + 1
  EXPECT_EQ(releases, 3);
}

// An image repeated in a sampled epoch gets a crop and flip of its own per
// occurrence; its first occurrence draws as an unsampled loader does.
TEST_F(LoaderTest, EachRepeatOfASampledImageGetsItsOwnCrop) {
  SamplerOptions so;
  so.threshold = 0.5;  // most images repeat
  std::shared_ptr<const Sampler> sampler;
  ASSERT_OK(Sampler::Build(store_, Split::kTrain, nullptr, so, &sampler));
  LoaderOptions o = Options(2, 1);
  o.scan.sampler = sampler;
  std::unique_ptr<Loader> loader;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, o, &loader));
  // index -> its occurrences' records, in delivery order.
  std::map<uint64_t, std::vector<TransformRecord>> records;
  ForEachBatch(loader.get(), [&](const LoaderBatch& b) {
    for (uint32_t i = 0; i < b.size; ++i) {
      if (b.valid[i]) records[b.indices[i]].push_back(b.transforms[i]);
    }
  });
  uint64_t firsts = 0, repeated = 0;
  for (const auto& [index, rs] : records) {
    ExampleView ex;
    ImageView img;
    ASSERT_OK(store_->At(Split::kTrain, index, &ex));
    ASSERT_OK(store_->ImageAt(Config::k300k, Split::kTrain, index, &img));
    TransformRecord unsampled;
    ASSERT_OK(PlanTransform(o.transform, img.width(), img.height(), ex.bobjects().bbox,
                            o.scan.seed, o.scan.epoch, index, &unsampled));
    EXPECT_EQ(rs[0], unsampled) << "first occurrence of index " << index;
    ++firsts;
    for (size_t j = 1; j < rs.size(); ++j) {
      for (size_t earlier = 0; earlier < j; ++earlier) {
        EXPECT_NE(rs[j], rs[earlier]) << "index " << index << " occurrences " << earlier
                                      << " and " << j << " got the same crop and flip";
      }
      ++repeated;
    }
  }
  EXPECT_EQ(firsts + repeated, sampler->Epoch(o.scan.seed, o.scan.epoch).size())
      << "every entry of the epoch was delivered once";
  EXPECT_GT(repeated, kTrain / 2);
}

// A store whose train example `bad_index` holds a JPEG cut after two thirds.
class BadImageLoaderTest : public testing::StoreSuite<BadImageLoaderTest> {
 public:
  static Status Build(const std::string& path, SampleStore* sample) {
    SampleSpec spec;
    spec.examples = {12, 0, 0};
    spec.configs = {};
    OIV4KV_RETURN_IF_ERROR(testing::WriteSampleStore(path, spec, sample));
    std::unique_ptr<Writer> writer;
    OIV4KV_RETURN_IF_ERROR(Writer::Open(path, WriterOptions(), &writer));
    OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(Config::k300k));
    Batch batch;
    uint64_t index = 0;
    for (const auto& [key, e] : sample->examples) {
      std::vector<uint8_t> jpeg;
      OIV4KV_RETURN_IF_ERROR(EncodeJpeg(SyntheticImage(64, 48, key.second), JpegSpec{}, &jpeg));
      if (index++ == kBadIndex) {
        jpeg.resize(jpeg.size() * 2 / 3);
        bad_id_ = key.second;
      }
      OIV4KV_RETURN_IF_ERROR(batch.AddImage(Config::k300k, key.first, key.second, jpeg,
                                            ImageMeta{64, 48, ImageFormat::kJpeg}));
    }
    OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
    return writer->CommitConfig(Config::k300k);
  }

 protected:
  static LoaderOptions Options(BadImagePolicy policy) {
    LoaderOptions o;
    o.scan.order = ScanOrder::kSequential;
    o.scan.batch_size = 4;
    o.transform.width = o.transform.height = 16;
    o.threads = 2;
    o.bad_image = policy;
    return o;
  }

  static constexpr uint64_t kBadIndex = 5;  // batch 1, slot 1
  static inline uint64_t bad_id_ = 0;
};

TEST_F(BadImageLoaderTest, ErrorPolicyNamesTheImageAndDoesNotSkipIt) {
  std::unique_ptr<Loader> loader;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(BadImagePolicy::kError), &loader));
  const LoaderBatch* b = nullptr;
  ASSERT_OK(loader->Next(&b));
  ASSERT_NE(b, nullptr);
  const std::string name = "300k image " + ExampleName(Split::kTrain, bad_id_);
  int tries = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const Status s = loader->Next(&b);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(b, nullptr);
    EXPECT_NE(s.message().find(name), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("Premature end of JPEG file"), std::string::npos)
        << s.ToString();
    EXPECT_EQ(loader->delivered(), 1u);
    EXPECT_NE(loader->position().find("batches=1;"), std::string::npos);
    ++tries;
  }
  EXPECT_EQ(tries, 3);
}

TEST_F(BadImageLoaderTest, SkipPolicyZerosAndCountsTheSlot) {
  std::unique_ptr<Loader> loader;
  ASSERT_OK(Loader::Open(store_, Split::kTrain, Options(BadImagePolicy::kSkip), &loader));
  int valid = 0, invalid = 0;
  const size_t batches = ForEachBatch(loader.get(), [&](const LoaderBatch& b) {
    for (uint32_t i = 0; i < b.size; ++i) {
      if (b.valid[i]) {
        ++valid;
        continue;
      }
      ++invalid;
      EXPECT_EQ(b.batch_index * 4 + i, kBadIndex);
      EXPECT_EQ(b.image_ids[i], bad_id_);
      EXPECT_EQ(b.skipped, 1u);
      EXPECT_EQ(b.bobjects.offsets[i], b.bobjects.offsets[i + 1]);
      const size_t n = 16 * 16 * 3;
      const uint8_t* p = b.images.data() + i * n;
      EXPECT_EQ(std::count(p, p + n, 0), static_cast<long>(n));
    }
  });
  EXPECT_EQ(batches, 3u);
  EXPECT_EQ(valid, 11);
  EXPECT_EQ(invalid, 1);
  EXPECT_EQ(loader->skipped(), 1u);
}

}  // namespace
}  // namespace oiv4kv
