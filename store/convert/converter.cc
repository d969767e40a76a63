#include "store/convert/converter.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "oiv4kv/writer.h"
#include "store/convert/annotation_staging.h"
#include "store/convert/archive_reader.h"
#include "store/convert/input_fingerprint.h"
#include "store/convert/source_files.h"
#include "store/core/image_probe.h"
#include "store/convert/transcode.h"
#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/core/writer_internal.h"
#include "store/convert/vocab_files.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

// A chunk of members is read while the previous one is transcoded.
constexpr size_t kChunkBytes = 32 << 20;
constexpr size_t kExamplesPerBatch = 2000;

// Progress keys in the store's meta family.
std::string ArchiveProgressKey(Config c, const std::string& stem) {
  return "archive/" + std::string(ConfigName(c)) + "/" + stem;
}
std::string PresentPrefix(Config c) { return "present/" + std::string(ConfigName(c)) + "/"; }
std::string PresentKey(Config c, Split split, uint64_t id) {
  return PresentPrefix(c) + std::string(KeyView(EncodeKey(split, id)));
}
std::string ProblemPrefix(Config c) { return "problem/" + std::string(ConfigName(c)) + "/"; }
constexpr std::string_view kAnnotationProblemPrefix = "annotations/problem/";
constexpr std::string_view kOrphanRowsKey = "annotations/orphan_rows";
// The fingerprint of each archive the store's images were read from (kept
// after the configs are complete: a later config must read the same ones).
constexpr std::string_view kInputPrefix = "input/";
// The size and hash of each vocabulary last written, to write them only
// when they change.
constexpr std::string_view kVocabulariesKey = "vocabularies";

std::string Fnv64Hex(std::string_view bytes) {
  uint64_t h = kFnv1a64Basis;
  Fnv1a64Mix(&h, bytes.data(), bytes.size());
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}


std::string Stem(const std::string& archive_path) {
  std::string name = fs::path(archive_path).filename().string();
  for (std::string_view ext : {".tar.gz", ".tar"}) {
    if (name.size() > ext.size() && name.ends_with(ext)) return name.substr(0, name.size() - ext.size());
  }
  return name;
}

