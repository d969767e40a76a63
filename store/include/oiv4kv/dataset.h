// The fixed vocabulary of the Open Images V4 dataset as TFDS defines it:
// splits, image configs, class lists, sources. Thread-safe: constants only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/export.h"

namespace oiv4kv {

// The first byte of every key. Values are part of the on-disk format.
enum class Split : uint8_t { kTrain = 0, kValidation = 1, kTest = 2 };
inline constexpr int kNumSplits = 3;
inline constexpr std::array<Split, kNumSplits> kAllSplits = {
    Split::kTrain, Split::kValidation, Split::kTest};

// The image configs of TFDS `open_images_v4`.
enum class Config : uint8_t { kOriginal = 0, k300k = 1, k200k = 2 };
inline constexpr int kNumConfigs = 3;
inline constexpr std::array<Config, kNumConfigs> kAllConfigs = {
    Config::kOriginal, Config::k300k, Config::k200k};

// The vocabularies a label can index.
enum class VocabKind : uint8_t {
  kAll = 0,        // objects/label: 19,995 classes
  kTrainable = 1,  // objects_trainable/label: 7,186 classes
  kBoxable = 2,    // bobjects/label: 601 classes
  kSource = 3,     // */source: the 6 source names below
};
inline constexpr int kNumVocabKinds = 4;
inline constexpr std::array<VocabKind, kNumVocabKinds> kAllVocabKinds = {
    VocabKind::kAll, VocabKind::kTrainable, VocabKind::kBoxable, VocabKind::kSource};

// Which class lists numbered the labels of a store.
enum class LabelOrder : uint8_t {
  kDownload = 0,  // the download's own files (differs from TFDS for a few)
  kTfds = 1,      // TFDS's lists: ids equal tfds.load's
};
inline constexpr std::array<LabelOrder, 2> kAllLabelOrders = {LabelOrder::kDownload,
                                                              LabelOrder::kTfds};

// Encoded image formats, found from magic bytes.
enum class ImageFormat : uint8_t { kUnknown = 0, kJpeg = 1, kPng = 2 };
inline constexpr std::array<ImageFormat, 3> kAllImageFormats = {
    ImageFormat::kUnknown, ImageFormat::kJpeg, ImageFormat::kPng};

// TFDS's source list, in TFDS's order: a source's id is its index here.
inline constexpr std::array<std::string_view, 6> kSourceNames = {
    "verification", "crowdsource-verification", "machine",
    "freeform",     "xclick",                   "activemil"};

// Target pixel count of a resized config (0 for `original`).
OIV4KV_EXPORT uint64_t TargetPixels(Config config);

// Names and parsers, one set per enum, the same for every public enum (also
// ScanOrder in scan.h, PixelFormat/TruncatedPolicy in decode.h, ErrorPolicy):
//   std::string_view XName(X)                   the name, e.g. "validation"
//   std::optional<X> ParseX(std::string_view)   exact, case-sensitive match of
//                                               a name; nullopt for anything else
//   std::vector<std::string> XNames()           every name, in kAllXs order
// The names are those of the command line, of the Python binding, of TFDS
// and of column family names:
//   Split        "train", "validation", "test"
//   Config       "original", "300k", "200k"
//   VocabKind    "all", "trainable", "boxable", "source"
//   LabelOrder   "download", "tfds"
//   ImageFormat  "unknown", "jpeg", "png"
OIV4KV_EXPORT std::string_view SplitName(Split split);
OIV4KV_EXPORT std::string_view ConfigName(Config config);
OIV4KV_EXPORT std::string_view VocabKindName(VocabKind kind);
OIV4KV_EXPORT std::string_view LabelOrderName(LabelOrder order);
OIV4KV_EXPORT std::string_view ImageFormatName(ImageFormat format);

OIV4KV_EXPORT std::optional<Split> ParseSplit(std::string_view name);
OIV4KV_EXPORT std::optional<Config> ParseConfig(std::string_view name);
OIV4KV_EXPORT std::optional<VocabKind> ParseVocabKind(std::string_view name);
OIV4KV_EXPORT std::optional<LabelOrder> ParseLabelOrder(std::string_view name);
OIV4KV_EXPORT std::optional<ImageFormat> ParseImageFormat(std::string_view name);

OIV4KV_EXPORT std::vector<std::string> SplitNames();
OIV4KV_EXPORT std::vector<std::string> ConfigNames();
OIV4KV_EXPORT std::vector<std::string> VocabKindNames();
OIV4KV_EXPORT std::vector<std::string> LabelOrderNames();
OIV4KV_EXPORT std::vector<std::string> ImageFormatNames();

// "a, b or c": a list of names for messages ("unknown split 'x' (train,
// validation or test)"). `quote` wraps each name in single quotes.
OIV4KV_EXPORT std::string JoinNames(const std::vector<std::string>& names, bool quote = false);

}  // namespace oiv4kv
