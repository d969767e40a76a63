// VerifyStore: checks that a store is intact, from its files' bytes to its
// records' meaning, and lists every problem it finds. `oiv4-kv verify` runs
// it.
//
// What it checks, in order:
//  1. Files. Every table file's block checksums (the table files the
//     MANIFEST lists, one at a time, as rocksdb::DB::VerifyChecksum does);
//     every record checksum of the MANIFEST and write-ahead logs (RocksDB's
//     own recovery stops quietly at a damaged log record); CURRENT names an
//     existing MANIFEST; OPTIONS files are text RocksDB parses, with the
//     store's column families and end with a newline, the newest younger
//     than the current MANIFEST; IDENTITY is there and a UUID. The store is then opened
//     read-only.
//  2. The manifest and the vocabularies (meta and vocab families) decode.
//  3. Every annotation record through the FlatBuffers verifier, then its
//     values: labels within their vocabulary, objects_trainable equal to the
//     objects whose class is trainable, confidences 0..10, sources within
//     kSourceNames, boxes in [0, 1] with min <= max, flags in {-1, 0, 1},
//     the filename <id>.jpg.
//  4. The manifest's example counts and each split's index in the meta
//     family against the annotation keys, exactly.
//  5. An image for every example in every complete config and no image
//     without an example; each image value parses and its format is what its
//     bytes start with; the manifest's image counts against the keys.
//  6. With `deep`, decodes every image and compares its size with the stored
//     width and height.
//
// (store/verify/README.md names the file of each phase.)
//
// Not checked: LOG and LOCK files (RocksDB's info log and lock, no data),
// and the pixels themselves (only that they decode, with `deep`).
//
// Thread safety: VerifyStore may run concurrently with readers of the same
// store (it opens it read-only); `progress` is called from the calling
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

struct VerifyOptions {
  // Also decode every image of every complete config (step 6). A truncated
  // image decodes with a warning (TruncatedPolicy::kWarn, as OpenCV does),
  // which is counted, not a problem. Default: false.
  bool deep = false;

  // Problems kept in VerifyReport::problems; the rest are only counted.
  // Default: 1000.
  size_t max_problems = 1000;

  // Threads that decode images with `deep` (0: one per core). Default: 0.
  int threads = 0;
};

struct VerifyReport {
  // The first max_problems problems found, each naming the file or the key
  // ("images.300k train/0011d545a9314517") and the reason.
  std::vector<Problem> problems;
  uint64_t num_problems = 0;  // all problems found
  // Facts that do not make a store bad: configs still being converted, files
  // RocksDB no longer uses.
  std::vector<std::string> notes;

  uint64_t files = 0;    // files whose bytes were checked
  uint64_t records = 0;  // annotation records checked
  // Images checked per config; nullopt for configs not complete.
  std::array<std::optional<uint64_t>, kNumConfigs> images;
  bool deep = false;
  uint64_t decoded = 0;          // images decoded (deep)
  uint64_t decode_warnings = 0;  // of which decoded with a warning

  bool ok() const { return num_problems == 0; }
};

// Where a verification stands, for a progress display. Each phase sends
// kStart, then kUpdate every 256 items and whenever it moves to another
// file, then kFinish with its final counts.
struct VerifyProgress {
  enum class Event { kStart, kUpdate, kFinish };
  Event event = Event::kStart;
  std::string phase;         // "files", "annotations", "images.300k", ...
  std::string unit;          // "files", "records", "images"
  uint64_t items = 0;        // done so far in this phase
  uint64_t bytes = 0;        // of total_bytes read so far
  uint64_t total_bytes = 0;  // the phase's size on disk (0 if unknown)
  std::string where;         // the current file (files phase), else empty
};
using VerifyProgressFn = std::function<void(const VerifyProgress&)>;

// Verifies the store at `path`, filling `report`. Returns InvalidArgument if
// there is no store at `path` (no RocksDB CURRENT file), else OK: whatever is
// wrong with the store, a store that cannot be opened included, is a problem
// in the report. `progress` may be empty.
Status VerifyStore(const std::string& path, const VerifyOptions& options,
                   const VerifyProgressFn& progress, VerifyReport* report);

}  // namespace oiv4kv
