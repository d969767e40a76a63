// Split.stats(): ComputeSplitStats (oiv4kv/stats.h) as a dict shaped like one
// split of `oiv4-kv stats --json` ("splits"/<name>), and oiv4kv.POSITIVE_CONFIDENCE.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>  // count_if
#include <numeric>
#include <string>
#include <vector>

#include "oiv4kv/stats.h"
#include "oiv4kv/store.h"
#include "python/src/arrays.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The classes in ClassesByCount's order (the CLI's), at most `top` (0: all).
py::list TopClasses(const ClassCounts& counts, const Vocabulary& vocab, size_t top) {
  py::list out;
  for (uint32_t label : ClassesByCount(counts, top)) {
    py::dict c;
    c["label"] = label;
    c["mid"] = Utf8Str(vocab.mid(label));
    c["name"] = Utf8Str(vocab.display_name(label));
    c["images"] = counts.images[label];
    if (counts.negatives.empty()) {
      c["boxes"] = counts.boxes[label];
    } else {
      c["positives"] = counts.boxes[label];
      c["negatives"] = counts.negatives[label];
    }
    out.append(std::move(c));
  }
  return out;
}

py::dict Classes(const ClassCounts& counts, const Vocabulary& vocab, const char* with_key,
                 size_t top) {
  py::dict d;
  d["size"] = counts.images.size();
  d[with_key] = std::count_if(counts.images.begin(), counts.images.end(),
                              [](uint64_t n) { return n > 0; });
  d["top"] = TopClasses(counts, vocab, top);
  return d;
}

py::dict Sources(const std::array<uint64_t, kSourceNames.size() + 1>& counts) {
  py::dict d;
  const uint64_t total = std::accumulate(counts.begin(), counts.end(), uint64_t{0});
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i == kSourceNames.size() && counts[i] == 0) continue;  // "other" only when seen
    const std::string name = i < kSourceNames.size() ? std::string(kSourceNames[i]) : "other";
    py::dict entry;
    entry["count"] = counts[i];
    entry["share"] = Share(counts[i], total);
    d[py::str(name)] = std::move(entry);
  }
  return d;
}

py::dict Describe(const Store& store, const SplitStats& s, size_t top) {
  py::dict j;
  j["examples"] = s.examples;
  j["boxes"] = s.total_boxes;
  j["images_with_boxes"] = s.images_with_boxes;
  py::dict per_image;
  per_image["mean"] = Share(s.total_boxes, s.examples);
  per_image["mean_of_images_with_boxes"] = Share(s.total_boxes, s.images_with_boxes);
  per_image["max"] = s.boxes_per_image.empty() ? 0 : s.boxes_per_image.size() - 1;
  per_image["histogram"] = py::cast(s.boxes_per_image);
  j["boxes_per_image"] = std::move(per_image);
  py::dict flags;
  for (size_t f = 0; f < kBoxFlagNames.size(); ++f) {
    const FlagCounts& c = s.flags[f];
    py::dict flag;
    flag["yes"] = c.yes;
    flag["no"] = c.no;
    flag["unknown"] = c.unknown;
    flag["share"] = Share(c.yes, c.total());
    flags[py::str(std::string(kBoxFlagNames[f]))] = std::move(flag);
  }
  j["flags"] = std::move(flags);
  j["box_sources"] = Sources(s.box_sources);
  py::dict labels;
  labels["positive"] = s.positive_labels;
  labels["negative"] = s.negative_labels;
  labels["sources"] = Sources(s.label_sources);
  j["image_labels"] = std::move(labels);
  py::dict classes;
  classes["boxable"] =
      Classes(s.boxes, store.vocabulary(VocabKind::kBoxable), "with_boxes", top);
  classes["all"] = Classes(s.objects, store.vocabulary(VocabKind::kAll), "with_positives", top);
  classes["trainable"] = Classes(s.objects_trainable, store.vocabulary(VocabKind::kTrainable),
                                 "with_positives", top);
  j["classes"] = std::move(classes);
  return j;
}

}  // namespace

void BindStats(py::module_& m) {
  m.attr("POSITIVE_CONFIDENCE") = kPositiveConfidence;
  auto split_class = py::reinterpret_borrow<py::class_<SplitRef>>(m.attr("Split"));
  split_class.def(
      "stats",
      [](const SplitRef& split, size_t top) {
        std::shared_ptr<const Store> store = split.handle->Get();
        SplitStats stats;
        Status status;
        {
          py::gil_scoped_release release;
          status = ComputeSplitStats(*store, split.split, &stats);
        }
        ThrowIfError(status);
        return Describe(*store, stats, top);
      },
      py::arg("top") = 0, R"doc(
The split's dataset figures, computed from every record without the GIL
(ComputeSplitStats): a dict shaped like one split of `oiv4-kv stats --json`
("splits" -> name): examples, boxes, images_with_boxes, boxes_per_image
(mean, max, histogram[n] = examples with n boxes), flags (yes/no/unknown/share
of each box flag), box_sources, image_labels (positive, negative, sources) and
classes (boxable, all, trainable: size, classes seen, and the per-class
counts most frequent first; `top` keeps that many, 0 all). An image-level
label is positive when its stored confidence (int(Confidence * 10)) is at
least oiv4kv.POSITIVE_CONFIDENCE.
)doc");
}

}  // namespace oiv4kv::python
