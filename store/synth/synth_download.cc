#include "store/synth/synth_download.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "store/core/format/keys.h"
#include "store/synth/member_sink.h"
#include "store/synth/synth_annotations.h"
#include "store/synth/synth_image.h"
#include "store/synth/synth_vocab.h"
#include "store/synth/text_file.h"

namespace oiv4kv {

std::string_view SynthKindName(SynthKind kind) {
  switch (kind) {
    case SynthKind::kNormal:
      return "normal";
    case SynthKind::kGray:
      return "gray";
    case SynthKind::kCmyk:
      return "cmyk";
    case SynthKind::kProgressive:
      return "progressive";
    case SynthKind::kExifRotated:
      return "exif-rotated";
    case SynthKind::kChroma444:
      return "chroma-444";
    case SynthKind::kTruncated:
      return "truncated";
    case SynthKind::kPngNamedJpg:
      return "png-named-jpg";
    case SynthKind::kNotAnImage:
      return "not-an-image";
    case SynthKind::kHugeHeader:
      return "huge-header";
  }
  return "unknown";
}

namespace {

using synth::ImageSpec;
namespace fs = std::filesystem;

// Independent random streams for the parts of the plan, so that e.g. the
// row order option does not change the rows.
uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);  // SplitMix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
enum Stream : uint64_t { kPlanStream, kAnnotationStream, kOrderStream };

struct Member {
  enum class Type { kImage, kExtraFile, kDirectory, kSymlink } type = Type::kImage;
  size_t image = 0;    // kImage: index in PlannedSplit::images
  ImageSpec spec;      // kExtraFile: its content
  std::string name;    // member name
  std::string target;  // kSymlink
};

struct PlannedImage {
  uint64_t id = 0;
  ImageSpec spec;
  int archive = 0;
};

struct PlannedArchive {
  std::string file;  // "train_3.tar.gz", or the folder "train_3"
  std::string stem;  // "train_3"
  std::vector<Member> members;
};

struct PlannedSplit {
  Split split = Split::kTrain;
  std::string dir;                   // folder of its CSVs and archives (under out_dir)
  std::string prefix;                // "train/" with split_subdirs, else ""
  std::vector<PlannedImage> images;  // ascending id
  std::vector<uint64_t> orphan_ids;  // annotated ids without an image
  std::set<uint64_t> unannotated;    // images without rows
  std::vector<PlannedArchive> archives;
};

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

Status EnsureEmptyDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Status::InvalidArgument(dir + ": not a directory");
    if (!fs::is_empty(dir, ec)) {
      return Status::InvalidArgument(dir + ": exists and is not empty");
    }
    return Status::OK();
  }
  fs::create_directories(dir, ec);
  return ec ? Status::IOError(dir + ": " + ec.message()) : Status::OK();
}

Status WriteClassFiles(const std::string& out_dir) {
  const SynthVocabularies& v = synth::GetSynthClasses().lists;
  auto descriptions = [](const std::string& path, const std::vector<VocabEntry>& list) {
    synth::TextFile f(path);
    for (const VocabEntry& e : list) {
      f << e.mid << "," << synth::CsvField(e.display_name) << "\n";
    }
    return f.Close();
  };
  auto mids = [](const std::string& path, const std::vector<VocabEntry>& list) {
    synth::TextFile f(path);
    for (const VocabEntry& e : list) f << e.mid << "\n";
    return f.Close();
  };
  OIV4KV_RETURN_IF_ERROR(descriptions(out_dir + "/class-descriptions.csv", v.download_all));
  OIV4KV_RETURN_IF_ERROR(
      descriptions(out_dir + "/class-descriptions-boxable.csv", v.download_boxable));
  OIV4KV_RETURN_IF_ERROR(mids(out_dir + "/classes-trainable.txt", v.download_trainable));
  const std::string lists = out_dir + "/tfds_lists";
  std::error_code ec;
  fs::create_directories(lists, ec);
  if (ec) return Status::IOError(lists + ": " + ec.message());
  OIV4KV_RETURN_IF_ERROR(mids(lists + "/open_images_classes_all.txt", v.tfds_all));
  OIV4KV_RETURN_IF_ERROR(mids(lists + "/open_images_classes_trainable.txt", v.tfds_trainable));
  return mids(lists + "/open_images_classes_boxable.txt", v.tfds_boxable);
}

