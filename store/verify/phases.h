// The phases of VerifyStore (verify.h lists what each checks) and what they
// share: the Check (options, report, progress, the open store) and the facts
// one phase hands to the next. Private to store/verify.
//
// verify.cc runs them in this order, each on the findings of those before:
//   CheckFiles, Check::Open, CheckLiveFiles   files.cc
//   ReadManifest, ReadVocabularies            meta.cc
//   CheckAnnotations                          annotations.cc
//   CheckIndexes                              indexes.cc
//   CheckLabelIndex                           label_index.cc
//   CheckImages for each config               images.cc (with DeepDecoder,
//                                             deep.cc, when `deep`)
//
// Not thread-safe: one thread runs the phases (DeepDecoder decodes on its own
// threads and reports from the calling one).
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/decode.h"
#include "store/core/format/layout.h"
#include "store/verify/verify.h"

namespace oiv4kv::verify {

// One run of VerifyStore: what every phase reads and adds to.
struct Check {
  Check(std::string path, const VerifyOptions& options, const VerifyProgressFn& progress,
        VerifyReport* report);

  // Counts a problem in the report; keeps it while fewer than
  // options.max_problems are kept.
  void AddProblem(std::string where, std::string reason);

  // Opens the store read-only into `db`. False, with a problem, if RocksDB
  // cannot.
  bool Open();

  // The value of `key` in `f`: OK, NotFound, or an error whose message is
  // RocksDB's. REQUIRES: Open() succeeded.
  Status Get(Family f, std::string_view key, std::string* value) const;

  // An iterator over `f` that verifies block checksums and leaves the block
  // cache alone. REQUIRES: Open() succeeded.
  std::unique_ptr<rocksdb::Iterator> NewIterator(Family f) const;

  // `f`'s size on disk, for a phase's progress. REQUIRES: Open() succeeded.
  uint64_t FamilyBytes(Family f) const;

  const std::string path;
  const VerifyOptions options;
  const VerifyProgressFn& progress;
  VerifyReport* const report;
  OpenDb db;  // set by Open()
};

// Sends one phase's progress: kStart when made, kUpdate every 256 items and
// whenever `where` is given, kFinish when destroyed.
class PhaseProgress {
 public:
  PhaseProgress(const VerifyProgressFn& fn, std::string phase, std::string unit,
                uint64_t total_bytes);
  ~PhaseProgress();
  PhaseProgress(const PhaseProgress&) = delete;
  PhaseProgress& operator=(const PhaseProgress&) = delete;

  void Update(uint64_t items, uint64_t bytes, std::string_view where = {});

 private:
  static constexpr uint64_t kEvery = 256;
  const VerifyProgressFn& fn_;
  VerifyProgress p_;
};

// Reads every entry of `f` in key order (Check::NewIterator). Counts each entry
// in *entries, sends `progress` an update for it, and passes each [split][image
// id] key to `fn` with its value; any other key is a problem "<family> key
// <hex>". Returns the iterator's final status (not OK: the scan stopped early).
// REQUIRES: check->Open() succeeded.
rocksdb::Status ForEachEntry(Check* check, Family f, PhaseProgress* progress, uint64_t* entries,
                             const std::function<void(Split, uint64_t, std::string_view)>& fn);

// "images.300k train/0011d545a9314517": how problems name an image.
std::string ImageName(Config config, Split split, uint64_t id);

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// ---- Files (files.cc)

// Checks the bytes of every file in the store's directory (table files'
// block checksums, log records, CURRENT, OPTIONS, IDENTITY) and notes what is
// not a file of the store. Returns the names of the table files there.
std::set<std::string> CheckFiles(Check* check);

// The table files the MANIFEST lists against `sst_files`, those in the
// directory: a listed file missing or of another size is a problem, an
// unlisted one a note. REQUIRES: check->Open() succeeded.
void CheckLiveFiles(Check* check, const std::set<std::string>& sst_files);

// ---- Manifest and vocabularies (meta.cc)

// Reads the manifest into *manifest (empty if it is missing or damaged: a
// problem). False when the rest cannot be read with this library (another
// schema version).
bool ReadManifest(Check* check, Manifest* manifest);

struct Vocabularies {
  // Entries per kind; nullopt if the list is missing or damaged.
  std::array<std::optional<size_t>, kNumVocabKinds> size;
  // For each label of the `all` list, its label in the trainable list or -1;
  // empty unless both lists were read.
  std::vector<int32_t> trainable_of_all;
};
Vocabularies ReadVocabularies(Check* check);

// ---- Annotation records (annotations.cc)

struct AnnotationKeys {
  std::array<std::vector<uint64_t>, kNumSplits> ids;  // per split, ascending
  // False if a read error stopped the scan: `ids` may lack keys, so nothing
  // is compared with them.
  bool complete = true;
};

// Runs every annotation record through the FlatBuffers verifier, then
// checks its values against `vocab`. Returns the keys found.
AnnotationKeys CheckAnnotations(Check* check, const Vocabularies& vocab);

// ---- Counts and split indexes (indexes.cc)

// Each split's example count in the manifest and its index in the meta
// family against the annotation keys, exactly.
void CheckIndexes(Check* check, const Manifest& manifest, const AnnotationKeys& keys);

// ---- Label index (label_index.cc)

// Each split's label index against one rebuilt from its records; a missing
// index is a note (`oiv4-kv index` builds it).
void CheckLabelIndex(Check* check, const Manifest& manifest, const AnnotationKeys& keys,
                     const Vocabularies& vocab);

// ---- Images (images.cc, deep.cc)

class DeepDecoder;

// An image for every example of a complete config and no image without an
// example; each value parses, and its format is what its bytes start with.
// `deep` (may be null) decodes each image that passes.
void CheckImages(Check* check, Config config, const Manifest& manifest, const AnnotationKeys& keys,
                 DeepDecoder* deep);

// Decodes images on a pool of threads, in batches, and compares each one's
// size with the stored one: a problem when it does not decode or decodes to
// another size; a truncated image decodes with a warning (counted).
class DeepDecoder {
 public:
  // threads: 0 for one per core.
  DeepDecoder(Check* check, int threads);
  ~DeepDecoder();

  // Copies `image` for decoding; decodes the batch once it is large enough.
  void Add(Config config, Split split, uint64_t id, std::span<const uint8_t> image, uint32_t width,
           uint32_t height);
  // Decodes what is left and reports it.
  void Flush();

 private:
  struct Job;
  Check* const check_;
  std::vector<std::unique_ptr<Decoder>> decoders_;  // one per thread
  std::vector<Job> jobs_;
  size_t job_bytes_ = 0;
};

}  // namespace oiv4kv::verify
