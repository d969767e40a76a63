// ComputeSplitStats (oiv4kv/stats.h): one pass over a split's records.
#include "oiv4kv/stats.h"

#include <algorithm>
#include <span>
#include <string>

#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"

namespace oiv4kv {
namespace {

// Records read per MultiAt.
constexpr uint64_t kChunk = 1024;

void Resize(ClassCounts* c, size_t n, bool with_negatives) {
  c->images.assign(n, 0);
  c->boxes.assign(n, 0);
  c->negatives.assign(with_negatives ? n : 0, 0);
}

Status LabelOutOfRange(const ExampleView& ex, std::string_view group, uint32_t label,
                       size_t vocab_size) {
  return Status::Corruption("example " + ExampleName(ex.split(), ex.image_id()) + ": " +
                            std::string(group) + " label " + std::to_string(label) +
                            " is outside its class list of " + std::to_string(vocab_size));
}

size_t SourceSlot(uint8_t source) { return std::min<size_t>(source, kSourceNames.size()); }

// Counts the image-level labels of one example into `counts`; `seen` is
// scratch (one flag per class) left all false.
Status CountLabels(const ExampleView& ex, std::string_view group, const LabelsView& labels,
                   ClassCounts* counts, std::vector<bool>* seen, SplitStats* totals) {
  const size_t n = counts->images.size();
  if (labels.confidence.size() != labels.size() || labels.source.size() != labels.size()) {
    return Status::Corruption("example " + ExampleName(ex.split(), ex.image_id()) + ": " +
                              std::string(group) + " arrays differ in length");
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const uint32_t label = labels.label[i];
    if (label >= n) return LabelOutOfRange(ex, group, label, n);
    const bool positive = labels.confidence[i] >= kPositiveConfidence;
    if (totals != nullptr) {
      ++(positive ? totals->positive_labels : totals->negative_labels);
      ++totals->label_sources[SourceSlot(labels.source[i])];
    }
    if (!positive) {
      ++counts->negatives[label];
      continue;
    }
    ++counts->boxes[label];
    if (!(*seen)[label]) {
      (*seen)[label] = true;
      ++counts->images[label];
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) (*seen)[labels.label[i]] = false;
  return Status::OK();
}

}  // namespace

Status ComputeSplitStats(const Store& store, Split split, SplitStats* out) {
  if (!store.manifest().num_examples[static_cast<int>(split)].has_value()) {
    return Status::InvalidArgument("store " + store.path() + " holds no " +
                                   std::string(SplitName(split)) + " split");
  }
  SplitStats s;
  s.split = split;
  s.examples = store.NumExamples(split);
  Resize(&s.boxes, store.vocabulary(VocabKind::kBoxable).size(), false);
  Resize(&s.objects, store.vocabulary(VocabKind::kAll).size(), true);
  Resize(&s.objects_trainable, store.vocabulary(VocabKind::kTrainable).size(), true);
  std::vector<bool> seen_boxable(s.boxes.images.size()), seen_all(s.objects.images.size()),
      seen_trainable(s.objects_trainable.images.size());

  std::vector<uint64_t> positions;
  std::vector<ExampleView> views;
  std::vector<Status> statuses;
  for (uint64_t begin = 0; begin < s.examples; begin += kChunk) {
    const uint64_t end = std::min(s.examples, begin + kChunk);
    positions.clear();
    for (uint64_t i = begin; i < end; ++i) positions.push_back(i);
    store.MultiAt(split, positions, &views, &statuses);
    for (size_t k = 0; k < views.size(); ++k) {
      OIV4KV_RETURN_IF_ERROR(statuses[k]);
      const ExampleView& ex = views[k];
      const BoxesView b = ex.bobjects();
      const size_t nb = b.size();
      const std::span<const int8_t> flags[] = {b.is_occluded, b.is_truncated, b.is_group_of,
                                               b.is_depiction, b.is_inside};
      bool lengths_agree = b.source.size() == nb && b.bbox.size() == 4 * nb;
      for (const auto& f : flags) lengths_agree = lengths_agree && f.size() == nb;
      if (!lengths_agree) {
        return Status::Corruption("example " + ExampleName(split, ex.image_id()) +
                                  ": bobjects arrays differ in length");
      }
      if (s.boxes_per_image.size() <= nb) s.boxes_per_image.resize(nb + 1, 0);
      ++s.boxes_per_image[nb];
      s.total_boxes += nb;
      if (nb > 0) ++s.images_with_boxes;
      for (size_t i = 0; i < nb; ++i) {
        const uint32_t label = b.label[i];
        if (label >= s.boxes.images.size()) {
          return LabelOutOfRange(ex, "bobjects", label, s.boxes.images.size());
        }
        ++s.boxes.boxes[label];
        if (!seen_boxable[label]) {
          seen_boxable[label] = true;
          ++s.boxes.images[label];
        }
        ++s.box_sources[SourceSlot(b.source[i])];
        for (size_t f = 0; f < kBoxFlagNames.size(); ++f) {
          const int8_t v = flags[f][i];
          ++(v > 0 ? s.flags[f].yes : v == 0 ? s.flags[f].no : s.flags[f].unknown);
        }
      }
      for (size_t i = 0; i < nb; ++i) seen_boxable[b.label[i]] = false;
      OIV4KV_RETURN_IF_ERROR(
          CountLabels(ex, "objects", ex.objects(), &s.objects, &seen_all, &s));
      OIV4KV_RETURN_IF_ERROR(CountLabels(ex, "objects_trainable", ex.objects_trainable(),
                                         &s.objects_trainable, &seen_trainable, nullptr));
    }
  }
  *out = std::move(s);
  return Status::OK();
}

std::vector<uint32_t> ClassesByCount(const ClassCounts& counts, size_t top) {
  std::vector<uint32_t> labels;
  for (uint32_t i = 0; i < counts.images.size(); ++i) {
    if (counts.boxes[i] > 0 || counts.images[i] > 0) labels.push_back(i);
  }
  std::sort(labels.begin(), labels.end(), [&](uint32_t a, uint32_t b) {
    if (counts.boxes[a] != counts.boxes[b]) return counts.boxes[a] > counts.boxes[b];
    if (counts.images[a] != counts.images[b]) return counts.images[a] > counts.images[b];
    return a < b;
  });
  if (top > 0 && labels.size() > top) labels.resize(top);
  return labels;
}

}  // namespace oiv4kv
