// One unit of a sharded conversion (`oiv4-kv convert-unit`): the unit's
// archives and annotation rows converted by the same code as `convert` (into
// a scratch store in a temporary folder), then written as sorted table files
// per column family (rocksdb::SstFileWriter, the store's table options) with
// a unit manifest, written last, and the folder renamed into place:
// <out>/<unit name>/ exists only when the unit is complete. A finished unit
// is left alone; a unit killed at any moment leaves only a temporary folder
// (<out>/.<name>.tmp-<host>-<pid>, ignored) and is redone; the rerun removes
// the temporary folders of this host's dead runs of the unit. A unit that fails
// leaves <out>/<name>.failed saying why. Writes nothing outside `out`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "store/convert/plan.h"
#include "store/convert/progress.h"

namespace oiv4kv {

inline constexpr std::string_view kUnitFormat = "oiv4kv-unit";
inline constexpr int kUnitVersion = 1;

struct UnitFile {
  std::string family;  // "annotations", "images.original" ...
  std::string file;    // relative to the unit's folder
  uint64_t entries = 0;
};

// The unit manifest (<out>/<name>/unit.json).
struct UnitManifest {
  std::string plan_id;
  size_t unit = 0;
  std::string name;
  uint64_t images = 0, examples = 0, orphan_rows = 0;
  std::vector<Problem> annotation_problems;  // file and line order
  std::vector<Problem> image_problems;       // byte order of `where`
  std::vector<UnitFile> files;
  std::string digest;  // FNV-1a of every family, key and value, in order
};

struct UnitSummary {
  bool already_done = false;
  UnitManifest manifest;
};

// <out>/<unit name>.
std::string UnitFolder(const std::string& out, const Plan& plan, size_t k);
// <out>/<unit name>.failed.
std::string UnitFailedFile(const std::string& out, const Plan& plan, size_t k);

// Converts unit `k` of `plan` into `out` with `threads` transcoders (0: all
// cores). `meter` may be null.
Status ConvertUnit(const Plan& plan, size_t k, const std::string& out, uint32_t threads,
                   ProgressMeter* meter, UnitSummary* summary);

// Reads <folder>/unit.json.
Status ReadUnitManifest(const std::string& folder, UnitManifest* manifest);

}  // namespace oiv4kv
