#include "store/synth/synth_archives.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "store/synth/member_sink.h"
#include "store/synth/synth_image.h"

namespace oiv4kv::synth {
namespace {

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
        std::unique_ptr<MemberSink> sink;
        OIV4KV_RETURN_IF_ERROR(MemberSink::Open(o_.archives, p.dir, a.file, &sink));
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
    auto work = [&](ImageEncoder* encoder) {
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
             std::vector<uint8_t>* bytes, MemberSink* sink) {
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
  std::vector<ImageEncoder> encoders_;     // used by one chunk at a time
  std::vector<Item> items_;                       // every member, in writing order
  std::vector<std::vector<uint8_t>> buffers_[2];  // chunk c lives in buffers_[c % 2]
  std::thread background_;  // encodes the next chunk; joined before encoded_ is read
  Status encoded_;          // the outcome of the last chunk encoded
  size_t done_ = 0;
};

}  // namespace

Status WriteArchives(const SynthOptions& options, const std::vector<PlannedSplit>& splits,
                     size_t total_images, SynthRecord* record) {
  ArchiveWriter writer(options, record);
  return writer.Write(splits, total_images);
}

}  // namespace oiv4kv::synth
