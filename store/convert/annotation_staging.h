// Stages the rows of the annotation CSVs in a scratch RocksDB, keyed
// [split][image id][file kind][row number], so RocksDB sorts them by image
// whatever the files' order, in bounded memory; then assembles one
// ExampleData per image in key order. Re-staging a file writes the same keys,
// so an interrupted run resumes by staging unfinished files again.
// Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"
#include "oiv4kv/writer.h"

namespace rocksdb {
class DB;
class Env;
class FileSystem;
}

namespace oiv4kv {

// The annotation CSVs of a split, in the order their rows enter an example.
enum class RowFile : uint8_t { kHuman = 0, kMachine = 1, kBoxes = 2 };

class AnnotationStaging {
 public:
  // Opens (or creates) the scratch database at `path`, on `file_system`
  // when given (the conversion's, so that injected faults reach it too).
  static Status Open(const std::string& path, std::unique_ptr<AnnotationStaging>* out,
                     std::shared_ptr<rocksdb::FileSystem> file_system = nullptr);
  ~AnnotationStaging();

  // Rows are staged with labels numbered by one vocabulary: when
  // `signature` (of the vocabularies about to be used) differs from the one
  // the staged rows were numbered by, everything staged is dropped.
  Status UseVocabulary(uint64_t signature);

  // Stages every row of `csv` (a file of kind `file` of `split`) unless it was
  // staged completely before from a file of the same `fingerprint`; rows
  // staged in part, or from a file that has changed, are dropped first (they
  // are keyed by line). `vocab` numbers labels. A malformed row is
  // returned as an error when `skip_bad_rows` is false; else it is recorded
  // as a Problem and left out. An error after which the file cannot be read
  // on (unterminated quote, over-long record) is returned in both modes,
  // naming the lines lost (IsFileEndingError). `on_rows(n)` reports progress.
  Status StageFile(Split split, RowFile file, const std::string& csv,
                   const std::string& fingerprint, const Vocabulary& all, const Vocabulary& boxable, bool skip_bad_rows,
                   const std::function<void(uint64_t rows, uint64_t bytes, uint64_t total)>& on_rows);

  // Calls `fn(example)` for each image of `split` in `image_ids` (ascending)
  // with its rows assembled per docs/SPEC.md (objects = human then machine rows in
  // file order; objects_trainable filtered and re-indexed through
  // `trainable_of_all`; bobjects in file order); images without rows get
  // empty sequences. Counts rows whose image is not in `image_ids`.
  Status Assemble(Split split, const std::vector<uint64_t>& image_ids,
                  const std::vector<int32_t>& trainable_of_all,
                  const std::function<Status(const ExampleData&)>& fn,
                  uint64_t* orphan_rows);

  // The malformed rows left out so far, in file and line order.
  Status Problems(std::vector<Problem>* out);

  // Stage only rows whose image id starts with hex digit `digit` (0-15; -1:
  // every row), for a unit of a sharded conversion (store/convert/unit.h).
  // A row that cannot be read names no image: it is reported (or fails the
  // run) only where `report_bad_rows` is true, and skipped silently elsewhere.
  void SetIdDigitFilter(int digit, bool report_bad_rows) {
    digit_ = digit;
    report_bad_rows_ = report_bad_rows;
  }

 private:
  AnnotationStaging(std::unique_ptr<rocksdb::Env> env, std::unique_ptr<rocksdb::DB> db);
  // Deletes the rows, problems and marks staged from one file.
  Status DropFile(Split split, RowFile file, const std::string& csv);
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (declared first)
  std::unique_ptr<rocksdb::DB> db_;
  int digit_ = -1;
  bool report_bad_rows_ = true;
};

// Whether `s` is StageFile's error for a CSV that cannot be read past a
// line (skipping bad rows cannot help with it).
bool IsFileEndingError(const Status& s);

}  // namespace oiv4kv
