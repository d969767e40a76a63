// Subsets in scans (ScanOptions::subset) and class-balanced sampling
// (oiv4kv/sampling.h, ScanOptions::sampler). Expected values come from the
// generator's record of the store (SampleStore::examples), never from the
// sampler under test.
#include "oiv4kv/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "oiv4kv/loader.h"
#include "oiv4kv/scan.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;

constexpr uint64_t kTrain = 97;
constexpr uint64_t kValidation = 23;

class SamplingTest : public testing::StoreSuite<SamplingTest> {
 public:
  static Status Build(const std::string& path, SampleStore* sample) {
    SampleSpec spec;
    spec.examples = {kTrain, kValidation, 0};
    spec.configs = {Config::k300k};
    return testing::WriteSampleStore(path, spec, sample);
  }

 protected:
  // A subset of train: 43 indices, strictly ascending, with gaps.
  static std::shared_ptr<const std::vector<uint64_t>> SomeSubset() {
    auto v = std::make_shared<std::vector<uint64_t>>();
    for (uint64_t i = 0; i < kTrain; ++i) {
      if (i % 3 == 0 || i % 7 == 1) v->push_back(i);
    }
    return v;
  }

  // The generator's record of train: image ids (key order) and each one's
  // boxable class set.
  static std::vector<std::set<uint32_t>> TrainBoxClasses() {
    std::vector<std::set<uint32_t>> out;
    for (const auto& [key, e] : sample_->examples) {
      if (key.first != Split::kTrain) continue;
      out.emplace_back(e.bobjects.label.begin(), e.bobjects.label.end());
    }
    return out;
  }

  // r(i) = max over c of max(1, sqrt(t / f(c))), f(c) the fraction of the
  // images holding c; 1 without classes.
  static std::vector<double> ExpectedRepeatFactors(const std::vector<std::set<uint32_t>>& sets,
                                                   double t) {
    std::map<uint32_t, double> images;
    for (const auto& s : sets) {
      for (uint32_t c : s) images[c] += 1;
    }
    std::vector<double> r;
    for (const auto& s : sets) {
      double best = 1;
      for (uint32_t c : s) {
        best = std::max(best, std::sqrt(t / (images[c] / static_cast<double>(sets.size()))));
      }
      r.push_back(best);
    }
    return r;
  }

  static std::unique_ptr<Scan> Open(Split split, const ScanOptions& o) {
    std::unique_ptr<Scan> scan;
    const Status s = Scan::Open(store_, split, o, &scan);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return scan;
  }

  // Reads the scan to its end; the image ids in order.
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

  static std::shared_ptr<const Sampler> MakeSampler(const SamplerOptions& so,
                                                    std::shared_ptr<const std::vector<uint64_t>>
                                                        subset = nullptr) {
    std::shared_ptr<const Sampler> sampler;
    const Status s = Sampler::Build(store_, Split::kTrain, subset, so, &sampler);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return sampler;
  }
};

// --- Subsets -----------------------------------------------------------------

