// Readers of the class lists: the download's class-descriptions.csv,
// class-descriptions-boxable.csv and classes-trainable.txt, and TFDS's own
// open_images_classes_{all,trainable,boxable}.txt, which number the labels
// the way tfds.load does (docs/SPEC.md, tests/data/tfds_vocab/README.md).
// Thread-safe: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"

namespace oiv4kv {

// The names of TFDS's lists inside a TFDS lists directory.
inline constexpr std::string_view kTfdsAllList = "open_images_classes_all.txt";
inline constexpr std::string_view kTfdsTrainableList = "open_images_classes_trainable.txt";
inline constexpr std::string_view kTfdsBoxableList = "open_images_classes_boxable.txt";

// Reads a class-descriptions CSV: records MID,DisplayName, no header, CSV
// quoting, blank lines skipped. Corruption "path:line: ..." for a record
// without exactly two fields, an empty MID, a MID seen before, or a MID or
// display name that is not valid UTF-8 (the byte and its offset named). If `lines`
// is not null it receives the line of each entry.
Status ReadClassDescriptions(const std::string& path, std::vector<VocabEntry>* out,
                             std::vector<uint64_t>* lines = nullptr);

// Reads a list of one MID a line. As TFDS's ClassLabel reads its names
// files, each line is stripped of surrounding whitespace (so CRLF is fine)
// and blank lines are skipped: the index of a MID is its position among the
// non-blank lines. A UTF-8 byte order mark is ignored. Corruption
// "path:line: duplicate MID ..." for a MID seen before. If `lines` is not
// null it receives the line of each MID.
Status ReadMidList(const std::string& path, std::vector<std::string>* out,
                   std::vector<uint64_t>* lines = nullptr);

// The four vocabularies of a store and the order that numbered them.
struct Vocabularies {
  std::vector<VocabEntry> all, trainable, boxable, source;
  LabelOrder order = LabelOrder::kDownload;
};

// Loads the vocabularies from the download's three files. Every trainable
// and boxable MID must be in class_descriptions; display names come from
// class_descriptions (all, trainable) and boxable_descriptions (boxable).
//
// tfds_lists_dir empty: numbered in the download's order (order = kDownload):
// all as class_descriptions, boxable as boxable_descriptions, trainable as
// trainable_list.
// Otherwise numbered by the TFDS lists in that directory (order = kTfds);
// each must hold exactly the MIDs of its download file, else Corruption
// naming the first MID missing on either side.
// source is kSourceNames in order, with empty display names.
Status LoadVocabularies(const std::string& class_descriptions,
                        const std::string& boxable_descriptions,
                        const std::string& trainable_list, const std::string& tfds_lists_dir,
                        Vocabularies* out);

}  // namespace oiv4kv
