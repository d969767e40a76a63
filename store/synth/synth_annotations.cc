#include "store/synth/synth_annotations.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_set>

#include "store/core/format/keys.h"
#include "store/synth/text_file.h"

namespace oiv4kv::synth {
namespace {

constexpr std::array<uint64_t, 10> kPow10 = {1,      10,      100,      1000,      10000,
                                             100000, 1000000, 10000000, 100000000, 1000000000};
constexpr uint8_t kVerification = 0, kCrowdsource = 1, kMachine = 2, kXclick = 4, kActivemil = 5;

// Zipf-like popularity (exponent 0.8) over a fixed random ranking of
// `n` classes: a few classes are very common, most are rare, as in the
// real annotations. Fixed: popularity belongs to the vocabulary, not the seed.
std::vector<double> Popularity(size_t n, uint64_t salt) {
  std::vector<size_t> rank(n);
  for (size_t i = 0; i < n; ++i) rank[i] = i + 1;
  std::mt19937_64 rng(0xC1A55E5ULL ^ salt);
  std::shuffle(rank.begin(), rank.end(), rng);
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(rank[i]), 0.8);
  return w;
}

template <typename Dist>
Dist MakeDist(const std::vector<double>& w) {
  return Dist(w.begin(), w.end());
}

}  // namespace

double Decimal::Value() const {
  // Both operands are exact doubles, so the quotient is the double nearest
  // the decimal, which is what parsing the text gives.
  return static_cast<double>(mantissa) / static_cast<double>(kPow10[decimals]);
}

