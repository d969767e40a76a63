// Shared test helpers: status assertions, temporary directories, and small
// realistic stores written from the sample generator, whose own record of
// what it wrote is the expected value of every read-back test.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "oiv4kv/status.h"
#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/testing/sample_examples.h"

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const ::oiv4kv::Status _s = (expr);                              \
    ASSERT_TRUE(_s.ok()) << #expr << " -> " << _s.ToString();        \
  } while (0)
#define EXPECT_OK(expr)                                              \
  do {                                                               \
    const ::oiv4kv::Status _s = (expr);                              \
    EXPECT_TRUE(_s.ok()) << #expr << " -> " << _s.ToString();        \
  } while (0)

namespace oiv4kv::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct StoredImage {
  std::vector<uint8_t> bytes;
  ImageMeta meta;
};

// What a sample store holds, as the generator wrote it.
struct SampleStore {
  std::string path;
  SampleVocabularies vocab;
  std::map<std::pair<Split, uint64_t>, ExampleData> examples;  // key order
  std::map<std::tuple<Config, Split, uint64_t>, StoredImage> images;

  std::vector<uint64_t> Ids(Split split) const;
};

struct SampleSpec {
  std::array<size_t, kNumSplits> examples = {40, 12, 8};
  std::vector<Config> configs = {Config::kOriginal};
  uint64_t seed = 1;
  size_t examples_per_batch = 16;
  bool commit = true;  // false: write everything but commit nothing
};

// Writes a store at `path` per `spec`; `out` records what was written.
Status WriteSampleStore(const std::string& path, const SampleSpec& spec, SampleStore* out);

// A test fixture with one store per suite (only read), written by
// Derived::Build(path, sample). A failure inside SetUpTestSuite makes gtest
// (1.11+) mark every test of the suite SKIPPED, and ctest counts skipped
// tests as passing: the set-up's status is kept instead and every test fails
// on it in SetUp.
template <typename Derived>
class StoreSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sample_ = new SampleStore();
    setup_ = Derived::Build(dir_->Sub("store"), sample_);
    if (!setup_.ok()) return;
    std::unique_ptr<Store> store;
    setup_ = Store::Open(sample_->path, StoreOptions(), &store);
    store_ = store.release();
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
    delete sample_;
    sample_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(setup_.ok() && store_ != nullptr)
        << "the suite's set-up failed: " << setup_.ToString();
  }

  static inline TempDir* dir_ = nullptr;
  static inline SampleStore* sample_ = nullptr;
  static inline Store* store_ = nullptr;
  static inline Status setup_;
};

// Writes the images of `config` for every example of `sample` into an open
// writer (BeginConfig, batches, CommitConfig), recording them in `sample`.
Status AddSampleConfig(Writer* writer, Config config, SampleExampleGenerator* gen,
                       SampleStore* sample);

// Puts the generator's four vocabularies (all, trainable, boxable, source).
Status PutSampleVocabularies(Writer* writer, const SampleVocabularies& v);

// `jpeg` without its segments of `marker` before the first scan (0xDB:
// quantization tables, 0xC4: Huffman tables).
std::vector<uint8_t> JpegWithoutSegments(const std::vector<uint8_t>& jpeg, uint8_t marker);

// Writes `config` into the committed store at sample->path with real JPEGs
// (SyntheticImage encoded by TurboJPEG, 24..160 px a side, their true sizes
// as metadata) for every example, and commits it; records them in `sample`.
Status AddJpegConfig(Config config, SampleStore* sample);

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs `command` through the shell; captures stdout, and stderr too when
// `with_stderr` (else it is discarded).
CommandResult RunCommand(const std::string& command, bool with_stderr);

// Runs the oiv4-kv command line with `args` (shell words). Only in builds
// with the tools (OIV4KV_BUILD_TOOLS).
CommandResult Oiv4kv(const std::string& args, bool with_stderr = false);

// Checks every feature of `view` against `expected`.
void ExpectSameExample(const ExampleData& expected, const ExampleView& view);

}  // namespace oiv4kv::testing