TEST_F(SamplingTest, SubsetEpochCoversTheSubsetOnceAcrossThreeShards) {
  const auto subset = SomeSubset();
  const std::vector<uint64_t> ids = sample_->Ids(Split::kTrain);
  std::multiset<uint64_t> want_ids;
  for (uint64_t i : *subset) want_ids.insert(ids.at(i));
  int checked = 0;
  for (ScanOrder order : kAllScanOrders) {
    for (uint64_t epoch : {0, 1, 5}) {
      ScanOptions o;
      o.order = order;
      o.seed = 11;
      o.epoch = epoch;
      o.block_size = 4;
      o.window = 2;
      o.batch_size = 5;
      o.subset = subset;
      o.num_shards = 3;
      std::vector<uint64_t> all;
      std::multiset<uint64_t> read;
      for (uint32_t k = 0; k < 3; ++k) {
        o.shard_index = k;
        std::unique_ptr<Scan> scan = Open(Split::kTrain, o);
        ASSERT_NE(scan, nullptr);
        EXPECT_EQ(scan->epoch_size(), subset->size());
        const uint64_t want_size = subset->size() / 3 + (k < subset->size() % 3 ? 1 : 0);
        EXPECT_EQ(scan->size(), want_size) << "shard " << k;
        all.insert(all.end(), scan->indices().begin(), scan->indices().end());
        for (uint64_t id : Drain(scan.get())) read.insert(id);
      }
      std::sort(all.begin(), all.end());
      EXPECT_EQ(all, *subset) << ScanOrderName(order) << " epoch " << epoch;
      EXPECT_EQ(read, want_ids) << ScanOrderName(order) << " epoch " << epoch;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9);
}

// The subset's order is the split order of a split of the subset's size
// (validation has 23 examples), mapped through the subset: the same
// permutation and block/window structure as over a split.
TEST_F(SamplingTest, SubsetOrderIsTheSplitOrderOverSubsetPositions) {
  auto subset = std::make_shared<std::vector<uint64_t>>();
  for (uint64_t i = 0; i < kValidation; ++i) subset->push_back(2 + i * 4);
  int checked = 0;
  for (ScanOrder order : {ScanOrder::kShuffled, ScanOrder::kBlockShuffled}) {
    ScanOptions o;
    o.order = order;
    o.seed = 3;
    o.epoch = 2;
    o.block_size = 3;
    o.window = 2;
    std::unique_ptr<Scan> plain = Open(Split::kValidation, o);
    o.subset = subset;
    std::unique_ptr<Scan> sub = Open(Split::kTrain, o);
    ASSERT_TRUE(plain && sub);
    ASSERT_EQ(plain->size(), kValidation);
    ASSERT_EQ(sub->size(), kValidation);
    for (size_t j = 0; j < kValidation; ++j) {
      EXPECT_EQ(sub->indices()[j], (*subset)[plain->indices()[j]]) << j;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * static_cast<int>(kValidation));
}

TEST_F(SamplingTest, SubsetScanResumesFromEveryBatch) {
  const auto subset = SomeSubset();
  int checked = 0;
  for (ScanOrder order : {ScanOrder::kShuffled, ScanOrder::kBlockShuffled}) {
    for (uint32_t k = 0; k < 3; ++k) {
      ScanOptions o;
      o.order = order;
      o.seed = 5;
      o.epoch = 4;
      o.block_size = 4;
      o.window = 2;
      o.batch_size = 4;
      o.subset = subset;
      o.shard_index = k;
      o.num_shards = 3;
      std::unique_ptr<Scan> scan = Open(Split::kTrain, o);
      ASSERT_NE(scan, nullptr);
      const std::vector<uint64_t> full = Drain(Open(Split::kTrain, o).get());
      std::vector<ExampleView> batch;
      uint64_t consumed = 0;
      for (;;) {
        // A fresh subset vector with the same content: what a restarted
        // process builds from the same query.
        ScanOptions again = o;
        again.epoch = 0;
        again.subset = std::make_shared<std::vector<uint64_t>>(*subset);
        ScanPosition parsed;
        ASSERT_TRUE(ScanPosition::Parse(scan->position().Serialize(), &parsed).ok());
        std::unique_ptr<Scan> resumed;
        const Status s = Scan::Resume(store_, Split::kTrain, again, parsed, &resumed);
        ASSERT_TRUE(s.ok()) << s.ToString();
        const std::vector<uint64_t> rest = Drain(resumed.get());
        EXPECT_EQ(rest, std::vector<uint64_t>(full.begin() + consumed, full.end()));
        ++checked;
        ASSERT_TRUE(scan->Next(&batch, nullptr).ok());
        if (batch.empty()) break;
        consumed += batch.size();
      }
      EXPECT_EQ(consumed, full.size());
    }
  }
  // 43 examples in shards of 15, 14, 14: 4 batches and the end each.
  EXPECT_EQ(checked, 2 * (5 + 5 + 5));
}

TEST_F(SamplingTest, APositionOfOneSubsetIsRefusedByAnotherSubsetOrTheSplit) {
  const auto subset = SomeSubset();
  ScanOptions o;
  o.seed = 1;
  o.subset = subset;
  const std::string state = Open(Split::kTrain, o)->position().Serialize();
  EXPECT_NE(state.find(",subset=43:"), std::string::npos) << state;
  ScanPosition parsed;
  ASSERT_TRUE(ScanPosition::Parse(state, &parsed).ok());
  EXPECT_EQ(parsed.Serialize(), state);

  auto other = std::make_shared<std::vector<uint64_t>>(*subset);
  other->back() = 95;  // was 96: the same size, one index differs
  ASSERT_LT(other->back(), kTrain);
  int refused = 0;
  for (const auto& replacement : {std::shared_ptr<const std::vector<uint64_t>>(other),
                                  std::shared_ptr<const std::vector<uint64_t>>()}) {
    ScanOptions p = o;
    p.subset = replacement;
    std::unique_ptr<Scan> scan;
    const Status s = Scan::Resume(store_, Split::kTrain, p, parsed, &scan);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.message().find("the subset is 43 examples, fingerprint"), std::string::npos)
        << s.ToString();
    ++refused;
  }
  EXPECT_EQ(refused, 2);
  // And a position of the whole split is refused by a subset's scan.
  ScanOptions whole = o;
  whole.subset = nullptr;
  ScanPosition whole_pos;
  ASSERT_TRUE(ScanPosition::Parse(Open(Split::kTrain, whole)->position().Serialize(), &whole_pos)
                  .ok());
  std::unique_ptr<Scan> scan;
  const Status s = Scan::Resume(store_, Split::kTrain, o, whole_pos, &scan);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("the subset is none (the whole split) in the state"),
            std::string::npos)
      << s.ToString();
}

