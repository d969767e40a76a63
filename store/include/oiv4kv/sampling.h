// Class-balanced sampling of a split (or a subset of it): which examples an
// epoch holds, with repeats, for a long-tailed label distribution.
//
// Repeat-factor sampling (LVIS, Gupta et al. 2019; Detectron2's
// RepeatFactorTrainingSampler): with f(c) the fraction of the population's
// images that hold class c, an image's repeat factor is
//   r(i) = max over the classes c of i of max(1, sqrt(t / f(c)))
// (1 for an image without classes). Epoch e holds image i
//   k(i) = floor(r(i)) + Bernoulli(frac(r(i)))
// times (stochastic rounding, its own draw per image from (seed, epoch)), so
// E[k(i)] = r(i). Epoch length: sum of k(i) over the population, about
// sum of r(i) (SamplingReport::expected_epoch_length), different per epoch.
//
// Class-aware sampling (Shen et al. 2016): each of `epoch_length` positions
// draws a class uniformly among the classes present, then an image of that
// class uniformly. Epoch length: SamplerOptions::epoch_length (default: the
// population's size). Images without classes are never drawn.
//
// Classes: by default the boxable labels of an image's `bobjects`
// (SamplingClasses::kBoxes); or its image-level positives (`objects` with
// confidence >= min_confidence; confidence 0 marks a verified negative).
// The per-image class sets come from the records, read once in Build.
//
// Determinism: Sampler::Epoch is a pure function of (the population's class
// sets, options, seed, epoch); it uses splitmix64 and Lemire's bounded
// draws (as Scan), never <random>. Scan (ScanOptions::sampler) orders the
// epoch's multiset, shards it into equal shares and resumes it.
//
// Example (rank r of w):
//   oiv4kv::SamplerOptions so;  // repeat-factor, t = 0.001, boxable classes
//   std::shared_ptr<const oiv4kv::Sampler> sampler;
//   OIV4KV_RETURN_IF_ERROR(oiv4kv::Sampler::Build(store.get(), oiv4kv::Split::kTrain,
//                                                 nullptr, so, &sampler));
//   oiv4kv::ScanOptions o;
//   o.sampler = sampler; o.seed = 42; o.epoch = epoch;
//   o.shard_index = r; o.num_shards = w;
//   ... oiv4kv::Scan::Open(store.get(), oiv4kv::Split::kTrain, o, &scan) ...
//
// Thread safety: a Sampler is immutable once built; share it freely.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

class Store;

enum class SamplingMethod : uint8_t { kRepeatFactor, kClassAware };
enum class SamplingClasses : uint8_t {
  kBoxes,        // boxable labels of bobjects (vocabulary "boxable")
  kImageLabels,  // image-level positives of objects (vocabulary "all")
};
inline constexpr std::array<SamplingMethod, 2> kAllSamplingMethods = {
    SamplingMethod::kRepeatFactor, SamplingMethod::kClassAware};
inline constexpr std::array<SamplingClasses, 2> kAllSamplingClasses = {
    SamplingClasses::kBoxes, SamplingClasses::kImageLabels};
// "repeat_factor", "class_aware"; "boxes", "image_labels". The parsers also
// take '-' for '_' ("repeat-factor", as the CLI writes it).
OIV4KV_EXPORT std::string_view SamplingMethodName(SamplingMethod method);
OIV4KV_EXPORT std::optional<SamplingMethod> ParseSamplingMethod(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> SamplingMethodNames();
OIV4KV_EXPORT std::string_view SamplingClassesName(SamplingClasses classes);
OIV4KV_EXPORT std::optional<SamplingClasses> ParseSamplingClasses(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> SamplingClassesNames();

struct SamplerOptions {
  SamplingMethod method = SamplingMethod::kRepeatFactor;
  SamplingClasses classes = SamplingClasses::kBoxes;
  // Repeat-factor: t. REQUIRES: 0 < t <= 1. Default: 0.001 (LVIS's).
  double threshold = 0.001;
  // kImageLabels: a label counts where confidence (int(Confidence * 10),
  // 0..10) >= this. REQUIRES: 1..10. Default: 5 (0.5).
  uint32_t min_confidence = 5;
  // Class-aware: positions per epoch; 0: the population's size.
  uint64_t epoch_length = 0;
};

// One class's images per epoch, before (each image once) and after sampling
// (expected).
struct ClassFrequency {
  uint32_t label = 0;      // index in the classes' vocabulary
  uint64_t images = 0;     // images of the population holding the class
  double expected = 0;     // expected epoch entries (with repeats) of them
};

struct SamplingReport {
  SamplingMethod method = SamplingMethod::kRepeatFactor;
  SamplingClasses classes = SamplingClasses::kBoxes;
  double threshold = 0;
  uint64_t num_images = 0;              // the population
  uint64_t images_with_classes = 0;
  double expected_epoch_length = 0;     // after sampling
  std::vector<ClassFrequency> per_class;  // classes present, images descending
};

class OIV4KV_EXPORT Sampler {
 public:
  // Reads the records of `split` (or of `subset`'s indices: strictly
  // ascending, < the split's size) once for their class sets. InvalidArgument
  // for bad options or a bad subset; the store's error (naming the example)
  // if a record cannot be read.
  static Status Build(const Store* store, Split split,
                      std::shared_ptr<const std::vector<uint64_t>> subset,
                      const SamplerOptions& options, std::shared_ptr<const Sampler>* out);
  // From class sets given directly: labels[j] are the classes of split index
  // indices[j] (indices strictly ascending), labels < num_classes.
  static Status FromClassSets(Split split, std::vector<uint64_t> indices,
                              std::vector<std::vector<uint32_t>> labels, uint32_t num_classes,
                              const SamplerOptions& options,
                              std::shared_ptr<const Sampler>* out);

  // Epoch `epoch`'s multiset of split indices, ascending (an image's
  // repeats adjacent).
  std::vector<uint64_t> Epoch(uint64_t seed, uint64_t epoch) const;
  // Per population member (indices()[j]): r(j) (repeat-factor), or the
  // expected draws per epoch (class-aware).
  const std::vector<double>& expected_repeats() const { return expected_; }
  // The population: split indices, ascending.
  const std::vector<uint64_t>& indices() const { return indices_; }
  const std::vector<std::vector<uint32_t>>& class_sets() const { return labels_; }
  uint32_t num_classes() const { return num_classes_; }
  const SamplerOptions& options() const { return options_; }
  Split split() const { return split_; }
  // "<method>:<16 hex digits>": the method and a fingerprint of the options
  // and the population's class sets (what a ScanPosition records).
  const std::string& Name() const { return name_; }
  // Per-class images per epoch, before and after (expected).
  SamplingReport Report() const;

 private:
  Sampler() = default;
  Split split_ = Split::kTrain;
  SamplerOptions options_;
  std::vector<uint64_t> indices_;
  std::vector<std::vector<uint32_t>> labels_;
  uint32_t num_classes_ = 0;
  std::vector<double> expected_;
  // Class-aware: the classes present and, per class, its members (positions
  // in indices_).
  std::vector<uint32_t> present_;
  std::vector<std::vector<uint32_t>> members_;
  std::string name_;
};

// The report as text: totals (images, epoch length before and after, the
// most over the least frequent class's images per epoch before and after),
// then one line per class (label, MID, display name from the store's
// vocabulary, images per epoch before, expected after, their ratio), the
// `top` most frequent (0: all). `oiv4-kv sample-report` prints it.
OIV4KV_EXPORT std::string FormatSamplingReport(const Store& store, const SamplingReport& report,
                                               size_t top);

}  // namespace oiv4kv
