// Named kill points of the sharded path (issue 17 item 3, issue 16,
// docs/fault_battery.md): `oiv4-kv convert-unit` and `oiv4-kv ingest`
// stopped by SIGKILL at every kill point each reaches (its own, "unit_commit"
// and "ingest_files", and the store's), at the first and the last occurrence
// in a clean run, then rerun; the ingested store must be the one-machine
// `convert`'s, by content digest, example by example and by dump/export,
// with no progress keys, staging or unit temporary folder left behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>

#include "store/core/kill_point.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

bool Succeeded(const fault::Exit& e) { return e.exited && e.code == 0; }

TEST(ShardKillPoints, EveryPointOfConvertUnitAndIngestAtFirstAndLastResumesToTheCleanStore) {
#ifdef OIV4KV_NO_KILL_POINTS
  GTEST_SKIP() << "built with -DOIV4KV_KILL_POINTS=OFF";
#endif
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(60, 17), &record));
  const std::string source = dir.Sub("download");
  const Config config = Config::k300k;
  ASSERT_TRUE(Succeeded(fault::RunConvert(source, dir.Sub("one"), config)));
  const uint64_t want = fault::StoreDigest(dir.Sub("one"));
  const std::string want_cli = fault::DumpAndExportDigest(dir.Sub("one"), dir.Sub("scratch"));
  const std::string plan = dir.Sub("plan.json");
  ASSERT_TRUE(Succeeded(fault::RunCli(fault::PlanArgs(source, config, plan))));
  constexpr size_t kUnits = 18;  // 16 train archives, validation, test

  // The clean sharded run counts the points: unit 0's, and the ingest's.
  const std::string units = dir.Sub("units");
  ASSERT_TRUE(Succeeded(fault::RunCli(fault::ConvertUnitArgs(plan, 0, units),
                                      {"OIV4KV_KILL_POINTS_LOG=" + dir.Sub("unit.log")})));
  for (size_t k = 1; k < kUnits; ++k) {
    ASSERT_TRUE(Succeeded(fault::RunCli(fault::ConvertUnitArgs(plan, k, units)))) << "unit " << k;
  }
  ASSERT_TRUE(Succeeded(fault::RunCli(fault::IngestArgs(plan, units, dir.Sub("clean")),
                                      {"OIV4KV_KILL_POINTS_LOG=" + dir.Sub("ingest.log")})));
  ASSERT_EQ(want, fault::StoreDigest(dir.Sub("clean")));
  const std::map<std::string, uint64_t> unit_points = fault::KillPointCounts(dir.Sub("unit.log"));
  const std::map<std::string, uint64_t> ingest_points = fault::KillPointCounts(dir.Sub("ingest.log"));
  // The two commits of a unit; the ingest's two around its one atomic ingest.
  EXPECT_EQ(2u, unit_points.count("unit_commit") ? unit_points.at("unit_commit") : 0);
  EXPECT_EQ(2u, ingest_points.count("ingest_files") ? ingest_points.at("ingest_files") : 0);
  EXPECT_EQ(0u, ingest_points.count("unit_commit"));

  // The ingested store of a rerun, against the one-machine convert.
  auto check_store = [&](const std::string& store) {
    EXPECT_EQ(want, fault::StoreDigest(store));
    const fault::Comparison c = fault::CompareStores(dir.Sub("one"), store);
    EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                          << " extra, " << c.differing << " differing: " << c.first_problem;
    EXPECT_GT(c.compared, 40u);
    EXPECT_EQ(want_cli, fault::DumpAndExportDigest(store, dir.Sub("scratch")));
    EXPECT_EQ("", fault::LeftoverProgress(store, config));
    EXPECT_FALSE(fs::exists(store + "/ingest-staging"));
  };

  int unit_kills = 0, ingest_kills = 0;
  for (const auto& [name, last] : unit_points) {
    for (uint64_t at : {uint64_t{1}, last}) {
      const std::string where = name + ":" + std::to_string(at);
      SCOPED_TRACE("convert-unit 0 killed at " + where + " (of " + std::to_string(last) + ")");
      fs::remove_all(units + "/train_0");
      const fault::Exit killed = fault::RunCli(fault::ConvertUnitArgs(plan, 0, units),
                                               {"OIV4KV_KILL_AT=" + where});
      EXPECT_TRUE(!killed.exited && killed.code == SIGKILL) << "not stopped at " << where;
      ASSERT_TRUE(Succeeded(fault::RunCli(fault::ConvertUnitArgs(plan, 0, units))));
      EXPECT_EQ(0u, fault::UnitTempFolders(units).count) << fault::UnitTempFolders(units).first;
      const std::string store = dir.Sub("after_unit_" + name + std::to_string(at));
      ASSERT_TRUE(Succeeded(fault::RunCli(fault::IngestArgs(plan, units, store))));
      check_store(store);
      fs::remove_all(store);
      ++unit_kills;
      if (last == 1) break;  // first and last are one
    }
  }
  for (const auto& [name, last] : ingest_points) {
    for (uint64_t at : {uint64_t{1}, last}) {
      const std::string where = name + ":" + std::to_string(at);
      SCOPED_TRACE("ingest killed at " + where + " (of " + std::to_string(last) + ")");
      const std::string store = dir.Sub("ingest_" + name + std::to_string(at));
      const fault::Exit killed = fault::RunCli(fault::IngestArgs(plan, units, store),
                                               {"OIV4KV_KILL_AT=" + where});
      EXPECT_TRUE(!killed.exited && killed.code == SIGKILL) << "not stopped at " << where;
      ASSERT_TRUE(Succeeded(fault::RunCli(fault::IngestArgs(plan, units, store))));
      check_store(store);
      fs::remove_all(store);
      ++ingest_kills;
      if (last == 1) break;
    }
  }
  std::cout << "shard kill points resumed: " << unit_kills << " in convert-unit ("
            << unit_points.size() << " points), " << ingest_kills << " in ingest ("
            << ingest_points.size() << " points)\n";
  // unit_commit twice, and at least the chunk point of the unit's scratch store.
  EXPECT_GE(unit_kills, 3);
  // ingest_files twice, the manifest and config commits.
  EXPECT_GE(ingest_kills, 4);
}

}  // namespace
}  // namespace oiv4kv
