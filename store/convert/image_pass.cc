#include "store/convert/image_pass.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>
#include <unordered_map>

#include "store/convert/resume_keys.h"
#include "store/core/image_probe.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

// A chunk of members is read while the previous one is transcoded.
constexpr size_t kChunkBytes = 32 << 20;

}  // namespace

ImagePass::ImagePass(const ConvertRequest& request, const SourceFiles& files, uint32_t threads,
                     Writer* writer, ProgressMeter* meter)
    : r_(request), files_(files), threads_(threads), writer_(writer), meter_(meter) {
  for (uint32_t t = 0; t < threads_; ++t) transcoders_.push_back(std::make_unique<Transcoder>());
}

Chunk ImagePass::ReadNext(ArchiveReader* reader, Split split, const std::string& stem,
                          const std::string& archive_name,
                          const std::unordered_map<uint64_t, std::string>& pending) {
  return ReadChunk(reader, split, stem, archive_name, std::max<uint32_t>(r_.chunk_images, 1),
                   kChunkBytes, pending, [&](uint64_t id) {
                     std::string first;
                     if (!GetProgress(*writer_, PresentKey(r_.config, split, id), &first).ok()) {
                       first.clear();
                     }
                     return first;
                   });
}

void ImagePass::Process(WorkItem* item, Transcoder* transcoder) {
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
void ImagePass::ProcessAll(Chunk* chunk, size_t first, size_t count) {
  std::atomic<size_t> next{0};
  auto work = [&](size_t t) {
    for (size_t i; (i = next++) < chunk->items.size();) {
      Process(&chunk->items[i], transcoders_[t].get());
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = first + 1; t < first + count; ++t) pool.emplace_back(work, t);
  work(first);
  for (auto& th : pool) th.join();
}

// Writes a processed chunk with the progress it makes, atomically.
Status ImagePass::WriteChunk(Split split, const std::string& stem, Chunk* chunk,
                             uint64_t members_done, bool archive_done) {
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
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, PresentKey(r_.config, split, item.id), item.where));
    ++images_[static_cast<int>(split)];
  }
  OIV4KV_RETURN_IF_ERROR(PutProgress(batch, ArchiveProgressKey(r_.config, stem),
                                     archive_done ? "done" : std::to_string(members_done)));
  OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
  OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
  KillPoint("chunk");
  return Status::OK();
}

// Records a bad input, or fails the run with it under --on-error fail.
Status ImagePass::Reject(const Problem& p, Batch* batch) {
  if (!r_.skip_bad_inputs) {
    // The chunk is all or nothing; earlier chunks are committed.
    return Status::InvalidArgument(p.where + ": " + p.reason);
  }
  return PutProgress(*batch, ProblemPrefix(r_.config) + p.where, p.reason);
}

Status ImagePass::ConvertArchives(Split split) {
  const std::vector<std::string>& archives = files_.splits[static_cast<int>(split)].archives;
  const uint32_t wanted =
      r_.archive_readers > 0 ? r_.archive_readers : std::max(1u, threads_ / 4);
  // Each reader gets its own slice of the transcoders: never more readers
  // than transcoders.
  const size_t readers = std::clamp<size_t>(
      wanted, 1, std::max<size_t>(1, std::min<size_t>(archives.size(), threads_)));
  const size_t workers = threads_ / readers;
  uint64_t total = 0;
  for (const std::string& a : archives) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(a, ec)) {
        total += e.is_regular_file(ec) ? e.file_size(ec) : 0;
      }
    } else {
      total += fs::file_size(a, ec);
    }
  }
  if (meter_) {
    meter_->Start(std::string(ConfigName(r_.config)) + " " + std::string(SplitName(split)),
                  "images", total);
  }
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
void ImagePass::ReportProgress(uint64_t images, uint64_t bytes, const std::string& archive) {
  std::lock_guard<std::mutex> lock(meter_mu_);
  progress_images_ += images;
  progress_bytes_ += bytes;
  if (meter_) meter_->Update(progress_images_, progress_bytes_, archive);
}

Status ImagePass::ConvertArchive(Split split, const std::string& archive,
                                 size_t first_transcoder, size_t transcoders) {
  const std::string stem = ArchiveStem(archive);
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
  Chunk current = ReadNext(reader.get(), split, stem, name, pending);
  while (true) {
    members += current.members;
    pending.clear();
    for (const WorkItem& item : current.items) pending[item.id] = item.where;
    const bool last = current.end || !current.error.ok();
    std::future<Chunk> next;
    if (!last) {
      next = std::async(std::launch::async,
                        [&] { return ReadNext(reader.get(), split, stem, name, pending); });
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
Status ImagePass::WriteBrokenArchive(Split split, const std::string& stem,
                                     const std::string& name, Chunk* chunk, uint64_t members) {
  Problem p{name, "archive unreadable after " + std::to_string(members) + " members: " +
                      chunk->error.message()};
  if (!r_.skip_bad_inputs) {
    OIV4KV_RETURN_IF_ERROR(WriteChunk(split, stem, chunk, members, false));
    return Status::Corruption(p.where + ": " + p.reason);
  }
  chunk->rejected.push_back(p);
  return WriteChunk(split, stem, chunk, members, true);
}

}  // namespace oiv4kv
