// Helpers of the fault battery (docs/fault_battery.md): `oiv4-kv convert`
// run as its own process with test hooks in its environment, and the checks
// that a store resumed after a fault is the clean conversion's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "store/convert/converter.h"
#include "store/synth/synth_download.h"

namespace oiv4kv::fault {

// The downloads the battery converts: `images` of at most 96 px a side, with
// the awkward members (so --on-error skip has a report to keep).
SynthOptions Download(size_t images, uint64_t seed);

// `oiv4-kv convert` of `source` into `store` with --on-error skip, two
// threads, two archive readers and two-image chunks (many commits), its
// stderr to `log` (or /dev/null) and `env` ("NAME=VALUE") added to its
// environment. Returns the child's pid.
pid_t SpawnConvert(const std::string& source, const std::string& store, Config config,
                   const std::vector<std::string>& env = {}, const std::string& log = "");

// `oiv4-kv <args...>` as its own process, like SpawnConvert.
pid_t SpawnCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
               const std::string& log = "");

struct Exit {
  bool exited = false;  // else killed by a signal
  int code = -1;        // exit status, or the signal
  long max_rss_kib = 0;  // the child's peak resident set (wait4's ru_maxrss)
};
Exit Wait(pid_t pid);

// Runs SpawnCli to its end.
Exit RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
            const std::string& log = "");

// The sharded path's commands, in the same settings as SpawnConvert:
// `plan` of `source` into the plan file `plan`, `convert-unit` K of it into
// `out`, `ingest` of the units in `units` into `store`.
std::vector<std::string> PlanArgs(const std::string& source, Config config,
                                  const std::string& plan);
std::vector<std::string> ConvertUnitArgs(const std::string& plan, size_t k,
                                         const std::string& out);
std::vector<std::string> IngestArgs(const std::string& plan, const std::string& units,
                                    const std::string& store);

// The units' temporary folders (.<name>.tmp-<host>-<pid>) in a units folder.
struct TempFolders {
  size_t count = 0;
  uint64_t bytes = 0;  // of their files
  std::string first;   // name of one
};
TempFolders UnitTempFolders(const std::string& out);

// The in-process equivalent of SpawnConvert's command.
ConvertRequest Request(const std::string& source, const std::string& store, Config config);

// How many times each kill point is named in an OIV4KV_KILL_POINTS_LOG file.
std::map<std::string, uint64_t> KillPointCounts(const std::string& log);

// Runs SpawnConvert to its end.
Exit RunConvert(const std::string& source, const std::string& store, Config config,
                const std::vector<std::string>& env = {}, const std::string& log = "");

// Everything a store holds, hashed: every example's record and every image's
// bytes and size in every config, in index order, and each config's report
// (not the manifest's timestamps).
uint64_t StoreDigest(const std::string& path);

// Example by example, `got` against `want` (both complete stores), in
// every config of `want`; `got` may hold more configs when
// `got_may_have_more_configs`.
struct Comparison {
  uint64_t compared = 0;   // examples of `want` looked up in `got`
  uint64_t lost = 0;       // in want, not in got
  uint64_t duplicated = 0; // listed more than once by got's index
  uint64_t extra = 0;      // in got, not in want
  uint64_t differing = 0;  // record or an image differs
  std::string first_problem;
  bool same() const { return lost + duplicated + extra + differing == 0; }
};
Comparison CompareStores(const std::string& want, const std::string& got,
                         bool got_may_have_more_configs = false);

// What `oiv4-kv dump` prints for every split and what `oiv4-kv export`
// writes for every config and split (file names and bytes), hashed.
std::string DumpAndExportDigest(const std::string& store, const std::string& scratch);

// The converter's progress keys of `config`'s run (and the staging folder)
// left in a complete store: "" when none, else the first one found.
std::string LeftoverProgress(const std::string& store, Config config);

}  // namespace oiv4kv::fault
