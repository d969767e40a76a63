// Named kill points (issue 17 item 3, docs/fault_battery.md): `oiv4-kv
// convert` of a transcoding config is stopped by SIGKILL at every commit
// boundary (store/core/kill_point.h), at its first and its last occurrence in
// a clean run, then resumed; the store must be the clean conversion's, by
// content digest, example by example, and by `dump`/`export` output, with no
// progress keys of the run left behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "store/core/kill_point.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

TEST(KillPoints, EveryCommitBoundaryAtItsFirstAndLastOccurrenceResumesToTheCleanStore) {
#ifdef OIV4KV_NO_KILL_POINTS
  GTEST_SKIP() << "built with -DOIV4KV_KILL_POINTS=OFF";
#endif
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(60, 17), &record));
  const std::string source = dir.Sub("download");
  const Config config = Config::k300k;

  // The clean run counts the points it passes.
  const std::string log = dir.Sub("points.log");
  const fault::Exit clean_exit = fault::RunConvert(
      source, dir.Sub("clean"), config, {"OIV4KV_KILL_POINTS_LOG=" + log}, dir.Sub("clean.err"));
  ASSERT_TRUE(clean_exit.exited && clean_exit.code == 0) << clean_exit.code;
  std::map<std::string, uint64_t> counts = fault::KillPointCounts(log);
  for (std::string_view name : kKillPoints) {
    EXPECT_GT(counts[std::string(name)], 0u) << name << " was never reached";
  }
  // "chunk" once per chunk of 2 images over ~60 images; both commits twice.
  EXPECT_GE(counts["chunk"], 20u);
  EXPECT_EQ(2u, counts["annotation_commit"]);
  EXPECT_EQ(2u, counts["config_commit"]);
  const uint64_t clean = fault::StoreDigest(dir.Sub("clean"));
  const std::string clean_cli = fault::DumpAndExportDigest(dir.Sub("clean"), dir.Sub("scratch"));
  EXPECT_EQ("", fault::LeftoverProgress(dir.Sub("clean"), config));

  int points = 0;
  for (std::string_view name : kKillPoints) {
    const uint64_t last = counts[std::string(name)];
    for (uint64_t at : {uint64_t{1}, last}) {
      const std::string where = std::string(name) + ":" + std::to_string(at);
      SCOPED_TRACE("killed at " + where + " (of " + std::to_string(last) + ")");
      const std::string store = dir.Sub("killed_" + std::string(name) + std::to_string(at));
      const fault::Exit killed =
          fault::RunConvert(source, store, config, {"OIV4KV_KILL_AT=" + where});
      EXPECT_TRUE(!killed.exited && killed.code == SIGKILL)
          << "the run was not stopped at " << where << " (exited " << killed.exited << ", code "
          << killed.code << ")";
      const fault::Exit resumed =
          fault::RunConvert(source, store, config, {}, dir.Sub("resume.err"));
      ASSERT_TRUE(resumed.exited && resumed.code == 0) << "resume failed: " << resumed.code;
      EXPECT_EQ(clean, fault::StoreDigest(store));
      const fault::Comparison c = fault::CompareStores(dir.Sub("clean"), store);
      EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                            << " extra, " << c.differing << " differing: " << c.first_problem;
      EXPECT_GT(c.compared, 40u);
      EXPECT_EQ(clean_cli, fault::DumpAndExportDigest(store, dir.Sub("scratch")));
      EXPECT_EQ("", fault::LeftoverProgress(store, config));
      std::filesystem::remove_all(store);
      ++points;
      if (last == 1) break;  // first and last are one
    }
  }
  std::cout << "kill points resumed: " << points << "\n";
  EXPECT_GE(points, 9);
}

}  // namespace
}  // namespace oiv4kv
