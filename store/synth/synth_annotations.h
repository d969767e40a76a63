// Annotation rows of synthetic downloads: chosen as numbers first (class,
// source, decimal mantissa and digit count of each value), then written as
// CSV text, while the expected TFDS features of each image are built from
// the same numbers in file order. Statistics follow the real train split:
// ~16 human-verified and ~45 machine-generated labels and ~8.4 boxes per
// image, with heavy-tailed counts and Zipf-like class popularity.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"
#include "store/synth/synth_vocab.h"

namespace oiv4kv::synth {

// A decimal value written as text: mantissa / 10^decimals, with exactly
// `decimals` digits after the point when `fixed`, else trailing zeros (and
// a bare point) dropped: {29, 2} -> "0.29", {70, 2} -> "0.7", {1, 0} -> "1".
struct Decimal {
  uint32_t mantissa = 0;
  uint8_t decimals = 0;
  bool fixed = false;

  double Value() const;
  void AppendText(std::string* out) const;
};

struct LabelRow {
  uint64_t image_id;
  uint32_t cls;    // class number (SynthClasses)
  uint8_t source;  // index in kSourceNames
  Decimal confidence;
};

struct BoxRow {
  uint64_t image_id;
  uint32_t cls;
  uint8_t source;
  Decimal coord[4];  // XMin, XMax, YMin, YMax (the CSV's column order)
  int8_t flags[5];   // IsOccluded, IsTruncated, IsGroupOf, IsDepiction, IsInside
};

// The rows of one split's three CSVs, in file order.
struct SplitRows {
  std::vector<LabelRow> human, machine;
  std::vector<BoxRow> boxes;
};

class AnnotationGenerator {
 public:
  explicit AnnotationGenerator(uint64_t seed);

  // Appends the rows of one image (human, machine and box rows).
  void AddImage(uint64_t image_id, SplitRows* rows);

 private:
  uint32_t Trainable();
  uint32_t AnyClass();
  uint32_t Boxable();
  int NegativeBinomial(double mean, double shape, int cap);
  Decimal Coordinate(double v, uint8_t decimals, bool fixed);

  const SynthClasses& classes_;
  std::mt19937_64 rng_;
  std::discrete_distribution<uint32_t> trainable_, all_, boxable_;
};

// The class lists a store numbers labels by: the download's or TFDS's
// (SynthClasses); the `all` list is in the same order in both.
enum class ClassLists { kDownload, kTfds };

// Appends `row` to `example` as a store holds it: `objects`, and
// `objects_trainable` when the class is trainable, with the label numbered
// in `lists` and the confidence as tenths (0..10).
void AppendLabelRow(const LabelRow& row, ClassLists lists, ExampleData* example);
// Appends `row` to `example.bobjects` (bbox as YMin, XMin, YMax, XMax).
void AppendBoxRow(const BoxRow& row, ClassLists lists, ExampleData* example);

using ExampleMap = std::map<std::pair<Split, uint64_t>, ExampleData>;

// Writes `{split}-annotations-{human,machine}-imagelabels.csv` and
// `{split}-annotations-bbox.csv` into `dir` from `rows`, in their order, and
// appends every row whose image has an entry in `download` / `tfds` to that
// entry (objects: human rows then machine rows; bobjects: box rows).
// Counts the other rows in `*orphans`.
Status WriteSplitCsvs(const std::string& dir, Split split, const SplitRows& rows,
                      ExampleMap* download, ExampleMap* tfds, uint64_t* orphans);

}  // namespace oiv4kv::synth
