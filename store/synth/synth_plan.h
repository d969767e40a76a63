// The plan of a synthetic download (WriteSynthDownload, synth_download.h):
// which images each split has (ids, kinds, sizes, encoder settings), which
// ids are annotated, and the members of each archive in writing order, bad
// members included. Decided before anything is written, from the options
// alone. Internal to store/synth.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "store/synth/synth_download.h"
#include "store/synth/synth_image.h"

namespace oiv4kv::synth {

// Independent random streams for the parts of the plan, so that e.g. the
// row order option does not change the rows.
uint64_t StreamSeed(uint64_t seed, uint64_t stream);
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

// Plans the three splits (about 90% train, 5% validation, 5% test, each
// at least 1 of options.images) of a download into `out_dir`, members
// shuffled within each archive. REQUIRES: options.images >= 3.
std::vector<PlannedSplit> PlanDownload(const SynthOptions& options, const std::string& out_dir);

}  // namespace oiv4kv::synth
