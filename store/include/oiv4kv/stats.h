// Dataset statistics of one split, computed from the store's records: the
// figures the Open Images V4 paper gives (per-class image and box counts,
// boxes per image, the share of each box flag and of each box source, the
// image-level labels), for `oiv4-kv stats`, Python's split.stats() and any
// report that needs per-class counts (sampling).
//
//   oiv4kv::SplitStats stats;
//   OIV4KV_RETURN_IF_ERROR(oiv4kv::ComputeSplitStats(*store, oiv4kv::Split::kTrain, &stats));
//   uint64_t dog_boxes = stats.boxes.boxes[dog_label];
//
// Thread-safe: ComputeSplitStats only reads the store.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

class Store;

// An image-level label counts as positive when its stored confidence
// (int(Confidence * 10), 0..10) is at least this: Confidence >= 0.5.
// Confidence 0 marks a verified negative.
inline constexpr uint8_t kPositiveConfidence = 5;

// The box flags of `bobjects`, in this order everywhere (stats, JSON).
inline constexpr std::array<std::string_view, 5> kBoxFlagNames = {
    "is_occluded", "is_truncated", "is_group_of", "is_depiction", "is_inside"};

// How many boxes carry a flag as 1, 0 and -1 (unknown).
struct FlagCounts {
  uint64_t yes = 0;
  uint64_t no = 0;
  uint64_t unknown = 0;
  uint64_t total() const { return yes + no + unknown; }
};

// Per-class counts over one vocabulary, indexed by label id (size: the
// vocabulary's size).
struct ClassCounts {
  // Examples with at least one box (bobjects) or positive label (objects,
  // objects_trainable) of the class.
  std::vector<uint64_t> images;
  // bobjects: boxes of the class; objects/objects_trainable: positive
  // labels of the class (an image lists a label at most once per source,
  // so this can exceed `images`).
  std::vector<uint64_t> boxes;
  // objects/objects_trainable only: negative labels (confidence below
  // kPositiveConfidence) of the class; empty for bobjects.
  std::vector<uint64_t> negatives;
};

struct SplitStats {
  Split split = Split::kTrain;
  uint64_t examples = 0;

  // bobjects
  uint64_t total_boxes = 0;
  uint64_t images_with_boxes = 0;
  ClassCounts boxes;  // over the boxable vocabulary
  // boxes_per_image[n]: examples with exactly n boxes (size: the largest n
  // seen + 1, so at least 1 for a split with examples; empty without).
  std::vector<uint64_t> boxes_per_image;
  std::array<FlagCounts, kBoxFlagNames.size()> flags{};
  // Boxes per source, indexed like kSourceNames (an id outside it counts in
  // the last slot, "other").
  std::array<uint64_t, kSourceNames.size() + 1> box_sources{};

  // objects (vocabulary kAll) and objects_trainable (kTrainable)
  ClassCounts objects;
  ClassCounts objects_trainable;
  uint64_t positive_labels = 0;  // objects with confidence >= kPositiveConfidence
  uint64_t negative_labels = 0;
  std::array<uint64_t, kSourceNames.size() + 1> label_sources{};  // objects, all
};

// Walks every record of `split` once. InvalidArgument for a split the store
// does not hold; the error of the first record that cannot be read (naming
// it) otherwise. A label outside its vocabulary is Corruption naming the
// example.
OIV4KV_EXPORT Status ComputeSplitStats(const Store& store, Split split, SplitStats* out);

// The label ids of `counts` with a non-zero count, most boxes (positive
// labels) first, then most images, then label id; at most `top` (0: all).
// The order of `oiv4-kv stats` and Python's split.stats().
OIV4KV_EXPORT std::vector<uint32_t> ClassesByCount(const ClassCounts& counts, size_t top);

}  // namespace oiv4kv
