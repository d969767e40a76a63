#include "oiv4kv/dataset.h"

#include "oiv4kv/version.h"

namespace oiv4kv {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> ParseName(std::string_view name,
                              const std::array<Enum, N>& values,
                              std::string_view (*to_name)(Enum)) {
  for (Enum v : values) {
    if (to_name(v) == name) return v;
  }
  return std::nullopt;
}

}  // namespace

uint64_t TargetPixels(Config config) {
  switch (config) {
    case Config::kOriginal: return 0;
    case Config::k300k: return 300'000;
    case Config::k200k: return 200'000;
  }
  return 0;
}

std::string_view SplitName(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kValidation: return "validation";
    case Split::kTest: return "test";
  }
  return "?";
}

std::string_view ConfigName(Config config) {
  switch (config) {
    case Config::kOriginal: return "original";
    case Config::k300k: return "300k";
    case Config::k200k: return "200k";
  }
  return "?";
}

std::string_view VocabKindName(VocabKind kind) {
  switch (kind) {
    case VocabKind::kAll: return "all";
    case VocabKind::kTrainable: return "trainable";
    case VocabKind::kBoxable: return "boxable";
    case VocabKind::kSource: return "source";
  }
  return "?";
}

std::string_view LabelOrderName(LabelOrder order) {
  return order == LabelOrder::kTfds ? "tfds" : "download";
}

std::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

std::optional<Split> ParseSplit(std::string_view name) {
  return ParseName(name, kAllSplits, &SplitName);
}

std::optional<Config> ParseConfig(std::string_view name) {
  return ParseName(name, kAllConfigs, &ConfigName);
}

std::optional<VocabKind> ParseVocabKind(std::string_view name) {
  static constexpr std::array<VocabKind, kNumVocabKinds> kKinds = {
      VocabKind::kAll, VocabKind::kTrainable, VocabKind::kBoxable,
      VocabKind::kSource};
  return ParseName(name, kKinds, &VocabKindName);
}

std::string_view LibraryVersion() { return OIV4KV_VERSION_STRING; }

}  // namespace oiv4kv