void Decimal::AppendText(std::string* out) const {
  const uint64_t p = kPow10[decimals];
  *out += std::to_string(mantissa / p);
  if (decimals == 0) return;
  uint64_t frac = mantissa % p;
  int digits = decimals;
  if (!fixed) {
    if (frac == 0) return;
    while (frac % 10 == 0) frac /= 10, --digits;
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%0*llu", digits, static_cast<unsigned long long>(frac));
  *out += buf;
}

AnnotationGenerator::AnnotationGenerator(uint64_t seed)
    : classes_(GetSynthClasses()),
      rng_(seed),
      trainable_(
          MakeDist<std::discrete_distribution<uint32_t>>(Popularity(classes_.trainable.size(), 1))),
      all_(MakeDist<std::discrete_distribution<uint32_t>>(Popularity(kNumAllClasses, 2))),
      boxable_(
          MakeDist<std::discrete_distribution<uint32_t>>(Popularity(classes_.boxable.size(), 3))) {}

uint32_t AnnotationGenerator::Trainable() { return classes_.trainable[trainable_(rng_)]; }
uint32_t AnnotationGenerator::AnyClass() { return all_(rng_); }
uint32_t AnnotationGenerator::Boxable() { return classes_.boxable[boxable_(rng_)]; }

// Gamma-Poisson: counts with the given mean and more spread than Poisson
// (many images with few labels, a tail with many).
int AnnotationGenerator::NegativeBinomial(double mean, double shape, int cap) {
  const double lambda = std::gamma_distribution<double>(shape, mean / shape)(rng_);
  return std::min(cap, std::poisson_distribution<int>(lambda)(rng_));
}

Decimal AnnotationGenerator::Coordinate(double v, uint8_t decimals, bool fixed) {
  return {static_cast<uint32_t>(std::llround(v * static_cast<double>(kPow10[decimals]))), decimals,
          fixed};
}

void AnnotationGenerator::AddImage(uint64_t id, SplitRows* rows) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::unordered_set<uint32_t> seen;

  // Human-verified labels: distinct classes, mostly trainable; positive
  // (1) or negative (0) verifications.
  for (int n = NegativeBinomial(16.0, 4.0, 200); n > 0; --n) {
    uint32_t cls;
    do {
      cls = unit(rng_) < 0.85 ? Trainable() : AnyClass();
    } while (!seen.insert(cls).second);
    const uint8_t source = unit(rng_) < 0.75 ? kVerification : kCrowdsource;
    rows->human.push_back({id, cls, source, {unit(rng_) < 0.65 ? 1u : 0u, 0, false}});
  }

  // Machine-generated labels: classifier scores, mostly 0.5..1 with 1 to 4
  // decimals ("0.7", "0.29", "0.8125", "1").
  seen.clear();
  static constexpr std::array<double, 4> kDecimalWeights = {30, 40, 20, 10};
  std::discrete_distribution<int> decimals(kDecimalWeights.begin(), kDecimalWeights.end());
  for (int n = NegativeBinomial(45.0, 4.0, 400); n > 0; --n) {
    uint32_t cls;
    do {
      cls = unit(rng_) < 0.95 ? Trainable() : AnyClass();
    } while (!seen.insert(cls).second);
    const uint8_t d = static_cast<uint8_t>(decimals(rng_) + 1);
    const uint32_t p = static_cast<uint32_t>(kPow10[d]);
    const uint32_t lo = unit(rng_) < 0.9 ? p / 2 : p / 10;
    rows->machine.push_back(
        {id, cls, kMachine, {std::uniform_int_distribution<uint32_t>(lo, p)(rng_), d, false}});
  }

  // Boxes: a few boxable classes per image, several boxes each.
  const int num_boxes = NegativeBinomial(8.4, 2.0, 300);
  if (num_boxes == 0) return;
  std::vector<uint32_t> box_classes;
  for (int k = 1 + std::poisson_distribution<int>(1.0)(rng_); k > 0; --k) {
    box_classes.push_back(Boxable());
  }
  std::geometric_distribution<size_t> which(0.5);
  auto flag = [&](double p_one) -> int8_t {
    const double u = unit(rng_);
    return u < 0.03 ? -1 : u < 0.03 + p_one ? 1 : 0;
  };
  for (int b = 0; b < num_boxes; ++b) {
    BoxRow row{};
    row.image_id = id;
    row.cls = box_classes[std::min(which(rng_), box_classes.size() - 1)];
    row.source = unit(rng_) < 0.8 ? kXclick : kActivemil;
    // Size log-uniform in [0.02, 1] per axis; some boxes touch the border.
    double lo[2], hi[2];
    for (int axis = 0; axis < 2; ++axis) {
      const double size = std::exp(std::log(0.02) * unit(rng_));
      lo[axis] = (1.0 - size) * unit(rng_);
      hi[axis] = lo[axis] + size;
      const double edge = unit(rng_);
      if (edge < 0.08) lo[axis] = 0.0;
      if (edge > 0.92) hi[axis] = 1.0;
      hi[axis] = std::min(hi[axis], 1.0);
    }
    // Mostly "%.6f" as in the real files; some shorter forms.
    const bool fixed = unit(rng_) < 0.8;
    const uint8_t d =
        fixed ? 6 : static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 5)(rng_));
    row.coord[0] = Coordinate(lo[0], d, fixed);
    row.coord[1] = Coordinate(hi[0], d, fixed);
    row.coord[2] = Coordinate(lo[1], d, fixed);
    row.coord[3] = Coordinate(hi[1], d, fixed);
    if (row.source == kActivemil && unit(rng_) < 0.7) {
      std::fill(std::begin(row.flags), std::end(row.flags), int8_t{-1});
    } else {
      row.flags[0] = flag(0.45), row.flags[1] = flag(0.25), row.flags[2] = flag(0.06);
      row.flags[3] = flag(0.05), row.flags[4] = flag(0.01);
    }
    rows->boxes.push_back(row);
  }
}

void AppendLabelRow(const LabelRow& r, ClassLists lists, ExampleData* example) {
  const SynthClasses& c = GetSynthClasses();
  const auto confidence = static_cast<uint8_t>(static_cast<int>(r.confidence.Value() * 10.0));
  const int32_t trainable =
      (lists == ClassLists::kTfds ? c.trainable_tfds : c.trainable_download)[r.cls];
  ExampleData::Labels& objects = example->objects;
  objects.label.push_back(static_cast<uint16_t>(r.cls));
  objects.confidence.push_back(confidence);
  objects.source.push_back(r.source);
  if (trainable >= 0) {
    ExampleData::Labels& t = example->objects_trainable;
    t.label.push_back(static_cast<uint16_t>(trainable));
    t.confidence.push_back(confidence);
    t.source.push_back(r.source);
  }
}

