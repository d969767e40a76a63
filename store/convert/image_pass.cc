#include "store/convert/image_pass.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
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

// "300k,200k" for the meter.
std::string ConfigList(const std::vector<Config>& configs) {
  std::string out;
  for (Config c : configs) out += (out.empty() ? "" : ",") + std::string(ConfigName(c));
  return out;
}

}  // namespace

ImagePass::ImagePass(const ConvertRequest& request, const std::vector<Config>& configs,
                     const SourceFiles& files, uint32_t threads, Writer* writer,
                     ProgressMeter* meter)
    : r_(request), configs_(configs), files_(files), threads_(threads), writer_(writer),
      meter_(meter) {
  for (uint32_t t = 0; t < threads_; ++t) transcoders_.push_back(std::make_unique<Transcoder>());
}

Chunk ImagePass::ReadNext(ArchiveReader* reader, Split split, const std::vector<Config>& group,
                          const std::string& stem, const std::string& archive_name,
                          const std::unordered_map<uint64_t, std::string>& pending) {
  return ReadChunk(reader, split, stem, archive_name, std::max<uint32_t>(r_.chunk_images, 1),
                   kChunkBytes, pending, [&](uint64_t id) {
                     std::string first;
                     for (Config c : group) {
                       if (GetProgress(*writer_, PresentKey(c, split, id), &first).ok()) {
                         return first;
                       }
                     }
                     return std::string();
                   });
}

// Probes the image for original and transcodes it for the resized configs
// of `group`, decoding it once for all of them.
void ImagePass::Process(WorkItem* item, const std::vector<Config>& group,
                        Transcoder* transcoder) {
  item->outputs.assign(group.size(), ImageOutput());
  std::vector<TranscodeOptions> options;
  std::vector<size_t> resized;  // index in `group` of each of `options`
  bool keeps_input = false;
  for (size_t k = 0; k < group.size(); ++k) {
    ImageOutput& out = item->outputs[k];
    if (group[k] == Config::kOriginal) {
      ImageProbe probe;
      out.status = ProbeImage(item->bytes, r_.max_pixels, &probe);
      out.meta = {probe.width, probe.height, probe.format};
      keeps_input = true;
      continue;
    }
    TranscodeOptions o;
    o.target_pixels = TargetPixels(group[k]);
    o.max_pixels = r_.max_pixels;
    options.push_back(o);
    resized.push_back(k);
  }
  if (options.empty()) return;
  std::vector<TranscodeResult> results;
  std::vector<Status> status;
  transcoder->TranscodeEach(item->bytes, options, &results, &status);
  for (size_t j = 0; j < options.size(); ++j) {
    ImageOutput& out = item->outputs[resized[j]];
    out.status = std::move(status[j]);
    if (!out.status.ok()) continue;
    out.bytes = std::move(results[j].jpeg);
    out.meta = {results[j].width, results[j].height, ImageFormat::kJpeg};
  }
  if (!keeps_input) std::vector<uint8_t>().swap(item->bytes);
}

// Transcodes `chunk` for `group` with transcoders [first, first + count).
void ImagePass::ProcessAll(Chunk* chunk, const std::vector<Config>& group, size_t first,
                           size_t count) {
  std::atomic<size_t> next{0};
  auto work = [&](size_t t) {
    for (size_t i; (i = next++) < chunk->items.size();) {
      Process(&chunk->items[i], group, transcoders_[t].get());
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = first + 1; t < first + count; ++t) pool.emplace_back(work, t);
  work(first);
  for (auto& th : pool) th.join();
}

// Writes a processed chunk, for every config of `group`, with the progress
// it makes, atomically.
Status ImagePass::WriteChunk(Split split, const std::vector<Config>& group,
                             const std::string& stem, Chunk* chunk, uint64_t members_done,
                             bool archive_done) {
  Batch batch;
  std::array<uint64_t, kNumConfigs> stored{};
  for (size_t k = 0; k < group.size(); ++k) {
    const Config config = group[k];
    for (Problem& p : chunk->rejected) {
      OIV4KV_RETURN_IF_ERROR(Reject(p, config, &batch));
    }
    for (WorkItem& item : chunk->items) {
      const ImageOutput& out = item.outputs[k];
      if (!out.status.ok()) {
        OIV4KV_RETURN_IF_ERROR(Reject(Problem{item.where, out.status.message()}, config, &batch));
        continue;
      }
      // An image the batch refuses (a size its header cannot have) is a
      // bad input like any other.
      const std::vector<uint8_t>& bytes = config == Config::kOriginal ? item.bytes : out.bytes;
      if (Status s = batch.AddImage(config, split, item.id, bytes, out.meta); !s.ok()) {
        OIV4KV_RETURN_IF_ERROR(Reject(Problem{item.where, s.message()}, config, &batch));
        continue;
      }
      OIV4KV_RETURN_IF_ERROR(PutProgress(batch, PresentKey(config, split, item.id), item.where));
      ++stored[static_cast<int>(config)];
    }
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, ArchiveProgressKey(config, stem),
                                       archive_done ? "done" : std::to_string(members_done)));
  }
  OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
  OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
  for (Config c : group) images_[static_cast<int>(c)][static_cast<int>(split)] += stored[static_cast<int>(c)];
  KillPoint("chunk");
  return Status::OK();
}

