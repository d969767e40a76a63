// oiv4-kv convert: the official Open Images V4 download -> a store, for one
// config per run or several in one pass (each archive read once, each image
// decoded once). Streaming and bounded in memory; images are probed or
// transcoded on a thread pool while the next chunk of the archive is read;
// every batch of images is written atomically with the progress it makes, so
// a run killed at any moment resumes where it stopped and ends with the same
// store as an uninterrupted run.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "store/convert/progress.h"

namespace rocksdb {
class FileSystem;
}

namespace oiv4kv {

struct ConvertRequest {
  std::string source;            // the download, searched recursively
  std::string store;             // created if missing
  Config config = Config::kOriginal;
  // Several configs in one pass (`convert --config 300k,200k,original`):
  // each archive is read once and each image decoded once for all of them;
  // they are committed in this order, as separate runs in this order would
  // be (the same store). Empty: {config}. A complete one is skipped.
  std::vector<Config> configs;
  std::vector<Split> splits = {Split::kTrain, Split::kValidation, Split::kTest};
  uint32_t threads = 0;          // 0: all cores
  // Archives converted at once (each read by its own thread, gzip being
  // single-threaded), sharing `threads` transcoders. 0: one per 4 threads.
  uint32_t archive_readers = 0;
  bool skip_bad_inputs = false;  // --on-error skip (else fail)
  std::string label_lists;       // TFDS's class lists folder, or empty
  // A header claiming more pixels is rejected before any allocation. Open
  // Images' largest hosted image is 1024 px on its longest side.
  uint64_t max_pixels = 100'000'000;
  uint64_t max_member_bytes = 256ull << 20;
  // Images read ahead of the transcoders (one chunk; a second is read while
  // it is transcoded) and committed as one batch with its progress.
  uint32_t chunk_images = 64;
  // --restart: discard an unfinished conversion of `config` (its progress,
  // its images, and while the annotations are not committed, the staged
  // rows and examples) and start it over. A complete config is refused.
  bool restart = false;
  // The conversion stops with "No space left on device" when the store's
  // disk has less free space than this, checked before it starts and before
  // every batch it writes.
  uint64_t min_free_bytes = 256ull << 20;
  // One unit of a sharded conversion (store/convert/unit.h): only the
  // archives with these stems (empty: all), and only annotation rows whose
  // image id starts with hex digit `annotation_digit` (-1: all), bad rows
  // being reported only where `report_bad_rows`.
  std::vector<std::string> archive_stems;
  int annotation_digit = -1;
  bool report_bad_rows = true;
  // Tests only: the store's files go through this file system (a
  // FaultInjectingFileSystem, store/convert/fault_injection.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// What a run did for one of its configs.
struct ConfigSummary {
  Config config = Config::kOriginal;
  std::array<uint64_t, kNumSplits> images{};  // stored by this run
  ConversionReport report;
  bool already_complete = false;  // complete before this run: skipped
};

struct ConvertSummary {
  // The first config asked for (the only one of a one-config run).
  std::array<uint64_t, kNumSplits> images{};  // stored in this run's config
  ConversionReport report;
  bool annotations_written = false;  // false when an earlier run had done it
  bool already_complete = false;     // every config was complete: nothing done
  std::vector<ConfigSummary> configs;  // every config asked for, in order
  bool refused = false;  // failed before writing anything; the message says what to do
  // The error is one --on-error skip does not leave out (skip was given, or
  // a class list or a CSV that cannot be read on stopped the run).
  bool skip_cannot_help = false;
};

Status Convert(const ConvertRequest& request, ProgressMeter* meter, ConvertSummary* summary);

// The configs `request` asks for: `configs` without repeats, or {config}.
std::vector<Config> RequestedConfigs(const ConvertRequest& request);

// Whether `s` says the disk is full (RocksDB's NoSpace, ENOSPC, or the
// converter's own free-space check).
bool IsNoSpace(const Status& s);

// What the user should do after Convert failed with `s`: one line, or empty
// when the message says it already.
std::string ConvertFailureAdvice(const Status& s, const ConvertSummary& summary);

// Fails with "No space left on device: <path> ..." when the disk holding
// `path` (or the nearest folder above it that exists) has less than
// `min_free_bytes` available.
Status CheckFreeSpace(const std::string& path, uint64_t min_free_bytes);

}  // namespace oiv4kv
