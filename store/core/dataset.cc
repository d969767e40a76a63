#include "oiv4kv/dataset.h"

#include "oiv4kv/image_id.h"
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

template <typename Enum, size_t N>
std::vector<std::string> Names(const std::array<Enum, N>& values,
                               std::string_view (*to_name)(Enum)) {
  std::vector<std::string> names;
  names.reserve(N);
  for (Enum v : values) names.emplace_back(to_name(v));
  return names;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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
  return ParseName(name, kAllVocabKinds, &VocabKindName);
}

std::optional<LabelOrder> ParseLabelOrder(std::string_view name) {
  return ParseName(name, kAllLabelOrders, &LabelOrderName);
}

std::optional<ImageFormat> ParseImageFormat(std::string_view name) {
  return ParseName(name, kAllImageFormats, &ImageFormatName);
}

std::vector<std::string> SplitNames() { return Names(kAllSplits, &SplitName); }
std::vector<std::string> ConfigNames() { return Names(kAllConfigs, &ConfigName); }
std::vector<std::string> VocabKindNames() { return Names(kAllVocabKinds, &VocabKindName); }
std::vector<std::string> LabelOrderNames() { return Names(kAllLabelOrders, &LabelOrderName); }
std::vector<std::string> ImageFormatNames() { return Names(kAllImageFormats, &ImageFormatName); }

std::string JoinNames(const std::vector<std::string>& names, bool quote) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    if (quote) out += '\'';
    out += names[i];
    if (quote) out += '\'';
  }
  return out;
}

std::string ImageIdHex(uint64_t image_id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(kImageIdHexDigits, '0');
  for (size_t i = kImageIdHexDigits; i-- > 0; image_id >>= 4) hex[i] = kDigits[image_id & 0xf];
  return hex;
}

std::string ImageFileName(uint64_t image_id) { return ImageIdHex(image_id) + ".jpg"; }

std::string ExampleName(Split split, uint64_t image_id) {
  std::string s(SplitName(split));
  s += '/';
  s += ImageIdHex(image_id);
  return s;
}

std::optional<uint64_t> ParseImageIdHex(std::string_view text) {
  if (text.size() != kImageIdHexDigits) return std::nullopt;
  uint64_t id = 0;
  for (char c : text) {
    const int digit = HexDigit(c);
    if (digit < 0) return std::nullopt;
    id = (id << 4) | static_cast<uint64_t>(digit);
  }
  return id;
}

std::optional<uint64_t> ParseImageId(std::string_view text) {
  constexpr std::string_view kSuffix = ".jpg";
  if (text.size() == kImageIdHexDigits + kSuffix.size() && text.ends_with(kSuffix)) {
    text.remove_suffix(kSuffix.size());
  }
  return ParseImageIdHex(text);
}

std::string_view LibraryVersion() { return OIV4KV_VERSION_STRING; }

}  // namespace oiv4kv