Status WriteAnnotations(const SynthOptions& o, std::vector<PlannedSplit>* splits,
                        SynthRecord* record) {
  synth::AnnotationGenerator gen(StreamSeed(o.seed, kAnnotationStream));
  std::mt19937_64 order_rng(StreamSeed(o.seed, kOrderStream));
  for (PlannedSplit& p : *splits) {
    for (const PlannedImage& img : p.images) {
      ExampleData e;
      e.split = p.split;
      e.image_id = img.id;
      e.filename = ImageIdHex(img.id) + ".jpg";
      record->expected_download[{p.split, img.id}] = e;
      record->expected_tfds[{p.split, img.id}] = std::move(e);
    }
    // Rows in ascending id order (images and orphans merged) are the
    // download's sorted order.
    std::vector<uint64_t> annotated;
    for (const PlannedImage& img : p.images) {
      if (!p.unannotated.count(img.id)) annotated.push_back(img.id);
    }
    annotated.insert(annotated.end(), p.orphan_ids.begin(), p.orphan_ids.end());
    std::sort(annotated.begin(), annotated.end());
    synth::SplitRows rows;
    for (uint64_t id : annotated) gen.AddImage(id, &rows);
    if (!o.sorted_csv) {
      std::shuffle(rows.human.begin(), rows.human.end(), order_rng);
      std::shuffle(rows.machine.begin(), rows.machine.end(), order_rng);
      std::shuffle(rows.boxes.begin(), rows.boxes.end(), order_rng);
    }
    OIV4KV_RETURN_IF_ERROR(synth::WriteSplitCsvs(p.dir, p.split, rows, &record->expected_download,
                                                 &record->expected_tfds,
                                                 &record->orphan_rows[static_cast<int>(p.split)]));
  }
  return Status::OK();
}

// Writes the members of every archive in order. Members are encoded in
// chunks on `threads` threads; while one chunk is written (tar, gzip: one
// thread), the next is encoded. Memory stays bounded by two chunks.
class ArchiveWriter {
 public:
  ArchiveWriter(const SynthOptions& o, SynthRecord* record)
      : o_(o),
        record_(record),
        // Default: one per core, at most 16 (chunks, and so memory, grow
        // with the thread count).
        threads_(o.threads > 0
                     ? o.threads
                     : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u))),
        chunk_(static_cast<size_t>(threads_) * 8),
        encoders_(static_cast<size_t>(threads_)) {}
  ~ArchiveWriter() {
    if (background_.joinable()) background_.join();
  }

  Status Write(const std::vector<PlannedSplit>& splits, size_t total_images) {
    for (const PlannedSplit& p : splits) {
      for (const PlannedArchive& a : p.archives) {
        for (const Member& m : a.members) items_.push_back({&p, &a, &m});
      }
    }
    const size_t chunks = (items_.size() + chunk_ - 1) / chunk_;
    encoded_ = EncodeChunk(0, &buffers_[0]);
    size_t next_item = 0;
    for (const PlannedSplit& p : splits) {
      for (const PlannedArchive& a : p.archives) {
        std::unique_ptr<synth::MemberSink> sink;
        OIV4KV_RETURN_IF_ERROR(synth::MemberSink::Open(o_.archives, p.dir, a.file, &sink));
        const std::string archive = p.prefix + a.file;
        for (size_t k = 0; k < a.members.size(); ++k, ++next_item) {
          const size_t c = next_item / chunk_;
          if (next_item % chunk_ == 0) {
            // Chunk c is encoded (or failed): start c + 1, then write c.
            if (background_.joinable()) background_.join();
            OIV4KV_RETURN_IF_ERROR(encoded_);
            if (c + 1 < chunks) {
              background_ =
                  std::thread([this, c] { encoded_ = EncodeChunk(c + 1, &buffers_[(c + 1) % 2]); });
            }
          }
          std::vector<uint8_t>* bytes = &buffers_[c % 2][next_item % chunk_];
          OIV4KV_RETURN_IF_ERROR(Put(p, archive, a.members[k], bytes, sink.get()));
          if (o_.progress && (next_item + 1) % chunk_ == 0) o_.progress(done_, total_images);
        }
        OIV4KV_RETURN_IF_ERROR(sink->Close());
      }
    }
    if (background_.joinable()) background_.join();
    if (o_.progress) o_.progress(done_, total_images);
    return encoded_;
  }

 private:
  struct Item {
    const PlannedSplit* split;
    const PlannedArchive* archive;
    const Member* member;
  };

  static const ImageSpec* SpecOf(const Item& item) {
    switch (item.member->type) {
      case Member::Type::kImage:
        return &item.split->images[item.member->image].spec;
      case Member::Type::kExtraFile:
        return &item.member->spec;
      default:
        return nullptr;
    }
  }

  Status EncodeChunk(size_t c, std::vector<std::vector<uint8_t>>* out) {
    const size_t begin = c * chunk_, n = std::min(chunk_, items_.size() - begin);
    out->resize(chunk_);
    std::vector<Status> status(n);
    std::atomic<size_t> next{0};
    auto work = [&](synth::ImageEncoder* encoder) {
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        const Item& item = items_[begin + i];
        if (const ImageSpec* spec = SpecOf(item)) {
          status[i] = encoder->Encode(*spec, &(*out)[i]).WithContext(item.member->name);
        }
      }
    };
    std::vector<std::thread> pool;
    const size_t workers = std::min<size_t>(static_cast<size_t>(threads_), n);
    for (size_t t = 1; t < workers; ++t) pool.emplace_back(work, &encoders_[t]);
    work(&encoders_[0]);
    for (std::thread& t : pool) t.join();
    for (const Status& s : status) OIV4KV_RETURN_IF_ERROR(s);
    return Status::OK();
  }

  Status Put(const PlannedSplit& p, const std::string& archive, const Member& m,
             std::vector<uint8_t>* bytes, synth::MemberSink* sink) {
    switch (m.type) {
      case Member::Type::kDirectory:
        record_->bad_members.push_back(archive + ":" + m.name);
        return sink->AddDirectory(m.name);
      case Member::Type::kSymlink:
        record_->bad_members.push_back(archive + ":" + m.name);
        return sink->AddSymlink(m.name, m.target);
      case Member::Type::kExtraFile:
        record_->bad_members.push_back(archive + ":" + m.name);
        return sink->AddFile(m.name, *bytes);
      case Member::Type::kImage:
        break;
    }
    OIV4KV_RETURN_IF_ERROR(sink->AddFile(m.name, *bytes));
    const PlannedImage& img = p.images[m.image];
    SynthImage out;
    out.split = p.split;
    out.image_id = img.id;
    out.archive = archive;
    out.member = m.name;
    out.kind = img.spec.kind;
    out.width = img.spec.width;
    out.height = img.spec.height;
    out.exif_orientation = img.spec.exif_orientation;
    const bool jpeg = out.kind != SynthKind::kPngNamedJpg && out.kind != SynthKind::kNotAnImage;
    out.quality = jpeg ? img.spec.quality : 0;
    out.size = bytes->size();
    if (o_.keep_bytes) out.bytes = *bytes;
    ++record_->num_images[static_cast<int>(p.split)];
    ++record_->num_kind[static_cast<int>(out.kind)];
    record_->images.push_back(std::move(out));
    ++done_;
    return Status::OK();
  }

  const SynthOptions& o_;
  SynthRecord* record_;
  const int threads_;
  const size_t chunk_;
  std::vector<synth::ImageEncoder> encoders_;     // used by one chunk at a time
  std::vector<Item> items_;                       // every member, in writing order
  std::vector<std::vector<uint8_t>> buffers_[2];  // chunk c lives in buffers_[c % 2]
  std::thread background_;  // encodes the next chunk; joined before encoded_ is read
  Status encoded_;          // the outcome of the last chunk encoded
  size_t done_ = 0;
};