TEST_F(SamplingTest, BadSubsetsAreRejectedNamingTheEntry) {
  struct Case {
    std::vector<uint64_t> subset;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{1, 5, 5}, "not strictly ascending: entry 2 (5) after 5"},
      {{4, 2}, "not strictly ascending: entry 1 (2) after 4"},
      {{0, kTrain}, "subset index 97 (entry 1) is past the end of train (97 examples)"},
  };
  int checked = 0;
  for (const Case& c : cases) {
    ScanOptions o;
    o.subset = std::make_shared<std::vector<uint64_t>>(c.subset);
    std::unique_ptr<Scan> scan;
    const Status s = Scan::Open(store_, Split::kTrain, o, &scan);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  // An empty subset scans nothing.
  ScanOptions o;
  o.subset = std::make_shared<std::vector<uint64_t>>();
  std::unique_ptr<Scan> scan = Open(Split::kTrain, o);
  ASSERT_NE(scan, nullptr);
  EXPECT_EQ(scan->size(), 0u);
  EXPECT_TRUE(Drain(scan.get()).empty());
}

TEST_F(SamplingTest, LoaderEpochIsTheSubsets) {
  LoaderOptions o;
  o.scan.subset = SomeSubset();  // 43
  o.scan.batch_size = 4;
  o.scan.num_shards = 3;
  o.threads = 1;
  o.transform.width = o.transform.height = 16;
  std::unique_ptr<Loader> loader;
  const Status s = Loader::Open(store_, Split::kTrain, o, &loader);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(loader->size(), 4u);  // ceil(ceil(43 / 3) / 4)
  EXPECT_NE(loader->position().find(",subset=43:"), std::string::npos) << loader->position();
  o.remainder = Remainder::kDrop;
  ASSERT_TRUE(Loader::Open(store_, Split::kTrain, o, &loader).ok());
  EXPECT_EQ(loader->size(), 3u);  // floor(floor(43 / 3) / 4)
}

// --- Repeat-factor sampling ---------------------------------------------------

