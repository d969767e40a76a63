#include "oiv4kv/sampling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "oiv4kv/store.h"
#include "oiv4kv/views.h"
#include "store/core/splitmix.h"

namespace oiv4kv {
namespace {

// splitmix64 seeded from (seed, epoch) with its own salt, so that its draws
// are not the scan's permutation's.
SplitMix64 SamplerRng(uint64_t seed, uint64_t epoch) {
  return SplitMix64(Mix64(seed ^ 0x6f69763473616d70ULL /* "oiv4samp" */) ^ Mix64(epoch));
}

struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Add(uint64_t v) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  }
};

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Dashes(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

std::string_view SamplingMethodName(SamplingMethod method) {
  switch (method) {
    case SamplingMethod::kRepeatFactor: return "repeat_factor";
    case SamplingMethod::kClassAware: return "class_aware";
  }
  return "?";
}

std::optional<SamplingMethod> ParseSamplingMethod(std::string_view name) {
  const std::string n = Dashes(name);
  for (SamplingMethod m : kAllSamplingMethods) {
    if (n == SamplingMethodName(m)) return m;
  }
  return std::nullopt;
}

std::vector<std::string> SamplingMethodNames() {
  std::vector<std::string> names;
  for (SamplingMethod m : kAllSamplingMethods) names.emplace_back(SamplingMethodName(m));
  return names;
}

std::string_view SamplingClassesName(SamplingClasses classes) {
  switch (classes) {
    case SamplingClasses::kBoxes: return "boxes";
    case SamplingClasses::kImageLabels: return "image_labels";
  }
  return "?";
}

std::optional<SamplingClasses> ParseSamplingClasses(std::string_view name) {
  const std::string n = Dashes(name);
  for (SamplingClasses c : kAllSamplingClasses) {
    if (n == SamplingClassesName(c)) return c;
  }
  return std::nullopt;
}

std::vector<std::string> SamplingClassesNames() {
  std::vector<std::string> names;
  for (SamplingClasses c : kAllSamplingClasses) names.emplace_back(SamplingClassesName(c));
  return names;
}

Status Sampler::Build(const Store* store, Split split,
                      std::shared_ptr<const std::vector<uint64_t>> subset,
                      const SamplerOptions& options, std::shared_ptr<const Sampler>* out) {
  if (store == nullptr) return Status::InvalidArgument("sampler: null store");
  const uint64_t n = store->NumExamples(split);
  std::vector<uint64_t> indices;
  if (subset != nullptr) {
    indices = *subset;
    for (size_t j = 0; j < indices.size(); ++j) {
      if (indices[j] >= n) {
        return Status::InvalidArgument("sampler: subset index " + std::to_string(indices[j]) +
                                       " (entry " + std::to_string(j) + ") is past the end of " +
                                       std::string(SplitName(split)) + " (" + std::to_string(n) +
                                       " examples)");
      }
    }
  } else {
    indices.resize(n);
    for (uint64_t i = 0; i < n; ++i) indices[i] = i;
  }
  const VocabKind kind =
      options.classes == SamplingClasses::kBoxes ? VocabKind::kBoxable : VocabKind::kAll;
  const uint32_t num_classes = static_cast<uint32_t>(store->vocabulary(kind).size());
  std::vector<std::vector<uint32_t>> labels(indices.size());
  constexpr size_t kChunk = 256;
  std::vector<ExampleView> views;
  std::vector<Status> statuses;
  for (size_t begin = 0; begin < indices.size(); begin += kChunk) {
    const size_t count = std::min(kChunk, indices.size() - begin);
    // Subset order is checked in FromClassSets; MultiAt takes any order.
    store->MultiAt(split, std::span<const uint64_t>(indices.data() + begin, count), &views,
                   &statuses);
    for (size_t k = 0; k < count; ++k) {
      if (!statuses[k].ok()) return statuses[k];
      std::vector<uint32_t>& set = labels[begin + k];
      if (options.classes == SamplingClasses::kBoxes) {
        for (uint16_t l : views[k].bobjects().label) set.push_back(l);
      } else {
        const LabelsView o = views[k].objects();
        for (size_t m = 0; m < o.size(); ++m) {
          if (o.confidence[m] >= options.min_confidence) set.push_back(o.label[m]);
        }
      }
    }
  }
  return FromClassSets(split, std::move(indices), std::move(labels), num_classes, options, out);
}

Status Sampler::FromClassSets(Split split, std::vector<uint64_t> indices,
                              std::vector<std::vector<uint32_t>> labels, uint32_t num_classes,
                              const SamplerOptions& options,
                              std::shared_ptr<const Sampler>* out) {
  if (!(options.threshold > 0 && options.threshold <= 1)) {
    return Status::InvalidArgument("sampler: threshold " + std::to_string(options.threshold) +
                                   " is not in (0, 1]");
  }
  if (options.min_confidence < 1 || options.min_confidence > 10) {
    return Status::InvalidArgument("sampler: min_confidence " +
                                   std::to_string(options.min_confidence) +
                                   " is not in 1..10 (tenths)");
  }
  switch (options.method) {
    case SamplingMethod::kRepeatFactor:
    case SamplingMethod::kClassAware:
      break;
    default:
      return Status::InvalidArgument("sampler: unknown method");
  }
  if (labels.size() != indices.size()) {
    return Status::InvalidArgument("sampler: " + std::to_string(labels.size()) +
                                   " class sets for " + std::to_string(indices.size()) +
                                   " indices");
  }
  for (size_t j = 1; j < indices.size(); ++j) {
    if (indices[j] <= indices[j - 1]) {
      return Status::InvalidArgument(
          "sampler: the subset is not strictly ascending: entry " + std::to_string(j) + " (" +
          std::to_string(indices[j]) + ") after " + std::to_string(indices[j - 1]));
    }
  }
  std::shared_ptr<Sampler> s(new Sampler());
  s->split_ = split;
  s->options_ = options;
  s->num_classes_ = num_classes;
  std::vector<uint64_t> images_of(num_classes, 0);
  for (size_t j = 0; j < labels.size(); ++j) {
    std::vector<uint32_t>& set = labels[j];
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    for (uint32_t c : set) {
      if (c >= num_classes) {
        return Status::InvalidArgument("sampler: example " + std::to_string(indices[j]) +
                                       " has class " + std::to_string(c) + ", past the " +
                                       std::to_string(num_classes) + " classes");
      }
      ++images_of[c];
    }
  }
  const double n = static_cast<double>(indices.size());
  s->expected_.assign(indices.size(), 0.0);
  if (options.method == SamplingMethod::kRepeatFactor) {
    std::vector<double> class_factor(num_classes, 1.0);
    for (uint32_t c = 0; c < num_classes; ++c) {
      if (images_of[c] == 0) continue;
      const double f = static_cast<double>(images_of[c]) / n;
      class_factor[c] = std::max(1.0, std::sqrt(options.threshold / f));
    }
    for (size_t j = 0; j < labels.size(); ++j) {
      double r = 1.0;
      for (uint32_t c : labels[j]) r = std::max(r, class_factor[c]);
      s->expected_[j] = r;
    }
  } else {
    s->members_.resize(num_classes);
    for (size_t j = 0; j < labels.size(); ++j) {
      for (uint32_t c : labels[j]) s->members_[c].push_back(static_cast<uint32_t>(j));
    }
    for (uint32_t c = 0; c < num_classes; ++c) {
      if (!s->members_[c].empty()) s->present_.push_back(c);
    }
    const double length = static_cast<double>(
        options.epoch_length != 0 ? options.epoch_length : indices.size());
    if (!s->present_.empty()) {
      const double per_class = length / static_cast<double>(s->present_.size());
      for (uint32_t c : s->present_) {
        const double each = per_class / static_cast<double>(s->members_[c].size());
        for (uint32_t j : s->members_[c]) s->expected_[j] += each;
      }
    }
  }
  Fnv fp;
  fp.Add(static_cast<uint64_t>(options.method));
  fp.Add(static_cast<uint64_t>(options.classes));
  uint64_t t_bits;
  static_assert(sizeof(t_bits) == sizeof(options.threshold));
  __builtin_memcpy(&t_bits, &options.threshold, sizeof(t_bits));
  fp.Add(t_bits);
  fp.Add(options.min_confidence);
  fp.Add(options.epoch_length);
  fp.Add(static_cast<uint64_t>(split));
  fp.Add(indices.size());
  for (size_t j = 0; j < indices.size(); ++j) {
    fp.Add(indices[j]);
    fp.Add(labels[j].size());
    for (uint32_t c : labels[j]) fp.Add(c);
  }
  s->name_ = std::string(SamplingMethodName(options.method)) + ":" + Hex16(Mix64(fp.h));
  s->indices_ = std::move(indices);
  s->labels_ = std::move(labels);
  *out = std::move(s);
  return Status::OK();
}

std::vector<uint64_t> Sampler::Epoch(uint64_t seed, uint64_t epoch) const {
  SplitMix64 rng = SamplerRng(seed, epoch);
  std::vector<uint64_t> out;
  if (options_.method == SamplingMethod::kRepeatFactor) {
    out.reserve(indices_.size() + indices_.size() / 4);
    for (size_t j = 0; j < indices_.size(); ++j) {
      const double r = expected_[j];
      const double whole = std::floor(r);
      // One draw per image, in population order, whether or not r is whole.
      const double u = rng.Unit();
      const uint64_t k = static_cast<uint64_t>(whole) + (u < r - whole ? 1 : 0);
      out.insert(out.end(), k, indices_[j]);
    }
    return out;
  }
  if (present_.empty()) return out;
  const uint64_t length = options_.epoch_length != 0 ? options_.epoch_length : indices_.size();
  out.reserve(length);
  for (uint64_t p = 0; p < length; ++p) {
    const std::vector<uint32_t>& members = members_[present_[rng.Bounded(present_.size())]];
    out.push_back(indices_[members[rng.Bounded(members.size())]]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

SamplingReport Sampler::Report() const {
  SamplingReport r;
  r.method = options_.method;
  r.classes = options_.classes;
  r.threshold = options_.threshold;
  r.num_images = indices_.size();
  std::vector<ClassFrequency> per(num_classes_);
  for (uint32_t c = 0; c < num_classes_; ++c) per[c].label = c;
  for (size_t j = 0; j < labels_.size(); ++j) {
    if (!labels_[j].empty()) ++r.images_with_classes;
    r.expected_epoch_length += expected_[j];
    for (uint32_t c : labels_[j]) {
      ++per[c].images;
      per[c].expected += expected_[j];
    }
  }
  for (const ClassFrequency& f : per) {
    if (f.images != 0) r.per_class.push_back(f);
  }
  std::stable_sort(r.per_class.begin(), r.per_class.end(),
                   [](const ClassFrequency& a, const ClassFrequency& b) {
                     return a.images > b.images;
                   });
  return r;
}

std::string FormatSamplingReport(const Store& store, const SamplingReport& report, size_t top) {
  const Vocabulary& vocab = store.vocabulary(
      report.classes == SamplingClasses::kBoxes ? VocabKind::kBoxable : VocabKind::kAll);
  auto name = [&](uint32_t c) -> std::string {
    return c < vocab.size() ? std::string(vocab.display_name(c)) : std::to_string(c);
  };
  auto mid = [&](uint32_t c) -> std::string {
    return c < vocab.size() ? std::string(vocab.mid(c)) : "";
  };
  const size_t shown =
      top == 0 ? report.per_class.size() : std::min(top, report.per_class.size());
  // The imbalance: the most over the least frequent class, before and after.
  double min_b = 0, max_b = 0, min_a = 0, max_a = 0;
  for (size_t k = 0; k < report.per_class.size(); ++k) {
    const ClassFrequency& f = report.per_class[k];
    const double b = static_cast<double>(f.images);
    if (k == 0 || b < min_b) min_b = b;
    if (k == 0 || b > max_b) max_b = b;
    if (k == 0 || f.expected < min_a) min_a = f.expected;
    if (k == 0 || f.expected > max_a) max_a = f.expected;
  }
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof(buf),
                "method %s, classes %s%s: %llu images (%llu with classes), %zu classes\n"
                "epoch length: %llu before, %.1f after (expected)\n"
                "most/least frequent class: %.1fx before, %.1fx after\n",
                std::string(SamplingMethodName(report.method)).c_str(),
                std::string(SamplingClassesName(report.classes)).c_str(),
                report.method == SamplingMethod::kRepeatFactor
                    ? (", threshold " + std::to_string(report.threshold)).c_str()
                    : "",
                static_cast<unsigned long long>(report.num_images),
                static_cast<unsigned long long>(report.images_with_classes),
                report.per_class.size(), static_cast<unsigned long long>(report.num_images),
                report.expected_epoch_length, min_b > 0 ? max_b / min_b : 0.0,
                min_a > 0 ? max_a / min_a : 0.0);
  out = buf;
  std::snprintf(buf, sizeof(buf), "%-6s %-12s %-28s %10s %10s %8s\n", "label", "mid", "name",
                "before", "after", "ratio");
  out += buf;
  for (size_t k = 0; k < shown; ++k) {
    const ClassFrequency& f = report.per_class[k];
    std::snprintf(buf, sizeof(buf), "%-6u %-12s %-28s %10llu %10.2f %8.2f\n", f.label,
                  mid(f.label).c_str(), name(f.label).c_str(),
                  static_cast<unsigned long long>(f.images), f.expected,
                  f.images > 0 ? f.expected / static_cast<double>(f.images) : 0.0);
    out += buf;
  }
  if (shown < report.per_class.size()) {
    out += "(" + std::to_string(report.per_class.size() - shown) + " more classes)\n";
  }
  return out;
}

}  // namespace oiv4kv
