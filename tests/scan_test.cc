#include "oiv4kv/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

constexpr uint64_t kTrain = 97;       // examples of the train split
constexpr uint64_t kValidation = 23;  // the small epoch for resume tests

// One sample store for the whole suite (it is only read).
class ScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sample_ = new SampleStore();
    SampleSpec spec;
    spec.examples = {kTrain, kValidation, 0};
    spec.configs = {Config::k300k};
    ASSERT_OK(testing::WriteSampleStore(dir_->Sub("store"), spec, sample_));
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(sample_->path, StoreOptions(), &store));
    store_ = store.release();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete sample_;
    delete dir_;
  }

  static std::vector<uint64_t> Indices(Split split, const ScanOptions& options) {
    std::unique_ptr<Scan> scan;
    const Status s = Scan::Open(store_, split, options, &scan);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? scan->indices() : std::vector<uint64_t>();
  }

  static std::vector<uint64_t> Iota(uint64_t n) {
    std::vector<uint64_t> v(n);
    std::iota(v.begin(), v.end(), uint64_t{0});
    return v;
  }

  static bool IsPermutation(std::vector<uint64_t> v, uint64_t n) {
    std::sort(v.begin(), v.end());
    return v == Iota(n);
  }

  // Reads the scan to its end; returns the image ids in order.
  static std::vector<uint64_t> Drain(Scan* scan) {
    std::vector<uint64_t> ids;
    std::vector<ExampleView> batch;
    for (;;) {
      const Status s = scan->Next(&batch, nullptr);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || batch.empty()) break;
      for (const ExampleView& ex : batch) ids.push_back(ex.image_id());
    }
    return ids;
  }

  static inline TempDir* dir_ = nullptr;
  static inline SampleStore* sample_ = nullptr;
  static inline Store* store_ = nullptr;
};

TEST_F(ScanTest, SequentialIsKeyOrder) {
  ScanOptions o;
  o.order = ScanOrder::kSequential;
  EXPECT_EQ(Iota(kTrain), Indices(Split::kTrain, o));
}

TEST_F(ScanTest, ShuffledEpochIsAPermutation) {
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    ScanOptions o;
    o.seed = 7;
    o.epoch = epoch;
    const std::vector<uint64_t> order = Indices(Split::kTrain, o);
    EXPECT_TRUE(IsPermutation(order, kTrain)) << "epoch " << epoch;
    EXPECT_NE(Iota(kTrain), order) << "epoch " << epoch;
  }
}

TEST_F(ScanTest, OrderIsAPureFunctionOfSeedAndEpoch) {
  for (ScanOrder order : {ScanOrder::kShuffled, ScanOrder::kBlockShuffled}) {
    ScanOptions o;
    o.order = order;
    o.block_size = 4;
    o.window = 3;
    o.seed = 11;
    o.epoch = 2;
    const std::vector<uint64_t> a = Indices(Split::kTrain, o);
    EXPECT_EQ(a, Indices(Split::kTrain, o));
    ScanOptions other_epoch = o;
    other_epoch.epoch = 3;
    EXPECT_NE(a, Indices(Split::kTrain, other_epoch));
    ScanOptions other_seed = o;
    other_seed.seed = 12;
    EXPECT_NE(a, Indices(Split::kTrain, other_seed));
    // Seed and epoch are not interchangeable.
    ScanOptions swapped = o;
    swapped.seed = o.epoch;
    swapped.epoch = o.seed;
    EXPECT_NE(a, Indices(Split::kTrain, swapped));
  }
}

// Pins the algorithm (splitmix64 seeded from (seed, epoch), Lemire bounded
// draws, Fisher-Yates from the end): these indices must be the same on every
// machine, compiler and standard library, and never change, or resumed
// checkpoints would read a different epoch. Recorded once from this code and
// checked against an independent Python transcription of the same algorithm.
TEST_F(ScanTest, GoldenShuffleIsPinned) {
  ScanOptions o;
  o.seed = 1;
  o.epoch = 0;
  const std::vector<uint64_t> order = Indices(Split::kTrain, o);
  ASSERT_GE(order.size(), 8u);
  const std::vector<uint64_t> first8(order.begin(), order.begin() + 8);
  EXPECT_EQ((std::vector<uint64_t>{11, 57, 9, 16, 95, 28, 65, 1}), first8);
}

