#include "store/synth/synth_plan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "store/core/format/keys.h"

namespace oiv4kv::synth {

uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);  // SplitMix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace {

constexpr SynthKind kAwkwardKinds[] = {
    SynthKind::kGray,        SynthKind::kCmyk,       SynthKind::kProgressive,
    SynthKind::kExifRotated, SynthKind::kChroma444,  SynthKind::kTruncated,
    SynthKind::kPngNamedJpg, SynthKind::kNotAnImage, SynthKind::kHugeHeader};

class Planner {
 public:
  explicit Planner(const SynthOptions& o) : o_(o), rng_(StreamSeed(o.seed, kPlanStream)) {}

  uint64_t FreshId() {
    for (;;) {
      const uint64_t id = rng_();
      if (used_.insert(id).second) return id;
    }
  }

  // Dimensions like the hosted images: most have the longest side at the
  // limit, common camera aspect ratios, some portrait.
  void Dimensions(ImageSpec* s) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const uint32_t max_side = o_.max_side;
    uint32_t long_side = max_side;
    if (unit(rng_) >= 0.85) {
      long_side =
          std::uniform_int_distribution<uint32_t>(std::max(8u, max_side / 4), max_side)(rng_);
    }
    static constexpr double kRatios[] = {0.75, 0.75, 0.75, 0.6667, 0.6667, 0.5625, 1.0};
    const double u = unit(rng_);
    const double ratio =
        u < 0.75 ? kRatios[std::uniform_int_distribution<int>(0, 6)(rng_)] : 0.5 + 0.5 * unit(rng_);
    const uint32_t short_side =
        std::max<uint32_t>(8, static_cast<uint32_t>(std::lround(long_side * ratio)));
    const bool portrait = unit(rng_) < 0.3;
    s->width = portrait ? short_side : long_side;
    s->height = portrait ? long_side : short_side;
  }

  ImageSpec Spec(SynthKind kind) {
    ImageSpec s;
    s.kind = kind;
    s.seed = rng_();
    s.quality = std::uniform_int_distribution<int>(85, 97)(rng_);
    Dimensions(&s);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    switch (kind) {
      case SynthKind::kNormal:
        s.exif = unit(rng_) < 0.1;  // cameras' EXIF with the upright orientation
        s.exif_big_endian = unit(rng_) < 0.5;
        break;
      case SynthKind::kExifRotated:
        s.exif = true;
        s.exif_orientation = std::uniform_int_distribution<int>(2, 8)(rng_);
        s.exif_big_endian = unit(rng_) < 0.5;
        break;
      case SynthKind::kNotAnImage:
        s.variant = not_an_image_++ % 3;
        s.width = s.height = 0;
        break;
      case SynthKind::kHugeHeader:
        s.width = s.height = synth::kHugeSide;
        break;
      default:
        break;
    }
    return s;
  }

  PlannedSplit Split(oiv4kv::Split split, size_t n, const std::string& out_dir) {
    PlannedSplit p;
    p.split = split;
    const std::string name(SplitName(split));
    p.prefix = o_.split_subdirs ? name + "/" : "";
    p.dir = o_.split_subdirs ? out_dir + "/" + name : out_dir;

    std::vector<uint64_t> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(FreshId());
    std::sort(ids.begin(), ids.end());

    // Awkward kinds at random positions, at most half of the split.
    std::vector<SynthKind> kinds(n, SynthKind::kNormal);
    if (o_.awkward) {
      const size_t each =
          split == oiv4kv::Split::kTrain || n >= 40 ? std::max<size_t>(1, n / 250) : 0;
      std::vector<size_t> slots(n);
      for (size_t i = 0; i < n; ++i) slots[i] = i;
      std::shuffle(slots.begin(), slots.end(), rng_);
      size_t next = 0;
      for (size_t k = 0; k < each; ++k) {
        for (SynthKind kind : kAwkwardKinds) {
          if (next < n / 2) kinds[slots[next++]] = kind;
        }
      }
    }
    for (size_t i = 0; i < n; ++i) p.images.push_back({ids[i], Spec(kinds[i]), 0});

    // A few images without any annotation row.
    if (n >= 5) {
      std::uniform_int_distribution<size_t> any(0, n - 1);
      for (size_t k = std::max<size_t>(1, n / 100); k > 0; --k) {
        p.unannotated.insert(p.images[any(rng_)].id);
      }
    }
    for (int k = 0; k < 2; ++k) p.orphan_ids.push_back(FreshId());

    // Archives: train by leading hex digit, one each for validation/test.
    const char* ext = o_.archives == SynthOptions::Archives::kTarGz ? ".tar.gz"
                      : o_.archives == SynthOptions::Archives::kTar ? ".tar"
                                                                    : "";
    if (split == oiv4kv::Split::kTrain) {
      for (int d = 0; d < 16; ++d) {
        const std::string stem = "train_" + std::string(1, "0123456789abcdef"[d]);
        p.archives.push_back({stem + ext, stem, {}});
      }
    } else {
      p.archives.push_back({name + ext, name, {}});
    }
    for (size_t i = 0; i < n; ++i) {
      PlannedImage& img = p.images[i];
      img.archive = split == oiv4kv::Split::kTrain ? static_cast<int>(img.id >> 60) : 0;
      PlannedArchive& a = p.archives[img.archive];
      a.members.push_back(
          {Member::Type::kImage, i, {}, a.stem + "/" + ImageIdHex(img.id) + ".jpg", {}});
    }
    if (o_.awkward) AddBadMembers(&p);
    return p;
  }

  // Shuffles the member order of each archive, keeping a leading
  // directory entry first.
  void ShuffleMembers(PlannedSplit* p) {
    for (PlannedArchive& a : p->archives) {
      auto begin = a.members.begin();
      if (begin != a.members.end() && begin->type == Member::Type::kDirectory &&
          begin->name == a.stem + "/") {
        ++begin;
      }
      std::shuffle(begin, a.members.end(), rng_);
    }
  }

 private:
  // See SynthOptions::awkward. Members with a fresh id get annotation rows,
  // which are then orphans: a converter must not take them for images.
  void AddBadMembers(PlannedSplit* p) {
    // Appended: ShuffleMembers gives them their positions.
    auto insert = [](PlannedArchive* a, Member m) { a->members.push_back(std::move(m)); };
    PlannedArchive& first = p->archives[0];
    switch (p->split) {
      case oiv4kv::Split::kTrain: {
        // A second copy of a normal image's id, in another train archive.
        const size_t start = std::uniform_int_distribution<size_t>(0, p->images.size() - 1)(rng_);
        for (size_t k = 0; k < p->images.size(); ++k) {
          const PlannedImage& img = p->images[(start + k) % p->images.size()];
          if (img.spec.kind != SynthKind::kNormal) continue;
          PlannedArchive& other = p->archives[(img.archive + 1) % 16];
          insert(&other, {Member::Type::kExtraFile,
                          0,
                          Spec(SynthKind::kNormal),
                          other.stem + "/" + ImageIdHex(img.id) + ".jpg",
                          {}});
          break;
        }
        break;
      }
      case oiv4kv::Split::kValidation: {
        const uint64_t id = FreshId();
        p->orphan_ids.push_back(id);
        insert(&first, {Member::Type::kExtraFile,
                        0,
                        Spec(SynthKind::kNormal),
                        first.stem + "/" + ImageIdHex(id) + ".jpg.tmp",
                        {}});
        break;
      }
      case oiv4kv::Split::kTest: {
        const uint64_t dir_id = FreshId(), link_id = FreshId();
        p->orphan_ids.push_back(dir_id);
        p->orphan_ids.push_back(link_id);
        const bool tar = o_.archives != SynthOptions::Archives::kDirectories;
        insert(&first, {Member::Type::kDirectory,
                        0,
                        {},
                        first.stem + "/" + ImageIdHex(dir_id) + ".jpg" + (tar ? "/" : ""),
                        {}});
        const std::string target = ImageIdHex(p->images.front().id) + ".jpg";  // n >= 1
        insert(&first, {Member::Type::kSymlink,
                        0,
                        {},
                        first.stem + "/" + ImageIdHex(link_id) + ".jpg",
                        target});
        break;
      }
    }
    // Each archive opens with its own directory entry, as `tar czf` writes.
    if (o_.archives != SynthOptions::Archives::kDirectories) {
      for (PlannedArchive& a : p->archives) {
        a.members.insert(a.members.begin(), {Member::Type::kDirectory, 0, {}, a.stem + "/", {}});
      }
    }
  }

 private:
  const SynthOptions& o_;
  std::mt19937_64 rng_;
  std::set<uint64_t> used_;
  int not_an_image_ = 0;
};

}  // namespace

std::vector<PlannedSplit> PlanDownload(const SynthOptions& options, const std::string& out_dir) {
  // ~5% validation, ~5% test, the rest train; each at least 1.
  const size_t n = options.images;
  const size_t held_out = std::max<size_t>(1, (n + 10) / 20);
  const std::array<size_t, kNumSplits> sizes = {n - 2 * held_out, held_out, held_out};
  Planner planner(options);
  std::vector<PlannedSplit> splits;
  for (Split split : kAllSplits) {
    splits.push_back(planner.Split(split, sizes[static_cast<int>(split)], out_dir));
  }
  for (PlannedSplit& p : splits) planner.ShuffleMembers(&p);
  return splits;
}

}  // namespace oiv4kv::synth
