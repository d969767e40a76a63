// Typed readers of the download's annotation CSVs (docs/SPEC.md, "Source files"):
// LabelCsv for {split}-annotations-{human,machine}-imagelabels.csv, BoxCsv
// for {split}-annotations-bbox.csv. They check the header on Open and every
// row on Next, and turn each row into the values TFDS stores.
//
// A malformed row returns Corruption "path:line: reason" and the reader stays
// usable: the next call reads the following row, so a caller may count and
// skip bad rows. Blank lines are skipped. Errors of the file itself (I/O, an
// unterminated quote) repeat on every later call.
//
// Not thread-safe. REQUIRES: the Vocabulary outlives the reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"
#include "store/convert/csv_reader.h"

namespace oiv4kv {

// One row of an image-labels CSV.
struct LabelRow {
  uint64_t image_id = 0;
  uint16_t label = 0;       // index in the `all` vocabulary
  uint8_t confidence = 0;   // int(float(Confidence) * 10), 0..10
  uint8_t source = 0;       // index in kSourceNames
};

// One row of a bbox CSV.
struct BoxRow {
  uint64_t image_id = 0;
  uint16_t label = 0;  // index in the `boxable` vocabulary
  uint8_t source = 0;  // index in kSourceNames
  float bbox[4] = {};  // ymin, xmin, ymax, xmax
  int8_t is_occluded = 0, is_truncated = 0, is_group_of = 0, is_depiction = 0,
         is_inside = 0;  // 1, 0 or -1 (unknown)
};

// The column names each file must start with, in order.
inline constexpr std::string_view kLabelCsvColumns[] = {"ImageID", "Source", "LabelName",
                                                       "Confidence"};
inline constexpr std::string_view kBoxCsvColumns[] = {
    "ImageID", "Source",     "LabelName",  "Confidence", "XMin",        "XMax",    "YMin",
    "YMax",    "IsOccluded", "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside"};

class LabelCsv {
 public:
  // Opens `path` and checks its header. `all`: the vocabulary that numbers
  // LabelName (at most 65,536 entries).
  static Status Open(const std::string& path, const Vocabulary* all,
                     std::unique_ptr<LabelCsv>* out,
                     const CsvReaderOptions& options = CsvReaderOptions());

  // Reads the next valid row into *row, or sets *eof at the end. On error
  // *row is unspecified.
  Status Next(LabelRow* row, bool* eof);

  uint64_t line() const { return csv_->line(); }
  uint64_t bytes_read() const { return csv_->bytes_read(); }
  uint64_t file_size() const { return csv_->file_size(); }
  const std::string& path() const { return csv_->path(); }

 private:
  LabelCsv(std::unique_ptr<CsvReader> csv, const Vocabulary* all)
      : csv_(std::move(csv)), all_(all) {}
  std::unique_ptr<CsvReader> csv_;
  const Vocabulary* all_;
  std::vector<std::string_view> fields_;
};

class BoxCsv {
 public:
  // Opens `path` and checks its header. `boxable`: the vocabulary that
  // numbers LabelName (at most 65,536 entries).
  static Status Open(const std::string& path, const Vocabulary* boxable,
                     std::unique_ptr<BoxCsv>* out,
                     const CsvReaderOptions& options = CsvReaderOptions());

  // Reads the next valid row into *row, or sets *eof at the end. On error
  // *row is unspecified. The Confidence column must be a number and is
  // dropped.
  Status Next(BoxRow* row, bool* eof);

  uint64_t line() const { return csv_->line(); }
  uint64_t bytes_read() const { return csv_->bytes_read(); }
  uint64_t file_size() const { return csv_->file_size(); }
  const std::string& path() const { return csv_->path(); }

 private:
  BoxCsv(std::unique_ptr<CsvReader> csv, const Vocabulary* boxable)
      : csv_(std::move(csv)), boxable_(boxable) {}
  std::unique_ptr<CsvReader> csv_;
  const Vocabulary* boxable_;
  std::vector<std::string_view> fields_;
};

// Field parsers, exposed for tests and other readers. Each returns false
// (leaving *out unspecified) if the text is not exactly such a value.
// 16 hex digits, either case: ParseImageIdHex of oiv4kv/image_id.h.
bool ParseImageId(std::string_view text, uint64_t* out);
// A decimal number as Python's float() reads the download's values
// (std::from_chars, general format; no spaces, no '+').
bool ParseDouble(std::string_view text, double* out);
// -1, 0 or 1.
bool ParseFlag(std::string_view text, int8_t* out);

}  // namespace oiv4kv