TEST_F(ScanTest, ShardsAreDisjointBalancedAndCoverTheEpoch) {
  // num_shards = ranks x data-loader workers.
  for (uint32_t num_shards : {1u, 2u, 3u, 6u, 7u, 96u, 97u, 98u, 100u}) {
    for (ScanOrder order :
         {ScanOrder::kSequential, ScanOrder::kShuffled, ScanOrder::kBlockShuffled}) {
      ScanOptions o;
      o.order = order;
      o.seed = 3;
      o.block_size = 5;
      o.window = 2;
      const std::vector<uint64_t> whole = Indices(Split::kTrain, o);
      std::vector<uint64_t> concatenated;
      std::set<uint64_t> seen;
      const uint64_t floor = kTrain / num_shards;
      for (uint32_t k = 0; k < num_shards; ++k) {
        o.num_shards = num_shards;
        o.shard_index = k;
        std::unique_ptr<Scan> scan;
        ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
        EXPECT_TRUE(scan->size() == floor || scan->size() == floor + 1)
            << num_shards << " shards, shard " << k << ": " << scan->size();
        for (uint64_t i : scan->indices()) {
          EXPECT_TRUE(seen.insert(i).second) << "index " << i << " in two shards";
        }
        concatenated.insert(concatenated.end(), scan->indices().begin(),
                            scan->indices().end());
      }
      EXPECT_EQ(kTrain, seen.size()) << num_shards << " shards";
      // Shards are contiguous slices of the one epoch order.
      EXPECT_EQ(whole, concatenated) << num_shards << " shards";
    }
  }
}

TEST_F(ScanTest, BlockShuffleKeepsExamplesNearTheirBlock) {
  struct Case {
    uint32_t block_size, window;
  };
  for (Case c : {Case{1, 1}, Case{8, 2}, Case{5, 3}, Case{10, 1}, Case{7, 4}, Case{256, 16}}) {
    for (uint64_t seed : {0, 1, 2}) {
      ScanOptions o;
      o.order = ScanOrder::kBlockShuffled;
      o.block_size = c.block_size;
      o.window = c.window;
      o.seed = seed;
      const std::vector<uint64_t> order = Indices(Split::kTrain, o);
      ASSERT_TRUE(IsPermutation(order, kTrain));
      // The bound of scan.h: every example ends less than window * block_size
      // positions from where its block landed, so all of a block's examples
      // lie within a span of that many positions.
      std::map<uint64_t, std::pair<uint64_t, uint64_t>> span;  // block -> min, max pos
      for (uint64_t pos = 0; pos < order.size(); ++pos) {
        const uint64_t block = order[pos] / c.block_size;
        auto [it, fresh] = span.try_emplace(block, pos, pos);
        it->second.first = std::min(it->second.first, pos);
        it->second.second = std::max(it->second.second, pos);
      }
      const uint64_t bound = uint64_t{c.window} * c.block_size;
      for (const auto& [block, s] : span) {
        EXPECT_LT(s.second - s.first, bound)
            << "block " << block << " bs " << c.block_size << " w " << c.window;
        if (c.window == 1) {  // a block stays one contiguous run
          const uint64_t size = std::min<uint64_t>(c.block_size, kTrain - block * c.block_size);
          EXPECT_EQ(size - 1, s.second - s.first) << "block " << block;
        }
      }
      if (c.block_size < kTrain) {
        EXPECT_NE(Iota(kTrain), order) << "bs " << c.block_size << " w " << c.window;
      }
    }
  }
}

TEST_F(ScanTest, NextReturnsTheExamplesOfTheIndices) {
  for (ScanOrder order : {ScanOrder::kSequential, ScanOrder::kShuffled}) {
    ScanOptions o;
    o.order = order;
    o.batch_size = 10;
    o.seed = 5;
    o.num_shards = 2;
    o.shard_index = 1;
    std::unique_ptr<Scan> scan;
    ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
    std::vector<uint64_t> expected;
    for (uint64_t i : scan->indices()) {
      ExampleView ex;
      ASSERT_OK(store_->At(Split::kTrain, i, &ex));
      expected.push_back(ex.image_id());
    }
    std::vector<ExampleView> batch;
    std::vector<uint64_t> got;
    uint64_t batches = 0;
    for (;;) {
      ASSERT_OK(scan->Next(&batch, nullptr));
      if (batch.empty()) break;
      ++batches;
      EXPECT_LE(batch.size(), 10u);
      for (const ExampleView& ex : batch) {
        got.push_back(ex.image_id());
        testing::ExpectSameExample(sample_->examples.at({Split::kTrain, ex.image_id()}), ex);
      }
      EXPECT_EQ(got.size(), scan->position().offset);
    }
    EXPECT_EQ(expected, got);
    EXPECT_EQ((scan->size() + 9) / 10, batches);
    // The end stays the end.
    ASSERT_OK(scan->Next(&batch, nullptr));
    EXPECT_TRUE(batch.empty());
  }
}