uint64_t BytesUnder(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace

Status WriteSynthDownload(const std::string& out_dir, const SynthOptions& options,
                          SynthRecord* record) {
  if (options.images < 3) {
    return Status::InvalidArgument("synth: images must be at least 3 (one per split)");
  }
  if (options.max_side < 16) return Status::InvalidArgument("synth: max_side must be >= 16");
  *record = SynthRecord();
  OIV4KV_RETURN_IF_ERROR(EnsureEmptyDir(out_dir));
  record->vocab = synth::GetSynthClasses().lists;
  OIV4KV_RETURN_IF_ERROR(WriteClassFiles(out_dir));

  // ~5% validation, ~5% test, the rest train; each at least 1.
  const size_t n = options.images;
  const size_t held_out = std::max<size_t>(1, (n + 10) / 20);
  const std::array<size_t, kNumSplits> sizes = {n - 2 * held_out, held_out, held_out};
  Planner planner(options);
  std::vector<PlannedSplit> splits;
  for (Split split : kAllSplits) {
    splits.push_back(planner.Split(split, sizes[static_cast<int>(split)], out_dir));
    if (options.split_subdirs) {
      OIV4KV_RETURN_IF_ERROR(EnsureEmptyDir(splits.back().dir));
    }
  }
  for (PlannedSplit& p : splits) planner.ShuffleMembers(&p);

  OIV4KV_RETURN_IF_ERROR(WriteAnnotations(options, &splits, record));
  ArchiveWriter writer(options, record);
  OIV4KV_RETURN_IF_ERROR(writer.Write(splits, n));
  record->bytes_written = BytesUnder(out_dir);
  return Status::OK();
}

}  // namespace oiv4kv