// "<16 lower-case hex>.jpg" -> id.
bool ParseMemberName(const std::string& member, uint64_t* id) {
  const std::string base = fs::path(member).filename().string();
  if (base.size() != 20 || !base.ends_with(".jpg")) return false;
  uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    const char c = base[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *id = v;
  return true;
}

struct WorkItem {
  std::string where;  // archive:member
  uint64_t id = 0;
  std::vector<uint8_t> bytes;  // input, then output
  ImageMeta meta;
  Status status;
};

struct Chunk {
  std::vector<WorkItem> items;
  std::vector<Problem> rejected;  // by name, type, size or duplicate id
  uint64_t members = 0;           // members consumed, counting skipped ones
  bool end = false;
  Status error;                   // the archive cannot be read further
};

class Conversion {
 public:
  Conversion(const ConvertRequest& r, ProgressMeter* meter, ConvertSummary* summary)
      : r_(r), meter_(meter), summary_(summary),
        threads_(r.threads > 0 ? r.threads : std::max(1u, std::thread::hardware_concurrency())) {}

  Status Run() {
    OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
    OIV4KV_RETURN_IF_ERROR(Writer::Open(r_.store, WriterOptions(), &writer_));
    const Manifest& m = writer_->manifest();
    const bool annotations_done = m.annotations_complete;
    const std::string staging_path = (fs::path(r_.store) / "convert-staging").string();
    if (r_.restart) OIV4KV_RETURN_IF_ERROR(Restart(m, staging_path));
    OIV4KV_RETURN_IF_ERROR(CheckAgainstStore(m));
    if (const ConfigManifest* c = m.FindConfig(r_.config); c != nullptr && c->complete) {
      summary_->already_complete = true;
      summary_->report = c->report;
      return Status::OK();
    }
    OIV4KV_RETURN_IF_ERROR(FindSourceFiles(r_.source, splits_, &files_));
    OIV4KV_RETURN_IF_ERROR(CheckArchives(annotations_done));
    if (!annotations_done) {
      OIV4KV_RETURN_IF_ERROR(AnnotationStaging::Open(staging_path, &staging_));
      OIV4KV_RETURN_IF_ERROR(StageAnnotations());
    }
    OIV4KV_RETURN_IF_ERROR(writer_->BeginConfig(r_.config));
    for (uint32_t t = 0; t < threads_; ++t) transcoders_.push_back(std::make_unique<Transcoder>());
    for (Split split : splits_) OIV4KV_RETURN_IF_ERROR(ConvertArchives(split));
    for (Split split : splits_) {
      summary_->images[static_cast<int>(split)] = images_[static_cast<int>(split)];
    }
    if (!annotations_done) {
      OIV4KV_RETURN_IF_ERROR(WriteExamples());
      summary_->annotations_written = true;
    }
    OIV4KV_RETURN_IF_ERROR(Commit());
    staging_.reset();
    std::error_code ec;
    fs::remove_all(staging_path, ec);
    return Status::OK();
  }

 private:
  // --restart: forgets this config's unfinished conversion.
  Status Restart(const Manifest& m, const std::string& staging_path) {
    if (const ConfigManifest* c = m.FindConfig(r_.config); c != nullptr && c->complete) {
      summary_->refused = true;
      return Status::InvalidArgument(
          r_.store + ": config " + std::string(ConfigName(r_.config)) +
          " is complete; --restart discards only an unfinished conversion (convert into a new "
          "store to convert it again)");
    }
    const std::string config(ConfigName(r_.config));
    std::vector<std::string> prefixes = {PresentPrefix(r_.config), ProblemPrefix(r_.config),
                                         "archive/" + config + "/"};
    if (!m.annotations_complete) {
      // Nothing of the download is committed yet: forget all of it.
      prefixes.push_back(std::string(kInputPrefix));
      prefixes.push_back("annotations/");
      std::error_code ec;
      fs::remove_all(staging_path, ec);
      if (ec) return Status::IOError(staging_path + ": cannot be removed: " + ec.message());
    }
    OIV4KV_RETURN_IF_ERROR(writer_->DiscardUnfinished(r_.config));
    for (const std::string& p : prefixes) OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer_, p));
    return Status::OK();
  }

  // Every archive must be the one the store's images were read from: the
  // archives of a conversion in progress, and all of them once the examples
  // are committed. Refuses (naming the file) before anything is written.
  Status CheckArchives(bool annotations_done) {
    Batch batch;
    for (Split split : splits_) {
      for (const std::string& archive : files_.splits[static_cast<int>(split)].archives) {
        const std::string stem = Stem(archive);
        InputFingerprint now, then;
        OIV4KV_RETURN_IF_ERROR(FingerprintInput(archive, &now));
        std::string recorded, progress;
        const bool known = GetProgress(*writer_, std::string(kInputPrefix) + stem, &recorded).ok() &&
                           InputFingerprint::Decode(recorded, &then);
        const bool started = GetProgress(*writer_, ArchiveProgressKey(r_.config, stem), &progress).ok();
        if (known && (started || annotations_done) && !then.SameContent(now)) {
          const std::string change = DescribeChange(then, now);
          summary_->refused = true;
          if (started) {
            return Status::InvalidArgument(
                "input changed since this conversion started: " + archive +
                " (" + change + ") -- rerun with the original download, or start over with "
                "`oiv4-kv convert ... --restart`");
          }
          return Status::InvalidArgument(
              archive + " is not the archive this store's examples were "
              "converted from (" + change + "): convert config " + std::string(ConfigName(r_.config)) +
              " from the original download, or convert this download into a new store");
        }
        if (!known || (!started && !annotations_done && !(then == now))) {
          OIV4KV_RETURN_IF_ERROR(PutProgress(batch, std::string(kInputPrefix) + stem, now.Encode()));
        }
      }
    }
    return writer_->Write(batch);
  }

  // A later run must agree with what the store already holds.
  Status CheckAgainstStore(const Manifest& m) {
    splits_ = r_.splits;
    if (!m.annotations_complete) return Status::OK();
    const LabelOrder want = r_.label_lists.empty() ? LabelOrder::kDownload : LabelOrder::kTfds;
    if (want != m.label_order) {
      return Status::InvalidArgument(
          r_.store + ": the store's labels are numbered by " +
          std::string(LabelOrderName(m.label_order)) + " order; " +
          (m.label_order == LabelOrder::kTfds ? "pass the same --label-lists"
                                              : "convert without --label-lists"));
    }
    std::vector<Split> held;
    for (Split s : kAllSplits) {
      if (m.num_examples[static_cast<int>(s)]) held.push_back(s);
    }
    std::vector<Split> asked = r_.splits;
    std::sort(asked.begin(), asked.end());
    if (asked != held) {
      return Status::InvalidArgument(r_.store + ": the store holds other splits than --splits asks for; "
                                     "every config converts the store's splits");
    }
    return Status::OK();
  }

  Status StageAnnotations() {
    Vocabularies v;
    if (Status s = LoadVocabularies(files_.class_descriptions, files_.boxable_descriptions,
                                    files_.trainable_list, r_.label_lists, &v);
        !s.ok()) {
      summary_->skip_cannot_help = true;  // class lists are read whole in either mode
      return s;
    }
    // A resumed run writes the vocabularies only when they differ from the
    // ones the store holds (each rewrite would leave another table file).
    const std::pair<VocabKind, const std::vector<VocabEntry>*> vocabs[] = {
        {VocabKind::kAll, &v.all}, {VocabKind::kTrainable, &v.trainable},
        {VocabKind::kBoxable, &v.boxable}, {VocabKind::kSource, &v.source}};
    std::string written;
    for (const auto& [kind, entries] : vocabs) {
      const std::string encoded = EncodeVocabulary(kind, *entries);
      written += std::to_string(encoded.size()) + ":" + Fnv64Hex(encoded) + " ";
    }
    std::string stored;
    if (!GetProgress(*writer_, kVocabulariesKey, &stored).ok() || stored != written) {
      for (const auto& [kind, entries] : vocabs) {
        OIV4KV_RETURN_IF_ERROR(writer_->PutVocabulary(kind, *entries));
      }
      Batch batch;
      OIV4KV_RETURN_IF_ERROR(PutProgress(batch, kVocabulariesKey, written));
      OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
    }
    // Recorded now, so that `info` on an unfinished store tells it.
    OIV4KV_RETURN_IF_ERROR(writer_->SetLabelOrder(v.order));
    label_order_ = v.order;
    // An interrupted run may have staged rows under other label numbers
    // (another --label-lists): they are staged again.
    uint64_t signature = 0xcbf29ce484222325ULL;
    for (const auto* list : {&v.all, &v.boxable}) {
      for (const VocabEntry& e : *list) {
        for (char c : e.mid + "\n") signature = (signature ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
      }
    }
    OIV4KV_RETURN_IF_ERROR(staging_->UseVocabulary(signature));
    const Vocabulary trainable(v.trainable);
    all_ = Vocabulary(std::move(v.all));
    boxable_ = Vocabulary(std::move(v.boxable));
    trainable_of_all_.assign(all_.size(), -1);
    for (size_t i = 0; i < all_.size(); ++i) {
      if (auto t = trainable.Find(all_.mid(i))) trainable_of_all_[i] = static_cast<int32_t>(*t);
    }
    for (Split split : splits_) {
      const SplitSources& s = files_.splits[static_cast<int>(split)];
      for (auto [file, path] : {std::pair{RowFile::kHuman, s.human_csv},
                                std::pair{RowFile::kMachine, s.machine_csv},
                                std::pair{RowFile::kBoxes, s.bbox_csv}}) {
        const std::string name = fs::path(path).filename().string();
        OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
        InputFingerprint fingerprint;
        OIV4KV_RETURN_IF_ERROR(FingerprintInput(path, &fingerprint));
        std::error_code ec;
        if (meter_) meter_->Start("staging " + name, "rows", fs::file_size(path, ec));
        const Status staged = staging_->StageFile(
            split, file, path, fingerprint.Encode(), all_, boxable_, r_.skip_bad_inputs,
            [&](uint64_t rows, uint64_t bytes, uint64_t) {
              if (meter_) meter_->Update(rows, bytes, name);
            });
        if (IsFileEndingError(staged)) summary_->skip_cannot_help = true;
        OIV4KV_RETURN_IF_ERROR(staged);
        if (meter_) meter_->Finish();
      }
    }
    return Status::OK();
  }

  // Reads the next chunk of `reader`'s members, checking names, types, sizes
  // and duplicate ids; `pending` holds the ids of the chunk in flight.
  Chunk ReadChunk(ArchiveReader* reader, Split split, const std::string& stem,
                  const std::string& archive_name,
                  const std::unordered_map<uint64_t, std::string>& pending) {
    Chunk chunk;
    size_t bytes = 0;
    std::unordered_map<uint64_t, std::string> here;
    while (chunk.items.size() < std::max<uint32_t>(r_.chunk_images, 1) && bytes < kChunkBytes) {
      ArchiveMember m;
      bool eof = false;
      Status s = reader->Next(&m, &eof);
      if (eof) {
        chunk.end = true;
        break;
      }
      if (!s.ok() && !s.IsInvalidArgument()) {
        chunk.error = s;
        break;
      }
      ++chunk.members;
      const std::string where = archive_name + ":" + m.name;
      if (!s.ok()) {
        chunk.rejected.push_back({where, "larger than the member size limit"});
        continue;
      }
      uint64_t id = 0;
      if (m.directory && !m.name.ends_with(".jpg/")) continue;  // a tar's folder entry
      if (!m.regular) {
        chunk.rejected.push_back({where, m.directory ? "a folder, not an image file"
                                                     : "not a regular file (link or device)"});
        continue;
      }
      if (!ParseMemberName(m.name, &id)) {
        chunk.rejected.push_back({where, "name is not <16 hex digits>.jpg"});
        continue;
      }
      // The download files each train id under the archive of its leading
      // hex digit; a copy elsewhere is not the image.
      if (split == Split::kTrain && stem.size() == 7 && ImageIdHex(id)[0] != stem[6]) {
        chunk.rejected.push_back({where, "image id " + ImageIdHex(id) + " belongs in train_" +
                                             ImageIdHex(id)[0] + ", not " + stem});
        continue;
      }
      std::string first;
      if (auto it = here.find(id); it != here.end()) first = it->second;
      else if (auto it = pending.find(id); it != pending.end()) first = it->second;
      else if (!GetProgress(*writer_, PresentKey(r_.config, split, id), &first).ok()) first.clear();
      if (!first.empty()) {
        chunk.rejected.push_back({where, "duplicate image id " + ImageIdHex(id) + " (first in " + first + ")"});
        continue;
      }
      here[id] = where;
      bytes += m.bytes.size();
      chunk.items.push_back({where, id, std::move(m.bytes), {}, Status::OK()});
    }
    return chunk;
  }

  void Process(WorkItem* item, Transcoder* transcoder) {
    if (r_.config == Config::kOriginal) {
      ImageProbe probe;
      item->status = ProbeImage(item->bytes, r_.max_pixels, &probe);
      item->meta = {probe.width, probe.height, probe.format};
      return;
    }
    TranscodeOptions options;
    options.target_pixels = TargetPixels(r_.config);
    options.max_pixels = r_.max_pixels;
    TranscodeResult out;
    item->status = transcoder->Transcode(item->bytes, options, &out);
    if (!item->status.ok()) return;
    item->bytes = std::move(out.jpeg);
    item->meta = {out.width, out.height, ImageFormat::kJpeg};
  }

  // Transcodes `chunk` with transcoders [first, first + count).
  void ProcessAll(Chunk* chunk, size_t first, size_t count) {
    std::atomic<size_t> next{0};
    auto work = [&](size_t t) {
      for (size_t i; (i = next++) < chunk->items.size();) Process(&chunk->items[i], transcoders_[t].get());
    };
    std::vector<std::thread> pool;
    for (size_t t = first + 1; t < first + count; ++t) pool.emplace_back(work, t);
    work(first);
    for (auto& th : pool) th.join();
  }

  // Writes a processed chunk with the progress it makes, atomically.
  Status WriteChunk(Split split, const std::string& stem, Chunk* chunk, uint64_t members_done,
                    bool archive_done) {
    Batch batch;
    for (Problem& p : chunk->rejected) {
      OIV4KV_RETURN_IF_ERROR(Reject(p, &batch));
    }
    for (WorkItem& item : chunk->items) {
      if (!item.status.ok()) {
        Problem p{item.where, item.status.message()};
        OIV4KV_RETURN_IF_ERROR(Reject(p, &batch));
        continue;
      }
      // An image the batch refuses (a size its header cannot have) is a
      // bad input like any other.
      if (Status s = batch.AddImage(r_.config, split, item.id, item.bytes, item.meta); !s.ok()) {
        OIV4KV_RETURN_IF_ERROR(Reject(Problem{item.where, s.message()}, &batch));
        continue;
      }
      OIV4KV_RETURN_IF_ERROR(
          PutProgress(batch, PresentKey(r_.config, split, item.id), item.where));
      ++images_[static_cast<int>(split)];
    }
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, ArchiveProgressKey(r_.config, stem),
                                             archive_done ? "done" : std::to_string(members_done)));
    OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
    return writer_->Write(batch);
  }

  // Records a bad input, or fails the run with it under --on-error fail.
  Status Reject(const Problem& p, Batch* batch) {
    if (!r_.skip_bad_inputs) {
      // The chunk is all or nothing; earlier chunks are committed.
      return Status::InvalidArgument(p.where + ": " + p.reason);
    }
    return PutProgress(*batch, ProblemPrefix(r_.config) + p.where, p.reason);
  }

  // Converts the archives of `split`, several at once, each with its share
  // of the transcoders. Train archives never share an id (the digit rule in
  // ReadChunk), so concurrent archives cannot hide a duplicate from each other.
  Status ConvertArchives(Split split) {
    const std::vector<std::string>& archives = files_.splits[static_cast<int>(split)].archives;
    const uint32_t wanted = r_.archive_readers > 0 ? r_.archive_readers : std::max(1u, threads_ / 4);
    // Each reader gets its own slice of the transcoders: never more readers
    // than transcoders.
    const size_t readers = std::clamp<size_t>(wanted, 1, std::max<size_t>(1, std::min<size_t>(archives.size(), threads_)));
    const size_t workers = threads_ / readers;
    uint64_t total = 0;
    for (const std::string& a : archives) {
      std::error_code ec;
      if (fs::is_directory(a, ec)) {
        for (const auto& e : fs::recursive_directory_iterator(a, ec)) total += e.is_regular_file(ec) ? e.file_size(ec) : 0;
      } else {
        total += fs::file_size(a, ec);
      }
    }
    if (meter_) meter_->Start(std::string(ConfigName(r_.config)) + " " + std::string(SplitName(split)), "images", total);
    progress_images_ = progress_bytes_ = 0;
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    Status first_error;
    std::mutex error_mu;
    auto run = [&](size_t k) {
      for (size_t i; !stop && (i = next++) < archives.size();) {
        Status s = ConvertArchive(split, archives[i], k * workers, workers);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.ok()) first_error = s;
          stop = true;
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t k = 1; k < readers; ++k) pool.emplace_back(run, k);
    run(0);
    for (auto& th : pool) th.join();
    if (meter_) meter_->Finish();
    return first_error;
  }

  // Adds one chunk's images and archive bytes to the split's progress line.
  void ReportProgress(uint64_t images, uint64_t bytes, const std::string& archive) {
    std::lock_guard<std::mutex> lock(meter_mu_);
    progress_images_ += images;
    progress_bytes_ += bytes;
    if (meter_) meter_->Update(progress_images_, progress_bytes_, archive);
  }

  Status ConvertArchive(Split split, const std::string& archive, size_t first_transcoder,
                        size_t transcoders) {
    const std::string stem = Stem(archive);
    const std::string name = fs::path(archive).filename().string();
    std::string progress;
    uint64_t skip = 0;
    if (GetProgress(*writer_, ArchiveProgressKey(r_.config, stem), &progress).ok()) {
      if (progress == "done") return Status::OK();
      skip = std::stoull(progress);
    }
    std::unique_ptr<ArchiveReader> reader;
    Status readable = ArchiveReader::Open(archive, r_.max_member_bytes, &reader);
    // Members committed by an interrupted run are read past, not redone.
    for (uint64_t i = 0; readable.ok() && i < skip; ++i) {
      bool eof = false;
      readable = reader->Skip(&eof);
      if (eof) break;
    }
    if (!readable.ok()) {
      // An archive that cannot be opened (truncated early) follows the rule
      // of one that breaks midway: left out with a report, or the run stops.
      Chunk failed;
      failed.error = readable;
      return WriteBrokenArchive(split, stem, name, &failed, skip);
    }
    uint64_t members = skip, reported_bytes = 0;
    std::unordered_map<uint64_t, std::string> pending;
    Chunk current = ReadChunk(reader.get(), split, stem, name, pending);
    while (true) {
      members += current.members;
      pending.clear();
      for (const WorkItem& item : current.items) pending[item.id] = item.where;
      const bool last = current.end || !current.error.ok();
      std::future<Chunk> next;
      if (!last) {
        next = std::async(std::launch::async, [&] { return ReadChunk(reader.get(), split, stem, name, pending); });
      }
      ProcessAll(&current, first_transcoder, transcoders);
      if (!current.error.ok()) return WriteBrokenArchive(split, stem, name, &current, members);
      OIV4KV_RETURN_IF_ERROR(WriteChunk(split, stem, &current, members, last));
      const uint64_t consumed = reader->bytes_consumed();
      ReportProgress(current.items.size(), consumed - std::min(consumed, reported_bytes), name);
      reported_bytes = consumed;
      if (last) break;
      current = next.get();
    }
    return Status::OK();
  }

  // Writes the last chunk of an archive that cannot be read past `members`:
  // under --on-error skip the archive is reported and done, else the chunk's
  // images are kept and the run stops naming the archive.
  Status WriteBrokenArchive(Split split, const std::string& stem, const std::string& name,
                            Chunk* chunk, uint64_t members) {
    Problem p{name, "archive unreadable after " + std::to_string(members) + " members: " +
                        chunk->error.message()};
    if (!r_.skip_bad_inputs) {
      OIV4KV_RETURN_IF_ERROR(WriteChunk(split, stem, chunk, members, false));
      return Status::Corruption(p.where + ": " + p.reason);
    }
    chunk->rejected.push_back(p);
    return WriteChunk(split, stem, chunk, members, true);
  }

  Status PresentIds(Split split, std::vector<uint64_t>* ids) {
    const std::string prefix = PresentPrefix(r_.config) + std::string(1, static_cast<char>(split));
    ids->clear();
    return ScanProgress(*writer_, prefix, [&](std::string_view key, std::string_view) {
      Split s;
      uint64_t id;
      if (DecodeKey(key.substr(PresentPrefix(r_.config).size()), &s, &id)) ids->push_back(id);
      return true;
    });
  }

  Status WriteExamples() {
    uint64_t orphans = 0;
    for (Split split : splits_) {
      std::vector<uint64_t> ids;
      OIV4KV_RETURN_IF_ERROR(PresentIds(split, &ids));
      if (meter_) meter_->Start("examples " + std::string(SplitName(split)), "examples", 0);
      Batch batch;
      uint64_t done = 0, split_orphans = 0;
      OIV4KV_RETURN_IF_ERROR(staging_->Assemble(
          split, ids, trainable_of_all_,
          [&](const ExampleData& e) -> Status {
            OIV4KV_RETURN_IF_ERROR(batch.AddExample(e));
            ++done;
            if (batch.Count() >= kExamplesPerBatch) {
              OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
              batch.Clear();
              if (meter_) meter_->Update(done, 0, "");
            }
            return Status::OK();
          },
          &split_orphans));
      orphans += split_orphans;
      OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
      if (meter_) {
        meter_->Update(done, 0, "");
        meter_->Finish();
      }
    }
    // The annotation report is kept for the configs converted later.
    std::vector<Problem> problems;
    OIV4KV_RETURN_IF_ERROR(staging_->Problems(&problems));
    Batch batch;
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, kOrphanRowsKey, std::to_string(orphans)));
    for (size_t i = 0; i < problems.size(); ++i) {
      char index[24];
      std::snprintf(index, sizeof(index), "%012zu", i);
      OIV4KV_RETURN_IF_ERROR(PutProgress(batch, std::string(kAnnotationProblemPrefix) + index,
                                               problems[i].where + "\t" + problems[i].reason));
    }
    OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
    return writer_->CommitAnnotations(label_order_, splits_);
  }

  Status Commit() {
    ConfigCommit commit;
    commit.options = {r_.source, threads_,
                      r_.skip_bad_inputs ? ErrorPolicy::kSkip : ErrorPolicy::kFail,
                      r_.max_pixels, r_.label_lists};
    ConversionReport& report = commit.report;
    std::string orphans;
    if (GetProgress(*writer_, kOrphanRowsKey, &orphans).ok()) {
      report.orphan_annotation_rows = std::stoull(orphans);
    }
    OIV4KV_RETURN_IF_ERROR(ScanProgress(
        *writer_, kAnnotationProblemPrefix, [&](std::string_view, std::string_view v) {
          const size_t tab = v.find('\t');
          report.problems.push_back({std::string(v.substr(0, tab)),
                                     tab == std::string_view::npos ? "" : std::string(v.substr(tab + 1))});
          return true;
        }));
    const std::string prefix = ProblemPrefix(r_.config);
    OIV4KV_RETURN_IF_ERROR(ScanProgress(*writer_, prefix, [&](std::string_view k, std::string_view v) {
      report.problems.push_back({std::string(k.substr(prefix.size())), std::string(v)});
      return true;
    }));
    OIV4KV_RETURN_IF_ERROR(CommitConfig(*writer_, r_.config, commit));
    summary_->report = report;
    // The run's own bookkeeping is no longer needed once the config is complete.
    for (const std::string& p : {PresentPrefix(r_.config), ProblemPrefix(r_.config),
                                 "archive/" + std::string(ConfigName(r_.config)) + "/"}) {
      OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer_, p));
    }
    return Status::OK();
  }

  const ConvertRequest& r_;
  ProgressMeter* meter_;
  ConvertSummary* summary_;
  uint32_t threads_;
  std::vector<Split> splits_;
  SourceFiles files_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<AnnotationStaging> staging_;
  std::vector<std::unique_ptr<Transcoder>> transcoders_;  // one per thread
  std::array<std::atomic<uint64_t>, kNumSplits> images_{};  // stored by this run
  std::mutex meter_mu_;  // guards the meter and the progress below
  uint64_t progress_images_ = 0, progress_bytes_ = 0;
  Vocabulary all_, boxable_;
  std::vector<int32_t> trainable_of_all_;
  LabelOrder label_order_ = LabelOrder::kDownload;
};

}  // namespace