TEST_F(SamplingTest, RepeatFactorsAreTheLvisFormula) {
  const std::vector<std::set<uint32_t>> sets = TrainBoxClasses();
  ASSERT_EQ(sets.size(), kTrain);
  int checked = 0, above_one = 0;
  for (double t : {0.001, 0.05, 0.3}) {
    SamplerOptions so;
    so.threshold = t;
    std::shared_ptr<const Sampler> sampler = MakeSampler(so);
    ASSERT_NE(sampler, nullptr);
    const std::vector<double> want = ExpectedRepeatFactors(sets, t);
    ASSERT_EQ(sampler->expected_repeats().size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(sampler->expected_repeats()[i], want[i], 1e-12) << "t " << t << " image " << i;
      if (want[i] > 1) ++above_one;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * static_cast<int>(kTrain));
  EXPECT_GT(above_one, 20);  // the test exercises the rounding
}

TEST_F(SamplingTest, RepeatFactorRoundingMatchesTheFactorsOverManyEpochs) {
  SamplerOptions so;
  so.threshold = 0.3;
  std::shared_ptr<const Sampler> sampler = MakeSampler(so);
  ASSERT_NE(sampler, nullptr);
  const std::vector<double> r = ExpectedRepeatFactors(TrainBoxClasses(), so.threshold);
  constexpr int kEpochs = 4000;
  std::vector<double> total(kTrain, 0);
  int per_epoch_checks = 0;
  for (int e = 0; e < kEpochs; ++e) {
    const std::vector<uint64_t> epoch = sampler->Epoch(7, e);
    ASSERT_TRUE(std::is_sorted(epoch.begin(), epoch.end()));
    std::vector<uint64_t> count(kTrain, 0);
    for (uint64_t i : epoch) ++count.at(i);
    for (size_t i = 0; i < kTrain; ++i) {
      // floor(r) or ceil(r) each epoch.
      ASSERT_GE(count[i], static_cast<uint64_t>(std::floor(r[i]))) << i;
      ASSERT_LE(count[i], static_cast<uint64_t>(std::ceil(r[i]))) << i;
      total[i] += count[i];
      ++per_epoch_checks;
    }
  }
  EXPECT_EQ(per_epoch_checks, kEpochs * static_cast<int>(kTrain));
  // The mean over epochs within 5 sigma of r(i): the count is
  // floor(r) + Bernoulli(p), p = frac(r), sigma of the mean sqrt(p(1-p)/E).
  int fractional = 0;
  for (size_t i = 0; i < kTrain; ++i) {
    const double p = r[i] - std::floor(r[i]);
    const double sigma = std::sqrt(p * (1 - p) / kEpochs);
    EXPECT_LE(std::abs(total[i] / kEpochs - r[i]), 5 * sigma + 1e-12)
        << "image " << i << " r " << r[i];
    if (p > 0.05 && p < 0.95) ++fractional;
  }
  EXPECT_GT(fractional, 10);
}

TEST_F(SamplingTest, EpochsAreDeterministicAndDifferBySeedAndEpoch) {
  SamplerOptions so;
  so.threshold = 0.3;
  for (SamplingMethod m : kAllSamplingMethods) {
    so.method = m;
    std::shared_ptr<const Sampler> a = MakeSampler(so), b = MakeSampler(so);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->Name(), b->Name());
    int differ_epoch = 0, differ_seed = 0;
    for (uint64_t e = 0; e < 5; ++e) {
      EXPECT_EQ(a->Epoch(3, e), b->Epoch(3, e)) << SamplingMethodName(m) << " epoch " << e;
      if (a->Epoch(3, e) != a->Epoch(3, e + 1)) ++differ_epoch;
      if (a->Epoch(3, e) != a->Epoch(4, e)) ++differ_seed;
    }
    EXPECT_EQ(differ_epoch, 5) << SamplingMethodName(m);
    EXPECT_EQ(differ_seed, 5) << SamplingMethodName(m);
  }
}

