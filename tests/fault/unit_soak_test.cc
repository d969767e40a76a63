// The kill -9 soak of the sharded path (issue 17 item 2, issue 16,
// docs/fault_battery.md): every `oiv4-kv convert-unit` of a plan and then
// `oiv4-kv ingest` killed with SIGKILL at random (seeded) moments and rerun
// until it completes, N rounds; each ingested store is compared with a clean
// one-machine `convert`: the same content digest, 0 lost, duplicated, extra
// or differing examples, the same `dump`/`export` output, no progress keys
// and no unit temporary folder left behind.
//
//   OIV4KV_UNIT_SOAK_N      rounds (default 1, the short tier; ctest's
//                           unit_kill9_soak, label soak, runs 30)
//   OIV4KV_UNIT_SOAK_SEED   seed of the kill moments (default 1)
//   OIV4KV_UNIT_SOAK_IMAGES images of the download (default 120)
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Spawns `args` and kills it with SIGKILL after a moment drawn from
// `moment`, at most `max_kills` times, then lets a last run finish.
// Returns the kills (or -1 when no run finished with status 0).
int KillUntilDone(const std::vector<std::string>& args, int max_kills, std::mt19937_64& rng,
                  std::uniform_int_distribution<int64_t>& moment) {
  int kills = 0;
  for (int attempt = 0; attempt < max_kills + 2; ++attempt) {
    const pid_t child = fault::SpawnCli(args);
    if (child <= 0) return -1;
    if (kills < max_kills) {
      usleep(static_cast<useconds_t>(moment(rng)));
      kill(child, SIGKILL);
    }
    const fault::Exit e = fault::Wait(child);
    if (!e.exited && e.code == SIGKILL) {
      ++kills;
      continue;
    }
    return e.exited && e.code == 0 ? kills : -1;
  }
  return -1;
}

class UnitSoak : public ::testing::Test {
 protected:
  void SetUp() override {
    images_ = EnvOr("OIV4KV_UNIT_SOAK_IMAGES", 120);
    SynthRecord record;
    ASSERT_OK(WriteSynthDownload(dir_.Sub("download"), fault::Download(images_, 3), &record));
    source_ = dir_.Sub("download");
    const fault::Exit one = fault::RunConvert(source_, dir_.Sub("one"), config_);
    ASSERT_TRUE(one.exited && one.code == 0) << one.code;
    plan_ = dir_.Sub("plan.json");
    const fault::Exit planned = fault::RunCli(fault::PlanArgs(source_, config_, plan_));
    ASSERT_TRUE(planned.exited && planned.code == 0) << planned.code;
    // 16 train archives (one unit each), validation, test.
    units_ = 18;
  }

  TempDir dir_;
  uint64_t images_ = 0;
  std::string source_, plan_;
  size_t units_ = 0;
  const Config config_ = Config::k300k;
};

