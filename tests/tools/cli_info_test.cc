// Runs the oiv4-kv binary on generated stores and checks what it prints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "oiv4kv/writer.h"

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

using testing::CommandResult;

using testing::Oiv4kv;

TEST(CliInfo, JsonReportsCountsConfigsAndBytes) {
  TempDir dir;
  SampleSpec spec;
  spec.configs = {Config::kOriginal, Config::k200k};
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  const CommandResult r = Oiv4kv("info --json " + sample.path);
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["complete"].get<bool>());
  EXPECT_EQ(nlohmann::json::array({"original", "200k"}), j["configs"]);
  EXPECT_EQ(spec.examples[0], j["splits"]["train"].get<size_t>());
  EXPECT_EQ(spec.examples[1], j["splits"]["validation"].get<size_t>());
  EXPECT_EQ(spec.examples[2], j["splits"]["test"].get<size_t>());
  EXPECT_EQ("tfds", j["label_order"]);
  EXPECT_EQ(19'995u, j["vocabularies"]["all"].get<size_t>());
  size_t image_bytes = 0;
  for (const auto& [key, img] : sample.images) {
    if (std::get<0>(key) == Config::k200k) image_bytes += img.bytes.size();
  }
  EXPECT_GE(j["bytes"]["images.200k"].get<size_t>(), image_bytes);
  EXPECT_EQ(0u, j["bytes"]["images.300k"].get<size_t>());
}

TEST(CliInfo, IncompleteStoreIsReportedWithExitOne) {
  TempDir dir;
  SampleSpec spec;
  spec.commit = false;
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  const CommandResult r = Oiv4kv("info --json " + sample.path);
  EXPECT_EQ(1, r.exit_code);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["complete"].get<bool>());
  EXPECT_TRUE(j["configs"].empty());
}

TEST(CliInfo, UsageErrorsExitTwo) {
  EXPECT_EQ(2, Oiv4kv("info").exit_code);
  EXPECT_EQ(2, Oiv4kv("no-such-command").exit_code);
  EXPECT_EQ(0, Oiv4kv("info --help").exit_code);
  TempDir dir;
  EXPECT_EQ(1, Oiv4kv("info " + dir.Sub("missing")).exit_code);
}

// A store whose CURRENT was deleted is not "no store here": every reader
// says which file is missing. info and verify exit 1 alike (issue 12 item 10,
// issue 11: verify used to exit 2 where info exits 1).
TEST(CliInfo, StoreWithoutCurrentSaysCurrentIsMissing) {
  TempDir dir;
  SampleSpec spec;
  spec.examples = {10, 4, 2};
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  ASSERT_TRUE(std::filesystem::remove(sample.path + "/CURRENT"));
  int checked = 0;
  for (const char* command : {"info ", "info --json ", "verify ", "verify --json ",
                              "get --split train --id 0000000000000001 "}) {
    const CommandResult r = Oiv4kv(command + sample.path, true);
    EXPECT_EQ(1, r.exit_code) << command << r.out;
    EXPECT_NE(std::string::npos, r.out.find(sample.path + ": the folder holds a store's files "
                                            "(MANIFEST, tables) but its CURRENT file is missing"))
        << command << r.out;
    EXPECT_EQ(std::string::npos, r.out.find("no oiv4-kv store here")) << command << r.out;
    ++checked;
  }
  EXPECT_EQ(5, checked);
  std::unique_ptr<Store> store;
  const Status s = Store::Open(sample.path, StoreOptions(), &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("CURRENT file is missing")) << s.ToString();
}

// A download folder given where a store is expected: say that it is one and
// how to convert it (issue 11, "also noticed").
TEST(CliInfo, DownloadFolderSaysConvertIt) {
  TempDir dir;
  const std::string dl = dir.Sub("download");
  ASSERT_EQ(0, Oiv4kv("synth " + dl + " --images 8 --max-side 32 --archives tar --no-awkward")
                   .exit_code);
  int checked = 0;
  for (const char* command : {"info ", "verify ", "dump --split train "}) {
    const CommandResult r = Oiv4kv(command + dl, true);
    EXPECT_EQ(1, r.exit_code) << command << r.out;
    EXPECT_NE(std::string::npos,
              r.out.find(dl + ": this looks like an Open Images download, not a store: convert "
                              "it first with `oiv4-kv convert --source " + dl))
        << command << r.out;
    ++checked;
  }
  EXPECT_EQ(3, checked);
  // An empty folder and a missing one are still "no store here".
  const CommandResult r = Oiv4kv("verify " + dir.Sub("missing"), true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("no oiv4-kv store here (no such folder)")) << r.out;
}

// `convert` into a store another process writes names that process: here
// this test's own pid, which holds the store's writer lock (issue 12 item
// 10: it said "Resource temporarily unavailable").
TEST(CliInfo, HeldWriterLockNamesTheWriterPid) {
  TempDir dir;
  const std::string dl = dir.Sub("download");
  ASSERT_EQ(0, Oiv4kv("synth " + dl + " --images 8 --max-side 32 --archives tar --no-awkward")
                   .exit_code);
  const std::string store = dir.Sub("store");
  std::unique_ptr<Writer> writer;
  ASSERT_OK(Writer::Open(store, WriterOptions(), &writer));
  const CommandResult r = Oiv4kv("convert --source " + dl + " --store " + store +
                                     " --config original --label-lists " + dl + "/tfds_lists",
                                 true);
  EXPECT_NE(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find(store + ": another process (pid " + std::to_string(::getpid()) +
                       ") is writing this store"))
      << r.out;
  // verify does not check a store being written; it says so.
  const CommandResult v = Oiv4kv("verify " + store, true);
  EXPECT_EQ(1, v.exit_code) << v.out;
  EXPECT_NE(std::string::npos, v.out.find("another process (pid " + std::to_string(::getpid()) +
                                          ") is writing this store"))
      << v.out;
  // A reader of the store, incomplete while it is written, is told both.
  const CommandResult g = Oiv4kv("get " + store + " --split train --index 0", true);
  EXPECT_EQ(1, g.exit_code) << g.out;
  EXPECT_NE(std::string::npos, g.out.find("another process (pid " + std::to_string(::getpid()) +
                                          ") is writing this store"))
      << g.out;
  EXPECT_NE(std::string::npos, g.out.find("store is incomplete")) << g.out;
  writer.reset();
  EXPECT_EQ(std::string::npos, Oiv4kv("verify " + store, true).out.find("another process"));
}

}  // namespace
}  // namespace oiv4kv