TEST_F(SamplingTest, SamplerScansShardIntoEqualSharesAndResume) {
  int checked = 0;
  for (SamplingMethod m : kAllSamplingMethods) {
    SamplerOptions so;
    so.method = m;
    so.threshold = 0.3;
    std::shared_ptr<const Sampler> sampler = MakeSampler(so);
    ASSERT_NE(sampler, nullptr);
    for (uint64_t epoch : {0, 1, 2, 3}) {
      ScanOptions o;
      o.sampler = sampler;
      o.order = ScanOrder::kBlockShuffled;
      o.block_size = 4;
      o.window = 3;
      o.seed = 9;
      o.epoch = epoch;
      o.batch_size = 8;
      o.num_shards = 3;
      const std::vector<uint64_t> multiset = sampler->Epoch(9, epoch);
      const uint64_t padded = (multiset.size() + 2) / 3 * 3;
      std::vector<uint64_t> all;
      for (uint32_t k = 0; k < 3; ++k) {
        o.shard_index = k;
        std::unique_ptr<Scan> scan = Open(Split::kTrain, o);
        ASSERT_NE(scan, nullptr);
        EXPECT_EQ(scan->size(), padded / 3) << "equal shares";
        EXPECT_EQ(scan->epoch_size(), padded);
        all.insert(all.end(), scan->indices().begin(), scan->indices().end());
        // Resume from every batch.
        const std::vector<uint64_t> full = Drain(Open(Split::kTrain, o).get());
        std::vector<ExampleView> batch;
        uint64_t consumed = 0;
        for (;;) {
          ScanPosition parsed;
          const std::string state = scan->position().Serialize();
          ASSERT_NE(state.find(",sampler=" + sampler->Name() + ","), std::string::npos) << state;
          ASSERT_TRUE(ScanPosition::Parse(state, &parsed).ok()) << state;
          std::unique_ptr<Scan> resumed;
          ASSERT_TRUE(Scan::Resume(store_, Split::kTrain, o, parsed, &resumed).ok());
          EXPECT_EQ(Drain(resumed.get()), std::vector<uint64_t>(full.begin() + consumed, full.end()));
          ++checked;
          ASSERT_TRUE(scan->Next(&batch, nullptr).ok());
          if (batch.empty()) break;
          consumed += batch.size();
        }
      }
      // The shards hold the epoch's multiset plus (padded - size) repeats.
      std::map<uint64_t, int64_t> diff;
      for (uint64_t i : all) ++diff[i];
      for (uint64_t i : multiset) --diff[i];
      int64_t extra = 0;
      for (const auto& [i, d] : diff) {
        EXPECT_GE(d, 0) << "index " << i << " missing";
        extra += d;
      }
      EXPECT_EQ(extra, static_cast<int64_t>(padded - multiset.size()));
    }
  }
  EXPECT_GT(checked, 2 * 4 * 3 * 2);
}

TEST_F(SamplingTest, APositionRefusesAnotherSampler) {
  SamplerOptions so;
  so.threshold = 0.3;
  ScanOptions o;
  o.sampler = MakeSampler(so);
  ScanPosition parsed;
  ASSERT_TRUE(ScanPosition::Parse(Open(Split::kTrain, o)->position().Serialize(), &parsed).ok());
  int refused = 0;
  so.threshold = 0.2;
  for (const auto& other : {MakeSampler(so), std::shared_ptr<const Sampler>()}) {
    ScanOptions p = o;
    p.sampler = other;
    std::unique_ptr<Scan> scan;
    const Status s = Scan::Resume(store_, Split::kTrain, p, parsed, &scan);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.message().find("the sampler is repeat_factor:"), std::string::npos)
        << s.ToString();
    ++refused;
  }
  EXPECT_EQ(refused, 2);
}

// --- Repeats in the Loader ----------------------------------------------------

