// Runs the oiv4-kv binary on generated stores and checks what it prints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace oiv4kv