// Records a bad input of `config`, or fails the run with it under
// --on-error fail.
Status ImagePass::Reject(const Problem& p, Config config, Batch* batch) {
  if (!r_.skip_bad_inputs) {
    // The chunk is all or nothing; earlier chunks are committed.
    return Status::InvalidArgument(p.where + ": " + p.reason);
  }
  return PutProgress(*batch, ProblemPrefix(config) + p.where, p.reason);
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
    meter_->Start(ConfigList(configs_) + " " + std::string(SplitName(split)),
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
  // The configs of one pass are written together, so they have the same
  // members done; earlier runs of single configs may have stopped at other
  // points: the archive is then read once per point, fewest done first.
  std::map<uint64_t, std::vector<Config>> groups;
  for (Config c : configs_) {
    std::string progress;
    uint64_t skip = 0;
    if (GetProgress(*writer_, ArchiveProgressKey(c, stem), &progress).ok()) {
      if (progress == "done") continue;
      skip = std::stoull(progress);
    }
    groups[skip].push_back(c);
  }
  for (const auto& [skip, group] : groups) {
    OIV4KV_RETURN_IF_ERROR(
        ConvertArchiveFor(split, archive, group, skip, first_transcoder, transcoders));
  }
  return Status::OK();
}

Status ImagePass::ConvertArchiveFor(Split split, const std::string& archive,
                                    const std::vector<Config>& group, uint64_t skip,
                                    size_t first_transcoder, size_t transcoders) {
  const std::string stem = ArchiveStem(archive);
  const std::string name = fs::path(archive).filename().string();
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
    return WriteBrokenArchive(split, group, stem, name, &failed, skip);
  }
  uint64_t members = skip, reported_bytes = 0;
  std::unordered_map<uint64_t, std::string> pending;
  Chunk current = ReadNext(reader.get(), split, group, stem, name, pending);
  while (true) {
    members += current.members;
    pending.clear();
    for (const WorkItem& item : current.items) pending[item.id] = item.where;
    const bool last = current.end || !current.error.ok();
    std::future<Chunk> next;
    if (!last) {
      next = std::async(std::launch::async,
                        [&] { return ReadNext(reader.get(), split, group, stem, name, pending); });
    }
    ProcessAll(&current, group, first_transcoder, transcoders);
    if (!current.error.ok()) {
      return WriteBrokenArchive(split, group, stem, name, &current, members);
    }
    OIV4KV_RETURN_IF_ERROR(WriteChunk(split, group, stem, &current, members, last));
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
Status ImagePass::WriteBrokenArchive(Split split, const std::vector<Config>& group,
                                     const std::string& stem, const std::string& name,
                                     Chunk* chunk, uint64_t members) {
  Problem p{name, "archive unreadable after " + std::to_string(members) + " members: " +
                      chunk->error.message()};
  if (!r_.skip_bad_inputs) {
    OIV4KV_RETURN_IF_ERROR(WriteChunk(split, group, stem, chunk, members, false));
    return Status::Corruption(p.where + ": " + p.reason);
  }
  chunk->rejected.push_back(p);
  return WriteChunk(split, group, stem, chunk, members, true);
}

}  // namespace oiv4kv