TEST_F(ScanTest, WithImagesReturnsEachExamplesImage) {
  ScanOptions o;
  o.batch_size = 16;
  o.with_images = true;
  o.config = Config::k300k;
  std::unique_ptr<Scan> scan;
  ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
  std::vector<ExampleView> batch;
  std::vector<ImageView> images;
  uint64_t total = 0;
  for (;;) {
    ASSERT_OK(scan->Next(&batch, &images));
    ASSERT_EQ(batch.size(), images.size());
    if (batch.empty()) break;
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(batch[i].image_id(), images[i].image_id());
      EXPECT_EQ(Config::k300k, images[i].config());
      const auto& expected =
          sample_->images.at({Config::k300k, Split::kTrain, images[i].image_id()}).bytes;
      EXPECT_TRUE(std::equal(expected.begin(), expected.end(), images[i].bytes().begin(),
                             images[i].bytes().end()));
    }
    total += batch.size();
  }
  EXPECT_EQ(kTrain, total);
}

TEST_F(ScanTest, StoreErrorsAreReturnedAndThePositionHolds) {
  for (uint32_t prefetch : {0u, 2u}) {
    ScanOptions o;
    o.with_images = true;
    o.config = Config::kOriginal;  // the sample store holds only 300k
    o.prefetch_batches = prefetch;
    std::unique_ptr<Scan> scan;
    ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
    std::vector<ExampleView> batch;
    std::vector<ImageView> images;
    for (int attempt = 0; attempt < 2; ++attempt) {  // a retry reads it again
      EXPECT_TRUE(scan->Next(&batch, &images).IsNotSupported()) << prefetch;
      EXPECT_EQ(0u, scan->position().offset);
    }
    EXPECT_TRUE(scan->Next(&batch, nullptr).IsInvalidArgument());  // images needed
  }
}

// Reading ahead changes when batches are read, never what Next returns: the
// same ids in the same batches as reading inside Next, for every order and
// several depths and batch sizes, with images.
TEST_F(ScanTest, PrefetchReturnsWhatReadingInNextReturns) {
  for (ScanOrder order : {ScanOrder::kSequential, ScanOrder::kShuffled,
                          ScanOrder::kBlockShuffled}) {
    for (uint32_t batch_size : {1u, 7u, 64u, 200u}) {
      std::vector<std::vector<uint64_t>> reference;
      for (uint32_t prefetch : {0u, 1u, 2u, 5u}) {
        ScanOptions o;
        o.order = order;
        o.batch_size = batch_size;
        o.block_size = 8;
        o.seed = 3;
        o.with_images = true;
        o.prefetch_batches = prefetch;
        std::unique_ptr<Scan> scan;
        ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
        std::vector<std::vector<uint64_t>> batches;
        std::vector<ExampleView> batch;
        std::vector<ImageView> images;
        for (;;) {
          ASSERT_OK(scan->Next(&batch, &images));
          if (batch.empty()) break;
          batches.emplace_back();
          for (size_t i = 0; i < batch.size(); ++i) {
            ASSERT_EQ(batch[i].image_id(), images[i].image_id());
            batches.back().push_back(batch[i].image_id());
          }
        }
        if (prefetch == 0) {
          reference = batches;
          std::vector<uint64_t> ids;
          for (uint64_t i : scan->indices()) ids.push_back(store_->ImageIds(Split::kTrain)[i]);
          std::vector<uint64_t> flat;
          for (const auto& b : batches) flat.insert(flat.end(), b.begin(), b.end());
          EXPECT_EQ(ids, flat);
        } else {
          EXPECT_EQ(reference, batches) << "prefetch " << prefetch << " batch " << batch_size;
        }
      }
    }
  }
}

// A scan dropped mid-epoch stops its read-ahead thread (run under ASan).
TEST_F(ScanTest, AScanDestroyedMidEpochStopsReadingAhead) {
  for (int round = 0; round < 20; ++round) {
    ScanOptions o;
    o.batch_size = 5;
    o.prefetch_batches = 3;
    o.with_images = true;
    std::unique_ptr<Scan> scan;
    ASSERT_OK(Scan::Open(store_, Split::kTrain, o, &scan));
    std::vector<ExampleView> batch;
    std::vector<ImageView> images;
    for (int i = 0; i < round % 4; ++i) ASSERT_OK(scan->Next(&batch, &images));
    scan.reset();
  }
}