void AppendBoxRow(const BoxRow& r, ClassLists lists, ExampleData* example) {
  const SynthClasses& c = GetSynthClasses();
  ExampleData::Boxes* b = &example->bobjects;
  b->label.push_back(
      static_cast<uint16_t>((lists == ClassLists::kTfds ? c.boxable_tfds : c.boxable_download)[r.cls]));
  b->source.push_back(r.source);
  // (YMin, XMin, YMax, XMax) from the CSV's XMin, XMax, YMin, YMax.
  for (int i : {2, 0, 3, 1}) b->bbox.push_back(static_cast<float>(r.coord[i].Value()));
  b->is_occluded.push_back(r.flags[0]);
  b->is_truncated.push_back(r.flags[1]);
  b->is_group_of.push_back(r.flags[2]);
  b->is_depiction.push_back(r.flags[3]);
  b->is_inside.push_back(r.flags[4]);
}

namespace {

Status WriteLabels(const std::string& path, const std::vector<LabelRow>& rows, ExampleMap* download,
                   ExampleMap* tfds, Split split, uint64_t* orphans) {
  const SynthClasses& c = GetSynthClasses();
  TextFile f(path);
  f << "ImageID,Source,LabelName,Confidence\n";
  for (const LabelRow& r : rows) {
    std::string& line = f.buffer();
    line += ImageIdHex(r.image_id);
    line += ',';
    line += kSourceNames[r.source];
    line += ',';
    line += c.lists.tfds_all[r.cls].mid;
    line += ',';
    r.confidence.AppendText(&line);
    line += '\n';
    f.MaybeFlush();

    auto d = download->find({split, r.image_id});
    if (d == download->end()) {
      ++*orphans;
      continue;
    }
    AppendLabelRow(r, ClassLists::kDownload, &d->second);
    AppendLabelRow(r, ClassLists::kTfds, &tfds->at({split, r.image_id}));
  }
  return f.Close();
}

Status WriteBoxes(const std::string& path, const std::vector<BoxRow>& rows, ExampleMap* download,
                  ExampleMap* tfds, Split split, uint64_t* orphans) {
  const SynthClasses& c = GetSynthClasses();
  TextFile f(path);
  f << "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
       "IsGroupOf,IsDepiction,IsInside\n";
  for (const BoxRow& r : rows) {
    std::string& line = f.buffer();
    line += ImageIdHex(r.image_id);
    line += ',';
    line += kSourceNames[r.source];
    line += ',';
    line += c.lists.tfds_all[r.cls].mid;
    line += ",1";
    for (const Decimal& v : r.coord) {
      line += ',';
      v.AppendText(&line);
    }
    for (int8_t flag : r.flags) {
      line += ',';
      line += std::to_string(flag);
    }
    line += '\n';
    f.MaybeFlush();

    auto d = download->find({split, r.image_id});
    if (d == download->end()) {
      ++*orphans;
      continue;
    }
    AppendBoxRow(r, ClassLists::kDownload, &d->second);
    AppendBoxRow(r, ClassLists::kTfds, &tfds->at({split, r.image_id}));
  }
  return f.Close();
}

}  // namespace

Status WriteSplitCsvs(const std::string& dir, Split split, const SplitRows& rows,
                      ExampleMap* download, ExampleMap* tfds, uint64_t* orphans) {
  const std::string prefix = dir + "/" + std::string(SplitName(split)) + "-annotations-";
  // Human before machine: objects holds the human rows first.
  OIV4KV_RETURN_IF_ERROR(
      WriteLabels(prefix + "human-imagelabels.csv", rows.human, download, tfds, split, orphans));
  OIV4KV_RETURN_IF_ERROR(WriteLabels(prefix + "machine-imagelabels.csv", rows.machine, download,
                                     tfds, split, orphans));
  return WriteBoxes(prefix + "bbox.csv", rows.boxes, download, tfds, split, orphans);
}

}  // namespace oiv4kv::synth
