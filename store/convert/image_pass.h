// The image half of a conversion: the archives of a split are read in
// chunks (several archives at once), their images probed (original) or
// transcoded (300k, 200k) on a thread pool while the next chunk is read, and
// each chunk written atomically with the progress it makes, so a killed run
// resumes after the last chunk written.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"
#include "store/convert/converter.h"
#include "store/convert/image_chunks.h"
#include "store/convert/source_files.h"
#include "store/convert/transcode.h"

namespace oiv4kv {

class ImagePass {
 public:
  // Converts `files`' archives as `request` says with `threads` transcoders,
  // into `writer`; `meter` may be null.
  ImagePass(const ConvertRequest& request, const SourceFiles& files, uint32_t threads,
            Writer* writer, ProgressMeter* meter);

  // Converts the archives of `split`, several at once, each with its share
  // of the transcoders. Train archives never share an id (the digit rule of
  // ReadChunk), so concurrent archives cannot hide a duplicate from each other.
  Status ConvertArchives(Split split);

  // Images of `split` stored by this run.
  uint64_t images(Split split) const { return images_[static_cast<int>(split)]; }

 private:
  Status ConvertArchive(Split split, const std::string& archive, size_t first_transcoder,
                        size_t transcoders);
  Chunk ReadNext(ArchiveReader* reader, Split split, const std::string& stem,
                 const std::string& archive_name,
                 const std::unordered_map<uint64_t, std::string>& pending);
  void Process(WorkItem* item, Transcoder* transcoder);
  void ProcessAll(Chunk* chunk, size_t first, size_t count);
  Status WriteChunk(Split split, const std::string& stem, Chunk* chunk, uint64_t members_done,
                    bool archive_done);
  Status WriteBrokenArchive(Split split, const std::string& stem, const std::string& name,
                            Chunk* chunk, uint64_t members);
  Status Reject(const Problem& p, Batch* batch);
  void ReportProgress(uint64_t images, uint64_t bytes, const std::string& archive);

  const ConvertRequest& r_;
  const SourceFiles& files_;
  const uint32_t threads_;
  Writer* writer_;
  ProgressMeter* meter_;
  std::vector<std::unique_ptr<Transcoder>> transcoders_;  // one per thread
  std::array<std::atomic<uint64_t>, kNumSplits> images_{};
  std::mutex meter_mu_;  // guards the meter and the progress below
  uint64_t progress_images_ = 0, progress_bytes_ = 0;
};

}  // namespace oiv4kv
