// The class lists of synthetic downloads: 19,995 MIDs in the real MID
// alphabet with plausible display names (a few with commas, double quotes
// and non-ASCII letters), 7,186 trainable and 601 boxable, in the
// download's order and in TFDS's. Fixed: the same for every seed, like the
// real vocabulary. Thread-safe: built once, immutable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/synth/synth_download.h"

namespace oiv4kv::synth {

inline constexpr size_t kNumAllClasses = 19'995;
inline constexpr size_t kNumTrainableClasses = 7'186;
inline constexpr size_t kNumBoxableClasses = 601;

struct SynthClasses {
  // Classes are numbered by their index in `lists.tfds_all`, which is also
  // the download's class-descriptions.csv order.
  SynthVocabularies lists;
  std::vector<uint32_t> trainable;  // class numbers of the trainable classes
  std::vector<uint32_t> boxable;    // class numbers of the boxable classes
  // Per class: index in each list, or -1 if the class is not in it.
  std::vector<int32_t> trainable_download, trainable_tfds;
  std::vector<int32_t> boxable_download, boxable_tfds;
};

const SynthClasses& GetSynthClasses();

// `field` as one CSV field: quoted, with quotes doubled, when it holds a
// comma, a double quote or a line break.
std::string CsvField(const std::string& field);

}  // namespace oiv4kv::synth
