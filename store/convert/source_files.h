// Finds the files of the official Open Images V4 download anywhere below a
// folder: flat, or in split subfolders; archives as .tar.gz, .tar, or
// extracted folders.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

struct SplitSources {
  std::string bbox_csv;     // {split}-annotations-bbox.csv
  std::string human_csv;    // {split}-annotations-human-imagelabels.csv
  std::string machine_csv;  // {split}-annotations-machine-imagelabels.csv
  std::vector<std::string> archives;  // train_0..train_f, or validation / test; sorted
};

struct SourceFiles {
  std::string class_descriptions;    // class-descriptions.csv
  std::string boxable_descriptions;  // class-descriptions-boxable.csv
  std::string trainable_list;        // classes-trainable.txt
  std::array<SplitSources, kNumSplits> splits;
};

// The archive names of `split` without extension: "train_0".."train_f",
// "validation", "test".
std::vector<std::string> ArchiveStems(Split split);

// Fills `out` for `splits`. InvalidArgument naming every missing file, or a
// file found twice (e.g. both train_0.tar.gz and an extracted train_0/).
Status FindSourceFiles(const std::string& root, std::span<const Split> splits,
                       SourceFiles* out);

}  // namespace oiv4kv