TEST_F(UnitSoak, RandomKillsOfUnitsAndIngestThenResumeGiveTheOneMachineStore) {
  const uint64_t n = EnvOr("OIV4KV_UNIT_SOAK_N", 1);
  const uint64_t seed = EnvOr("OIV4KV_UNIT_SOAK_SEED", 1);
  const uint64_t want_digest = fault::StoreDigest(dir_.Sub("one"));
  const std::string want_cli = fault::DumpAndExportDigest(dir_.Sub("one"), dir_.Sub("scratch"));

  // A clean sharded run times the kill moments: each unit's and the ingest's.
  int64_t slowest_unit_us = 0;
  for (size_t k = 0; k < units_; ++k) {
    const auto start = std::chrono::steady_clock::now();
    const fault::Exit e = fault::RunCli(fault::ConvertUnitArgs(plan_, k, dir_.Sub("clean_units")));
    ASSERT_TRUE(e.exited && e.code == 0) << "clean unit " << k << ": " << e.code;
    slowest_unit_us = std::max(slowest_unit_us, MicrosSince(start));
  }
  const auto ingest_start = std::chrono::steady_clock::now();
  const fault::Exit ingested = fault::RunCli(
      fault::IngestArgs(plan_, dir_.Sub("clean_units"), dir_.Sub("clean_sharded")));
  ASSERT_TRUE(ingested.exited && ingested.code == 0) << ingested.code;
  const int64_t ingest_us = MicrosSince(ingest_start);
  ASSERT_EQ(want_digest, fault::StoreDigest(dir_.Sub("clean_sharded")))
      << "an uninterrupted sharded run already differs from the one-machine convert";

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> unit_moment(0, slowest_unit_us * 11 / 10);
  // Within a clean ingest (shorter than a unit), so that most draws stop it.
  std::uniform_int_distribution<int64_t> ingest_moment(0, ingest_us * 9 / 10);
  constexpr int kMaxKillsPerUnit = 3, kMaxKillsPerIngest = 8;
  uint64_t unit_kills = 0, ingest_kills = 0, rounds = 0, units_done = 0, examples_compared = 0;
  for (uint64_t round = 0; round < n; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " (seed " + std::to_string(seed) + ")");
    const std::string work = dir_.Sub("units" + std::to_string(round));
    const std::string store = dir_.Sub("store" + std::to_string(round));
    for (size_t k = 0; k < units_; ++k) {
      const int kills = KillUntilDone(fault::ConvertUnitArgs(plan_, k, work), kMaxKillsPerUnit, rng, unit_moment);
      ASSERT_GE(kills, 0) << "unit " << k << " never completed";
      unit_kills += kills;
      ++units_done;
    }
    const fault::TempFolders left = fault::UnitTempFolders(work);
    EXPECT_EQ(0u, left.count) << "stale unit temporary folder: " << left.first;
    const int kills =
        KillUntilDone(fault::IngestArgs(plan_, work, store), kMaxKillsPerIngest, rng, ingest_moment);
    ASSERT_GE(kills, 0) << "the ingest never completed";
    ingest_kills += kills;

    EXPECT_EQ(want_digest, fault::StoreDigest(store));
    const fault::Comparison c = fault::CompareStores(dir_.Sub("one"), store);
    EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                          << " extra, " << c.differing << " differing: " << c.first_problem;
    examples_compared += c.compared;
    EXPECT_EQ(want_cli, fault::DumpAndExportDigest(store, dir_.Sub("scratch")));
    EXPECT_EQ("", fault::LeftoverProgress(store, config_));
    EXPECT_FALSE(fs::exists(store + "/ingest-staging"));
    fs::remove_all(work);
    fs::remove_all(store);
    ++rounds;
  }
  std::cout << "unit kill -9 soak: " << unit_kills << " convert-unit kills and " << ingest_kills
            << " ingest kills survived over " << rounds << " rounds of " << units_
            << " units of " << images_ << " images (seed " << seed << "), " << examples_compared
            << " examples compared with the one-machine convert\n";
  EXPECT_EQ(n, rounds);
  EXPECT_EQ(n * units_, units_done);
  EXPECT_GE(unit_kills, n) << "too few units were interrupted to test resuming";
}

// Issue 16: a unit killed again and again leaves at most the last killed
// run's temporary folder (the rerun removes its dead predecessors'), so the
// work folder does not grow, and none once the unit completes.
TEST_F(UnitSoak, RepeatedKillsOfOneUnitLeaveNoPileOfTemporaryFolders) {
  const std::string work = dir_.Sub("units");
  // The first train unit, timed in a clean run elsewhere.
  const auto start = std::chrono::steady_clock::now();
  const fault::Exit clean = fault::RunCli(fault::ConvertUnitArgs(plan_, 0, dir_.Sub("clean_units")));
  ASSERT_TRUE(clean.exited && clean.code == 0) << clean.code;
  const int64_t unit_us = MicrosSince(start);

  std::mt19937_64 rng(EnvOr("OIV4KV_UNIT_SOAK_SEED", 1));
  // Moments within the run, where it holds a temporary folder.
  std::uniform_int_distribution<int64_t> moment(unit_us / 4, unit_us * 9 / 10);
  constexpr int kKills = 8;
  int killed = 0, runs_that_left_a_folder = 0;
  uint64_t most_bytes = 0;
  for (int i = 0; i < kKills; ++i) {
    const pid_t child = fault::SpawnCli(fault::ConvertUnitArgs(plan_, 0, work));
    ASSERT_GT(child, 0);
    usleep(static_cast<useconds_t>(moment(rng)));
    kill(child, SIGKILL);
    const fault::Exit e = fault::Wait(child);
    if (e.exited) {  // finished before the kill: start over from nothing
      ASSERT_EQ(0, e.code);
      fs::remove_all(work + "/train_0");
      continue;
    }
    ++killed;
    const fault::TempFolders t = fault::UnitTempFolders(work);
    EXPECT_LE(t.count, 1u) << "after kill " << killed << ": " << t.first << " and others";
    runs_that_left_a_folder += t.count;
    most_bytes = std::max(most_bytes, t.bytes);
  }
  const fault::Exit done = fault::RunCli(fault::ConvertUnitArgs(plan_, 0, work));
  ASSERT_TRUE(done.exited && done.code == 0) << done.code;
  EXPECT_EQ(0u, fault::UnitTempFolders(work).count);
  EXPECT_TRUE(fs::exists(work + "/train_0/unit.json"));
  std::cout << "unit temporary folders: " << killed << " kills of unit 0, "
            << runs_that_left_a_folder << " left a folder, at most 1 at a time (" << most_bytes
            << " bytes at most), none after the rerun\n";
  EXPECT_GE(killed, kKills / 2) << "too few runs were interrupted";
}

}  // namespace
}  // namespace oiv4kv