bool IsNoSpace(const Status& s) {
  return !s.ok() && s.code() == Status::Code::kIOError &&
         (s.message().find("No space left on device") != std::string::npos ||
          s.message().find("No space available") != std::string::npos);
}

Status CheckFreeSpace(const std::string& path, uint64_t min_free_bytes) {
  fs::path at = fs::absolute(path);
  std::error_code ec;
  while (!fs::exists(at, ec) && at.has_parent_path() && at.parent_path() != at) at = at.parent_path();
  struct statvfs st;
  if (::statvfs(at.c_str(), &st) != 0) return Status::OK();  // unknown: RocksDB will tell
  const uint64_t free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free >= min_free_bytes) return Status::OK();
  return Status::IOError("No space left on device: " + path + " (" + std::to_string(free >> 20) +
                         " MiB free, the conversion needs at least " +
                         std::to_string(min_free_bytes >> 20) + " MiB)");
}

std::string ConvertFailureAdvice(const Status& s, const ConvertSummary& summary) {
  if (summary.refused) return "";
  if (IsNoSpace(s)) {
    return "(everything written before this point is kept; free space on the store's disk and "
           "run the same command again to resume)";
  }
  if (s.code() != Status::Code::kInvalidArgument && s.code() != Status::Code::kCorruption) {
    return "(everything written before this point is kept; run the same command again to resume "
           "once the cause is fixed)";
  }
  if (summary.skip_cannot_help) {
    return "(everything written before this point is kept; fix the input and run the same "
           "command again to resume)";
  }
  return "(everything written before this point is kept; fix the input, or pass "
         "--on-error skip, and run the same command again to resume)";
}

Status Convert(const ConvertRequest& request, ProgressMeter* meter, ConvertSummary* summary) {
  *summary = ConvertSummary();
  Status s = Conversion(request, meter, summary).Run();
  if (request.skip_bad_inputs) summary->skip_cannot_help = true;
  if (IsNoSpace(s) && !s.message().starts_with("No space left on device")) {
    return Status::IOError("No space left on device: " + request.store + " (" + s.message() + ")");
  }
  return s;
}

}  // namespace oiv4kv