// The epoch's whole sequence, shard after shard; each entry's expected
// RepeatOrdinal counted by brute force over that sequence.
TEST_F(SamplingTest, RepeatOrdinalsCountEarlierOccurrencesOverAllShards) {
  SamplerOptions so;
  so.threshold = 0.5;  // most images repeat
  std::shared_ptr<const Sampler> sampler = MakeSampler(so);
  ASSERT_NE(sampler, nullptr);
  ScanOptions o;
  o.sampler = sampler;
  o.seed = 4;
  o.epoch = 2;
  o.num_shards = 3;
  std::map<uint64_t, uint32_t> seen;
  uint64_t checked = 0, repeats = 0;
  for (uint32_t k = 0; k < 3; ++k) {
    o.shard_index = k;
    std::unique_ptr<Scan> scan = Open(Split::kTrain, o);
    ASSERT_NE(scan, nullptr);
    for (uint64_t i = 0; i < scan->size(); ++i) {
      const uint32_t expected = seen[scan->indices()[i]]++;
      EXPECT_EQ(scan->RepeatOrdinal(i), expected) << "shard " << k << " entry " << i;
      repeats += expected > 0;
      ++checked;
    }
  }
  EXPECT_EQ(checked, (sampler->Epoch(4, 2).size() + 2) / 3 * 3);
  EXPECT_GT(repeats, kTrain / 2);
  // Without a sampler nothing repeats.
  o.sampler = nullptr;
  o.shard_index = 1;
  std::unique_ptr<Scan> plain = Open(Split::kTrain, o);
  ASSERT_NE(plain, nullptr);
  for (uint64_t i = 0; i < plain->size(); ++i) EXPECT_EQ(plain->RepeatOrdinal(i), 0u) << i;
}

// --- Class-aware sampling ----------------------------------------------------

