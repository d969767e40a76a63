// The image half of a conversion: the archives of a split are read in
// chunks (several archives at once), their images probed (original) or
// transcoded (300k, 200k) on a thread pool while the next chunk is read, and
// each chunk written atomically with the progress it makes, so a killed run
// resumes after the last chunk written. One pass writes several configs:
// each archive is read once and each image decoded once for all of them.
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
  // Converts `files`' archives as `request` says into each of `configs`
  // (begun, not complete) with `threads` transcoders, into `writer`; `meter`
  // may be null.
  ImagePass(const ConvertRequest& request, const std::vector<Config>& configs,
            const SourceFiles& files, uint32_t threads, Writer* writer, ProgressMeter* meter);

  // Converts the archives of `split`, several at once, each with its share
  // of the transcoders. Train archives never share an id (the digit rule of
  // ReadChunk), so concurrent archives cannot hide a duplicate from each other.
  Status ConvertArchives(Split split);

  // Images of `split` stored in `config` by this run.
  uint64_t images(Config config, Split split) const {
    return images_[static_cast<int>(config)][static_cast<int>(split)];
  }

 private:
  Status ConvertArchive(Split split, const std::string& archive, size_t first_transcoder,
                        size_t transcoders);
  // The archive for the `group` of configs that have `skip` members of it
  // done (all of them, unless earlier runs stopped at different points).
  Status ConvertArchiveFor(Split split, const std::string& archive,
                           const std::vector<Config>& group, uint64_t skip,
                           size_t first_transcoder, size_t transcoders);
  Chunk ReadNext(ArchiveReader* reader, Split split, const std::vector<Config>& group,
                 const std::string& stem, const std::string& archive_name,
                 const std::unordered_map<uint64_t, std::string>& pending);
  void Process(WorkItem* item, const std::vector<Config>& group, Transcoder* transcoder);
  void ProcessAll(Chunk* chunk, const std::vector<Config>& group, size_t first, size_t count);
  Status WriteChunk(Split split, const std::vector<Config>& group, const std::string& stem,
                    Chunk* chunk, uint64_t members_done, bool archive_done);
  Status WriteBrokenArchive(Split split, const std::vector<Config>& group,
                            const std::string& stem, const std::string& name, Chunk* chunk,
                            uint64_t members);
  Status Reject(const Problem& p, Config config, Batch* batch);
  void ReportProgress(uint64_t images, uint64_t bytes, const std::string& archive);

  const ConvertRequest& r_;
  const std::vector<Config> configs_;
  const SourceFiles& files_;
  const uint32_t threads_;
  Writer* writer_;
  ProgressMeter* meter_;
  std::vector<std::unique_ptr<Transcoder>> transcoders_;  // one per thread
  std::array<std::array<std::atomic<uint64_t>, kNumSplits>, kNumConfigs> images_{};
  std::mutex meter_mu_;  // guards the meter and the progress below
  uint64_t progress_images_ = 0, progress_bytes_ = 0;
};

}  // namespace oiv4kv
