// The kill -9 soak (issue 17 item 2, docs/fault_battery.md): `oiv4-kv
// convert` of a few hundred images in a transcoding config, killed with
// SIGKILL at random (seeded) moments and resumed until it completes, N
// times; each result is compared with a clean conversion: 0 lost,
// duplicated, extra or differing examples, the same content digest and the
// same `dump`/`export` output.
//
//   OIV4KV_SOAK_N     conversions (default 10, the short tier; ctest's
//                     kill9_soak, label soak, runs 200)
//   OIV4KV_SOAK_SEED  seed of the kill moments (default 1)
//   OIV4KV_SOAK_IMAGES images of the download (default 300)
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(Kill9Soak, RandomKillsThenResumeGiveTheCleanStore) {
  const uint64_t n = EnvOr("OIV4KV_SOAK_N", 10);
  const uint64_t seed = EnvOr("OIV4KV_SOAK_SEED", 1);
  const uint64_t images = EnvOr("OIV4KV_SOAK_IMAGES", 300);
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(images, 3), &record));
  const std::string source = dir.Sub("download");
  const Config config = Config::k300k;

  const auto start = std::chrono::steady_clock::now();
  const fault::Exit clean_exit = fault::RunConvert(source, dir.Sub("clean"), config);
  ASSERT_TRUE(clean_exit.exited && clean_exit.code == 0) << clean_exit.code;
  const auto run_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start).count();
  const uint64_t clean = fault::StoreDigest(dir.Sub("clean"));
  const std::string clean_cli = fault::DumpAndExportDigest(dir.Sub("clean"), dir.Sub("scratch"));

  std::mt19937_64 rng(seed);
  // Kill moments spread over a whole clean run (and a little past it, where
  // a resumed run that had little left to do has ended already).
  std::uniform_int_distribution<int64_t> moment(0, run_us * 11 / 10);
  constexpr int kMaxKillsPerConversion = 12;
  uint64_t kills = 0, conversions = 0, examples_compared = 0;
  for (uint64_t round = 0; round < n; ++round) {
    SCOPED_TRACE("conversion " + std::to_string(round) + " (seed " + std::to_string(seed) + ")");
    const std::string store = dir.Sub("soak" + std::to_string(round));
    int round_kills = 0;
    for (int attempt = 0;; ++attempt) {
      ASSERT_LT(attempt, kMaxKillsPerConversion + 2) << "the conversion never completed";
      const pid_t child = fault::SpawnConvert(source, store, config);
      ASSERT_GT(child, 0);
      if (round_kills < kMaxKillsPerConversion) {
        usleep(static_cast<useconds_t>(moment(rng)));
        kill(child, SIGKILL);
      }
      const fault::Exit e = fault::Wait(child);
      if (!e.exited) {
        ASSERT_EQ(SIGKILL, e.code);
        ++round_kills;
        continue;
      }
      ASSERT_EQ(0, e.code) << "a resumed conversion failed";
      break;
    }
    kills += round_kills;
    EXPECT_EQ(clean, fault::StoreDigest(store));
    const fault::Comparison c = fault::CompareStores(dir.Sub("clean"), store);
    EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                          << " extra, " << c.differing << " differing: " << c.first_problem;
    examples_compared += c.compared;
    EXPECT_EQ(clean_cli, fault::DumpAndExportDigest(store, dir.Sub("scratch")));
    EXPECT_EQ("", fault::LeftoverProgress(store, config));
    std::filesystem::remove_all(store);
    ++conversions;
  }
  std::cout << "kill -9 soak: " << kills << " kills survived over " << conversions
            << " conversions of " << images << " images (seed " << seed << "), "
            << examples_compared << " examples compared with the clean conversion\n";
  EXPECT_EQ(n, conversions);
  EXPECT_GE(kills, n) << "too few runs were interrupted to test resuming";
}

}  // namespace
}  // namespace oiv4kv
