// The label index: for each split, the sorted example indices (positions in
// the split's id list) that carry each label, written when the annotations
// are committed (Writer::CommitAnnotations) or by `oiv4-kv index STORE` for a
// store converted before it existed. Queries (oiv4kv/query.h) run on it.
//
// Where it lives: meta family keys "labels/<split>/boxable" and
// "labels/<split>/all" (LabelIndexKey), not a column family of its own. A
// read-only RocksDB open must name every column family a store has and can
// create none, so a new family would make every store converted before it
// fail to open at all, instead of opening and saying "run `oiv4-kv index`".
// The index is small (a few bytes per labelled example), so the meta
// family's zstd blocks suit it; a reader pins the value's block
// (PinnableSlice) and decodes postings straight from it, without a copy.
//
// Two lists per split, not three: `objects_trainable` is, by the format's
// definition (SPEC.md, checked by `oiv4-kv verify`), the `objects` entries
// whose class is trainable with the same confidence, so a trainable label's
// postings are those of its class in the `all` list (mapped by MID): storing
// them again would add about half the `all` list's bytes for nothing.
//
// Value format (version 2), integers LEB128 varints unless said, bits
// packed least significant first:
//   byte 'L', byte version (2), byte kind (0 boxes, 1 image-level)
//   N = num_examples, num_labels
//   for each label: its entry count n, then its region's byte length if n is
//   not 0 (most classes are absent from a split: one byte each)
//   then each label's region, label after label. An entry is one example
//   that carries the label, indices ascending. A region is Elias-Fano:
//     lows:  n * L bits, L = floor(log2(N / n)) (0 when n >= N): the low L
//            bits of entry i's index at bit i * L
//     highs: n + ((N - 1) >> L) + 1 bits: bit (index >> L) + i set for entry i
//     then its values:
//       boxes:       nothing if every count (boxes of the label in the
//                    example) is 1; else n bits, bit i set where entry i's
//                    count is over 1, then varint(count - 2) for each of those
//       image-level: 4 bits an entry, confidence - 1, where confidence = the
//                    largest int(Confidence * 10) of the label's rows in the
//                    example, 1..10. Rows of confidence 0 (verified
//                    negatives) are left out: no positive threshold selects them.
// The region's size follows from n and N (plus the counts' varints), which
// Parse checks; a reader walks the high bits' set bits of the pinned value
// and reads each low part where it lies: no copy, no decompression. Why
// Elias-Fano and not version 1's varint gaps, and what the index weighs
// against the annotations family: store/core/README.md, "Label index size".
// Version 1 (varint gaps) is refused with NotSupported, which the store
// reports as "run `oiv4-kv index STORE`": rebuilding takes one read of the
// records, and a second decoder would be code no new store exercises.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"
#include "schema/example_generated.h"

namespace oiv4kv {

// The two indexed lists.
enum class LabelList : uint8_t { kBoxes = 0, kImageLevel = 1 };
inline constexpr int kNumLabelLists = 2;
inline constexpr std::array<LabelList, kNumLabelLists> kAllLabelLists = {LabelList::kBoxes,
                                                                          LabelList::kImageLevel};
// The vocabulary a list's labels index: boxable, all.
VocabKind LabelListVocab(LabelList list);

// "labels/train/boxable", "labels/validation/all".
std::string LabelIndexKey(Split split, LabelList list);

// Builds the two lists of one split from its records, in index order.
class LabelIndexBuilder {
 public:
  LabelIndexBuilder(size_t num_boxable, size_t num_all);

  // Adds the record of example `index`. REQUIRES: indices 0, 1, 2... in order.
  // Corruption if a label is outside its vocabulary or a confidence outside
  // 0..10.
  Status Add(uint64_t index, const fb::Example& example);

  // The encoded value of `list`.
  std::string Finish(LabelList list) const;

 private:
  struct Postings {
    std::string bytes;
    uint64_t entries = 0;
    int64_t last = -1;
  };
  void Append(Postings* p, uint64_t index, uint64_t value);
  // One class's Elias-Fano region (the format above) from its staged entries.
  std::string EncodeRegion(const Postings& p, LabelList list) const;

  uint64_t num_examples_ = 0;
  std::vector<Postings> boxes_, labels_;
  // Per-example scratch: count / best confidence per label, and the labels touched.
  std::vector<uint32_t> box_count_;
  std::vector<uint8_t> confidence_;
  std::vector<uint16_t> touched_;
};

// Reads every record of `split` (ids, ascending, the split's id list) from
// the annotations `family` of `db` and builds its lists into values[list].
// `progress(done)` is called every 4096 records when set.
Status BuildLabelIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, Split split,
                       std::span<const uint64_t> ids, size_t num_boxable, size_t num_all,
                       const std::function<void(uint64_t)>& progress,
                       std::array<std::string, kNumLabelLists>* values);

// A decoded directory over one encoded list; the bytes must outlive it.
class LabelPostings {
 public:
  // Corruption if `value` is not a well-formed list of `list`'s kind.
  static Status Parse(std::string_view value, LabelList list, LabelPostings* out);

  LabelList list() const { return list_; }
  uint64_t num_examples() const { return num_examples_; }
  size_t num_labels() const { return offsets_.size() - 1; }
  uint64_t entries(size_t label) const { return counts_[label]; }

  // Appends to *indices (ascending) the examples whose value for `label` is
  // at least `min_value` (box count, or confidence 1..10). REQUIRES: label <
  // num_labels(). Corruption if the bytes are damaged.
  Status Decode(size_t label, uint32_t min_value, std::vector<uint64_t>* indices) const;
  // Calls fn(index, value) for each entry of `label`.
  Status ForEach(size_t label, const std::function<void(uint64_t, uint32_t)>& fn) const;

 private:
  LabelList list_ = LabelList::kBoxes;
  uint64_t num_examples_ = 0;
  std::string_view data_;
  std::vector<uint64_t> offsets_;  // num_labels + 1 byte offsets into data_
  std::vector<uint64_t> counts_;
};

}  // namespace oiv4kv
