// Runs `oiv4-kv bench` on a small converted store (synth + convert 300k, so
// its images are real JPEGs that decode) and checks its JSON and exit codes.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::CommandResult;
using testing::TempDir;

using testing::Oiv4kv;

class CliBenchTest : public ::testing::Test {
 protected:
  // One store for the suite: a 60-image download converted to 300k only.
  // A failure inside SetUpTestSuite makes gtest mark every test SKIPPED,
  // which ctest counts as passing: what failed is recorded in setup_error_
  // and SetUp fails each test on it.
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    setup_error_.clear();
    const CommandResult synth = Oiv4kv(
        "synth " + dir_->Sub("dl") + " --images 60 --max-side 64 --no-awkward --archives dir",
        true);
    if (synth.exit_code != 0) {
      setup_error_ = "synth exited " + std::to_string(synth.exit_code) + ": " + synth.out;
      return;
    }
    const CommandResult convert = Oiv4kv("convert --source " + dir_->Sub("dl") + " --store " +
                                             store() + " --config 300k --threads 1",
                                         true);
    if (convert.exit_code != 0) {
      setup_error_ = "convert exited " + std::to_string(convert.exit_code) + ": " + convert.out;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ("", setup_error_) << "the suite's set-up failed"; }
  static std::string store() { return dir_->Sub("store"); }

  static inline std::string setup_error_;
  static TempDir* dir_;
};
TempDir* CliBenchTest::dir_ = nullptr;

TEST_F(CliBenchTest, JsonHasEveryRateAboveZero) {
  const CommandResult r = Oiv4kv("bench " + store() + " --seconds 1 --threads 1 --json", false);
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
  for (const char* key : {"annotation_get_per_s", "image_get_per_s", "sequential_scan_per_s",
                          "shuffled_scan_per_s", "get_decode_per_s"}) {
    ASSERT_TRUE(j.contains(key)) << key << " missing from " << r.out;
    ASSERT_TRUE(j[key].is_number()) << key << ": " << j[key];
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  ASSERT_TRUE(j.contains("threads")) << r.out;
  EXPECT_EQ(1, j["threads"].get<int>());
  ASSERT_TRUE(j.contains("config")) << r.out;
  EXPECT_EQ("300k", j["config"]);  // the default: the first complete of 300k, 200k, original
  ASSERT_TRUE(j.contains("seconds")) << r.out;
  EXPECT_EQ(1.0, j["seconds"].get<double>());
  EXPECT_EQ(0, j["decode_errors"].get<int>());
}

TEST_F(CliBenchTest, TableShowsEachPhaseAndTheThreads) {
  const CommandResult r = Oiv4kv("bench " + store() + " --config 300k --seconds 0.5 --threads 2",
                                 false);
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("2 threads")) << r.out;
  for (const char* phase : {"annotation Get", "image Get 300k", "sequential scan",
                            "shuffled scan", "decode to RGB"}) {
    EXPECT_NE(std::string::npos, r.out.find(phase)) << phase << " not in\n" << r.out;
  }
}

TEST_F(CliBenchTest, ConfigNotInTheStoreExitsOneNamingThoseThere) {
  const CommandResult r = Oiv4kv("bench " + store() + " --config 200k --seconds 0.1", true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("no complete config 200k")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("configs present: 300k")) << r.out;
}

TEST(CliBench, MissingStoreExitsOneNamingIt) {
  TempDir dir;
  const CommandResult r = Oiv4kv("bench " + dir.Sub("missing") + " --seconds 0.1", true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find(dir.Sub("missing"))) << r.out;
}

TEST(CliBench, UsageErrorsExitTwo) {
  TempDir dir;
  EXPECT_EQ(2, Oiv4kv("bench", false).exit_code);  // STORE is required
  EXPECT_EQ(2, Oiv4kv("bench " + dir.path() + " --config 100k", false).exit_code);
  EXPECT_EQ(2, Oiv4kv("bench " + dir.path() + " --threads 0", false).exit_code);
  EXPECT_EQ(2, Oiv4kv("bench " + dir.path() + " --seconds -1", false).exit_code);
  const CommandResult help = Oiv4kv("bench --help", false);
  EXPECT_EQ(0, help.exit_code);
  EXPECT_NE(std::string::npos, help.out.find("oiv4-kv bench /data/oiv4 --threads 1 --json"))
      << help.out;
}

}  // namespace
}  // namespace oiv4kv
