// Runs `oiv4-kv synth` and checks its exit codes, summary and output tree.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::CommandResult;

// synth's summary and errors go to stderr.
CommandResult Oiv4kv(const std::string& args) { return testing::Oiv4kv(args, true); }

TEST(CliSynth, WritesTheRequestedLayoutAndSummarizes) {
  TempDir dir;
  const CommandResult r = Oiv4kv("synth " + dir.Sub("dl") +
                                 " --images 60 --max-side 32 --seed 3 --archives dir"
                                 " --split-subdirs --shuffled-csv");
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("train 54, validation 3, test 3 images")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("awkward")) << r.out;
  EXPECT_TRUE(fs::is_regular_file(dir.Sub("dl/class-descriptions.csv")));
  EXPECT_TRUE(fs::is_regular_file(dir.Sub("dl/train/train-annotations-bbox.csv")));
  EXPECT_TRUE(fs::is_directory(dir.Sub("dl/train/train_0")));
  EXPECT_TRUE(fs::is_directory(dir.Sub("dl/test/test")));
  EXPECT_FALSE(fs::exists(dir.Sub("dl/test.tar.gz")));
}

TEST(CliSynth, DefaultsToTarGzAndNoAwkwardWhenAsked) {
  TempDir dir;
  const CommandResult r =
      Oiv4kv("synth " + dir.Sub("dl") + " --images 20 --max-side 16 --no-awkward");
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("0 awkward, 0 bad members")) << r.out;
  EXPECT_TRUE(fs::is_regular_file(dir.Sub("dl/train_f.tar.gz")));
  EXPECT_TRUE(fs::is_regular_file(dir.Sub("dl/validation.tar.gz")));
}

TEST(CliSynth, UsageErrorsExitTwo) {
  TempDir dir;
  EXPECT_EQ(2, Oiv4kv("synth " + dir.Sub("a") + " --images 2").exit_code);
  EXPECT_EQ(2, Oiv4kv("synth " + dir.Sub("b") + " --images 10 --archives zip").exit_code);
  EXPECT_EQ(2, Oiv4kv("synth " + dir.Sub("c")).exit_code);  // --images is required
  fs::create_directories(dir.Sub("full"));
  std::ofstream(dir.Sub("full/x")) << "x";
  const CommandResult r = Oiv4kv("synth " + dir.Sub("full") + " --images 10");
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("not empty")) << r.out;
}

TEST(CliSynth, HelpShowsExamples) {
  const CommandResult r = Oiv4kv("synth --help");
  EXPECT_EQ(0, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("oiv4-kv synth /tmp/oiv4-download --images 2000"));
}

}  // namespace
}  // namespace oiv4kv