TEST_F(ScanTest, ResumeFromEveryPositionYieldsTheRemainder) {
  for (ScanOrder order : {ScanOrder::kShuffled, ScanOrder::kBlockShuffled}) {
    ScanOptions o;
    o.order = order;
    o.block_size = 3;
    o.window = 2;
    o.batch_size = 4;
    o.seed = 9;
    o.epoch = 4;
    std::unique_ptr<Scan> full;
    ASSERT_OK(Scan::Open(store_, Split::kValidation, o, &full));
    ASSERT_EQ(kValidation, full->size());
    const std::vector<uint64_t> all = Drain(full.get());
    ASSERT_EQ(kValidation, all.size());
    EXPECT_EQ(4u, full->position().epoch);
    EXPECT_EQ(kValidation, full->position().offset);

    ScanOptions other_epoch = o;
    other_epoch.epoch = 0;  // Resume takes the epoch from the position
    for (uint64_t offset = 0; offset <= kValidation; ++offset) {
      ScanPosition parsed;
      ASSERT_OK(ScanPosition::Parse(ScanPosition{4, offset}.Serialize(), &parsed));
      std::unique_ptr<Scan> scan;
      ASSERT_OK(Scan::Resume(store_, Split::kValidation, other_epoch, parsed, &scan));
      EXPECT_EQ(4u, scan->position().epoch);
      EXPECT_EQ(offset, scan->position().offset);
      EXPECT_EQ(std::vector<uint64_t>(all.begin() + offset, all.end()), Drain(scan.get()))
          << "offset " << offset;
    }
    std::unique_ptr<Scan> scan;
    EXPECT_TRUE(Scan::Resume(store_, Split::kValidation, o, ScanPosition{4, kValidation + 1},
                             &scan)
                    .IsInvalidArgument());
  }
}

TEST_F(ScanTest, StateNamesItsScanAndResumeRefusesAnotherScans) {
  ScanOptions o;
  o.order = ScanOrder::kBlockShuffled;
  o.seed = 5;
  o.epoch = 2;
  o.block_size = 3;
  o.window = 2;
  o.shard_index = 1;
  o.num_shards = 2;
  o.batch_size = 4;
  std::unique_ptr<Scan> scan;
  ASSERT_OK(Scan::Open(store_, Split::kValidation, o, &scan));
  std::vector<ExampleView> batch;
  ASSERT_OK(scan->Next(&batch, nullptr));
  const std::string state = scan->position().Serialize();
  // Shard 1 of 2 of 23 examples holds 11; one batch of 4 consumed.
  EXPECT_EQ(
      "scan2:split=validation,examples=23,order=block_shuffled,seed=5,block_size=3,window=2,"
      "shard=1/2,epoch=2,offset=4",
      state);
  ScanPosition parsed;
  ASSERT_OK(ScanPosition::Parse(state, &parsed));
  EXPECT_EQ(scan->position(), parsed);
  std::unique_ptr<Scan> resumed;
  ASSERT_OK(Scan::Resume(store_, Split::kValidation, o, parsed, &resumed));
  EXPECT_EQ(scan->indices(), resumed->indices());
  EXPECT_EQ(4u, resumed->position().offset);
  EXPECT_EQ(7u, Drain(resumed.get()).size());

  struct Case {
    const char* expect;
    Split split;
    ScanOptions options;
  };
  std::vector<Case> cases;
  auto with = [&](const char* expect, auto change, Split split = Split::kValidation) {
    Case c{expect, split, o};
    change(&c.options);
    cases.push_back(c);
  };
  with("seed is 5 in the state but 6 here", [](ScanOptions* x) { x->seed = 6; });
  with("order is block_shuffled in the state but shuffled here",
       [](ScanOptions* x) { x->order = ScanOrder::kShuffled; });
  with("block_size is 3 in the state but 4 here", [](ScanOptions* x) { x->block_size = 4; });
  with("window is 2 in the state but 3 here", [](ScanOptions* x) { x->window = 3; });
  with("shard_index is 1 in the state but 0 here", [](ScanOptions* x) { x->shard_index = 0; });
  with("num_shards is 2 in the state but 3 here", [](ScanOptions* x) { x->num_shards = 3; });
  with("split is validation in the state but train here", [](ScanOptions*) {}, Split::kTrain);
  int checked = 0;
  for (const Case& c : cases) {
    std::unique_ptr<Scan> other;
    const Status s = Scan::Resume(store_, c.split, c.options, parsed, &other);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.expect;
    EXPECT_NE(std::string::npos, s.ToString().find(c.expect)) << s.ToString();
    EXPECT_EQ(nullptr, other);
    ++checked;
  }
  EXPECT_EQ(7, checked);

  // A store whose split has another size.
  ScanPosition other_store = parsed;
  other_store.scan->num_examples = 24;
  std::unique_ptr<Scan> other;
  const Status s = Scan::Resume(store_, Split::kValidation, o, other_store, &other);
  EXPECT_NE(std::string::npos,
            s.ToString().find("the split's example count is 24 in the state but 23 (another store?) here"))
      << s.ToString();

  // Version-1 states say nothing of their scan: refused, saying why.
  const Status v1 = ScanPosition::Parse("scan1:2:4", &parsed);
  EXPECT_TRUE(v1.IsInvalidArgument());
  EXPECT_NE(std::string::npos, v1.ToString().find("version-1 state")) << v1.ToString();
}

