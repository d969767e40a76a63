// Writes a planned synthetic download's archives (or folders) and records
// each member written (WriteSynthDownload, synth_download.h). Internal to
// store/synth.
#pragma once

#include <cstddef>
#include <vector>

#include "oiv4kv/status.h"
#include "store/synth/synth_download.h"
#include "store/synth/synth_plan.h"

namespace oiv4kv::synth {

// Encodes and writes the members of every archive of `splits`, in order,
// on options.threads threads, and appends each to `record` (images,
// bad_members, num_images, num_kind). Calls options.progress with
// `total_images`. IOError naming the file when writing fails.
Status WriteArchives(const SynthOptions& options, const std::vector<PlannedSplit>& splits,
                     size_t total_images, SynthRecord* record);

}  // namespace oiv4kv::synth