TEST_F(SamplingTest, ClassAwareDrawsClassesUniformly) {
  const std::vector<std::set<uint32_t>> sets = TrainBoxClasses();
  std::map<uint32_t, std::vector<size_t>> members;
  for (size_t i = 0; i < sets.size(); ++i) {
    for (uint32_t c : sets[i]) members[c].push_back(i);
  }
  ASSERT_GT(members.size(), 10u);
  const double num_classes = static_cast<double>(members.size());
  SamplerOptions so;
  so.method = SamplingMethod::kClassAware;
  so.epoch_length = 500;
  std::shared_ptr<const Sampler> sampler = MakeSampler(so);
  ASSERT_NE(sampler, nullptr);
  // p(i) = sum over the classes c of i of 1 / (C |members(c)|).
  std::vector<double> p(kTrain, 0);
  for (const auto& [c, m] : members) {
    for (size_t i : m) p[i] += 1 / (num_classes * static_cast<double>(m.size()));
  }
  constexpr int kEpochs = 400;
  const double draws = static_cast<double>(kEpochs) * so.epoch_length;
  std::vector<double> count(kTrain, 0);
  for (int e = 0; e < kEpochs; ++e) {
    const std::vector<uint64_t> epoch = sampler->Epoch(1, e);
    ASSERT_EQ(epoch.size(), so.epoch_length);
    for (uint64_t i : epoch) ++count.at(i);
  }
  int checked = 0;
  for (size_t i = 0; i < kTrain; ++i) {
    EXPECT_NEAR(sampler->expected_repeats()[i], p[i] * so.epoch_length, 1e-9) << i;
    const double sigma = std::sqrt(draws * p[i] * (1 - p[i]));
    EXPECT_LE(std::abs(count[i] - draws * p[i]), 5 * sigma + 1e-9) << "image " << i;
    if (sets[i].empty()) {
      EXPECT_EQ(count[i], 0) << "an image without classes was drawn";
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(kTrain));
  // Every class's images are drawn at least 1/C of the time (its own
  // draws; more where classes share images), within 5 sigma.
  int classes = 0;
  for (const auto& [c, m] : members) {
    double of_class = 0;
    for (size_t i : m) of_class += count[i];
    const double q = 1 / num_classes;
    EXPECT_GE(of_class / draws, q - 5 * std::sqrt(q * (1 - q) / draws)) << "class " << c;
    ++classes;
  }
  EXPECT_EQ(classes, static_cast<int>(members.size()));
}

TEST_F(SamplingTest, ReportGivesEachClassBeforeAndAfter) {
  const std::vector<std::set<uint32_t>> sets = TrainBoxClasses();
  std::map<uint32_t, uint64_t> images;
  for (const auto& s : sets) {
    for (uint32_t c : s) ++images[c];
  }
  SamplerOptions so;
  so.threshold = 0.3;
  const std::vector<double> r = ExpectedRepeatFactors(sets, so.threshold);
  std::map<uint32_t, double> after;
  for (size_t i = 0; i < sets.size(); ++i) {
    for (uint32_t c : sets[i]) after[c] += r[i];
  }
  const SamplingReport report = MakeSampler(so)->Report();
  EXPECT_EQ(report.num_images, kTrain);
  EXPECT_NEAR(report.expected_epoch_length, std::accumulate(r.begin(), r.end(), 0.0), 1e-9);
  ASSERT_EQ(report.per_class.size(), images.size());
  int checked = 0;
  for (const ClassFrequency& f : report.per_class) {
    EXPECT_EQ(f.images, images.at(f.label));
    EXPECT_NEAR(f.expected, after.at(f.label), 1e-9);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(images.size()));
  const std::string text = FormatSamplingReport(*store_, report, 3);
  EXPECT_NE(text.find("epoch length: 97 before"), std::string::npos) << text;
  EXPECT_NE(text.find("(" + std::to_string(images.size() - 3) + " more classes)"),
            std::string::npos)
      << text;
}

TEST_F(SamplingTest, SamplerOnASubsetSamplesOnlyTheSubset) {
  const auto subset = SomeSubset();
  SamplerOptions so;
  so.threshold = 0.3;
  std::shared_ptr<const Sampler> sampler = MakeSampler(so, subset);
  ASSERT_NE(sampler, nullptr);
  // f(c) over the subset's images only.
  const std::vector<std::set<uint32_t>> all = TrainBoxClasses();
  std::vector<std::set<uint32_t>> sets;
  for (uint64_t i : *subset) sets.push_back(all[i]);
  const std::vector<double> r = ExpectedRepeatFactors(sets, so.threshold);
  ASSERT_EQ(sampler->expected_repeats().size(), subset->size());
  for (size_t j = 0; j < r.size(); ++j) EXPECT_NEAR(sampler->expected_repeats()[j], r[j], 1e-12);
  const std::set<uint64_t> allowed(subset->begin(), subset->end());
  int checked = 0;
  for (uint64_t i : sampler->Epoch(0, 0)) {
    EXPECT_TRUE(allowed.count(i)) << i;
    ++checked;
  }
  EXPECT_GE(checked, static_cast<int>(subset->size()));
}

TEST_F(SamplingTest, BadOptionsAreRejected) {
  SamplerOptions so;
  so.threshold = 0;
  std::shared_ptr<const Sampler> sampler;
  Status s = Sampler::Build(store_, Split::kTrain, nullptr, so, &sampler);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("threshold"), std::string::npos) << s.ToString();
  so.threshold = 0.1;
  ScanOptions o;
  o.sampler = MakeSampler(so);
  o.subset = SomeSubset();
  std::unique_ptr<Scan> scan;
  s = Scan::Open(store_, Split::kTrain, o, &scan);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("both a subset and a sampler"), std::string::npos) << s.ToString();
  o.subset = nullptr;
  s = Scan::Open(store_, Split::kValidation, o, &scan);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("the sampler was built on train, not on validation"),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(ParseSamplingMethod("repeat-factor"), SamplingMethod::kRepeatFactor);
  EXPECT_EQ(ParseSamplingMethod("class_aware"), SamplingMethod::kClassAware);
  EXPECT_EQ(ParseSamplingMethod("nope"), std::nullopt);
}

}  // namespace
}  // namespace oiv4kv