TEST_F(ScanTest, PositionRoundTripsAndGarbageIsRejected) {
  const ScanIdentity id{Split::kTest, 7, ScanOrder::kSequential, UINT64_MAX, 1, 2, 3, 4};
  for (ScanPosition p : {ScanPosition{0, 0}, ScanPosition{3, 17},
                         ScanPosition{UINT64_MAX, UINT64_MAX}, ScanPosition{3, 17, id}}) {
    ScanPosition back{1, 1};
    ASSERT_OK(ScanPosition::Parse(p.Serialize(), &back));
    EXPECT_EQ(p, back);
  }
  for (const char* bad : {"", "scan1:", "scan1:1", "scan1:1:", "scan1::2", "scan1:1:2:3",
                          "scan1:-1:2", "scan1:+1:2", "scan1:1:2 ", "scan2:1:2", "1:2",
                          "scan1:18446744073709551616:0", "scan1:0x1:2", "garbage", "scan2:epoch=1",
                          "scan2:offset=1,epoch=1", "scan2:epoch=1,offset=2,", "scan2:epoch=1,offset=2,x=1",
                          "scan2:split=train,epoch=1,offset=2", "scan2:epoch=-1,offset=2",
                          "scan2:split=bogus,examples=7,order=sequential,seed=1,block_size=1,"
                          "window=2,shard=3/4,epoch=1,offset=2",
                          "scan2:split=test,examples=7,order=sequential,seed=1,block_size=1,"
                          "window=2,shard=34,epoch=1,offset=2"}) {
    ScanPosition p{5, 6};
    EXPECT_TRUE(ScanPosition::Parse(bad, &p).IsInvalidArgument()) << bad;
    EXPECT_EQ((ScanPosition{5, 6}), p) << bad;
  }
}

TEST_F(ScanTest, InvalidOptionsAreRejected) {
  auto open = [](ScanOptions o) {
    std::unique_ptr<Scan> scan;
    return Scan::Open(store_, Split::kTrain, o, &scan);
  };
  ScanOptions o;
  o.num_shards = 0;
  o.shard_index = 0;
  EXPECT_TRUE(open(o).IsInvalidArgument());
  o = ScanOptions();
  o.num_shards = 3;
  o.shard_index = 3;
  EXPECT_TRUE(open(o).IsInvalidArgument());
  o = ScanOptions();
  o.batch_size = 0;
  EXPECT_TRUE(open(o).IsInvalidArgument());
  o = ScanOptions();
  o.block_size = 0;
  EXPECT_TRUE(open(o).IsInvalidArgument());
  o = ScanOptions();
  o.window = 0;
  EXPECT_TRUE(open(o).IsInvalidArgument());
  std::unique_ptr<Scan> scan;
  EXPECT_TRUE(Scan::Open(nullptr, Split::kTrain, ScanOptions(), &scan).IsInvalidArgument());
}

TEST_F(ScanTest, AnEmptySplitScansNothing) {
  for (uint32_t num_shards : {1u, 4u}) {
    ScanOptions o;
    o.num_shards = num_shards;
    o.shard_index = num_shards - 1;
    std::unique_ptr<Scan> scan;
    ASSERT_OK(Scan::Open(store_, Split::kTest, o, &scan));
    EXPECT_EQ(0u, scan->size());
    std::vector<ExampleView> batch(1);
    ASSERT_OK(scan->Next(&batch, nullptr));
    EXPECT_TRUE(batch.empty());
  }
}

}  // namespace
}  // namespace oiv4kv
