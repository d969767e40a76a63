// The names of the Loader's enums (oiv4kv/loader.h), in the style of
// SplitName/ParseSplit/SplitNames: one table per enum, in kAll order.
#include <string>
#include <vector>

#include "oiv4kv/loader.h"

namespace oiv4kv {
namespace {

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<Enum, N>& all, const std::array<const char*, N>& names,
                        Enum value) {
  for (size_t i = 0; i < N; ++i) {
    if (all[i] == value) return names[i];
  }
  return "?";
}

template <typename Enum, size_t N>
std::optional<Enum> Parse(const std::array<Enum, N>& all, const std::array<const char*, N>& names,
                          std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return all[i];
  }
  return std::nullopt;
}

template <size_t N>
std::vector<std::string> List(const std::array<const char*, N>& names) {
  return std::vector<std::string>(names.begin(), names.end());
}

constexpr std::array<const char*, 4> kTransformKindNames = {"random_resized_crop", "center_crop",
                                                            "resize", "letterbox"};
constexpr std::array<const char*, 2> kImageLayoutNames = {"hwc", "chw"};
constexpr std::array<const char*, 3> kImageDTypeNames = {"uint8", "float32", "float16"};
constexpr std::array<const char*, 2> kBadImagePolicyNames = {"error", "skip"};
constexpr std::array<const char*, 2> kRemainderNames = {"pad", "drop"};

}  // namespace

std::string_view TransformKindName(TransformKind kind) {
  return NameOf(kAllTransformKinds, kTransformKindNames, kind);
}
std::optional<TransformKind> ParseTransformKind(std::string_view name) {
  return Parse(kAllTransformKinds, kTransformKindNames, name);
}
std::vector<std::string> TransformKindNames() { return List(kTransformKindNames); }

std::string_view ImageLayoutName(ImageLayout layout) {
  return NameOf(kAllImageLayouts, kImageLayoutNames, layout);
}
std::optional<ImageLayout> ParseImageLayout(std::string_view name) {
  return Parse(kAllImageLayouts, kImageLayoutNames, name);
}
std::vector<std::string> ImageLayoutNames() { return List(kImageLayoutNames); }

std::string_view ImageDTypeName(ImageDType dtype) {
  return NameOf(kAllImageDTypes, kImageDTypeNames, dtype);
}
std::optional<ImageDType> ParseImageDType(std::string_view name) {
  return Parse(kAllImageDTypes, kImageDTypeNames, name);
}
std::vector<std::string> ImageDTypeNames() { return List(kImageDTypeNames); }

std::string_view BadImagePolicyName(BadImagePolicy policy) {
  return NameOf(kAllBadImagePolicies, kBadImagePolicyNames, policy);
}
std::optional<BadImagePolicy> ParseBadImagePolicy(std::string_view name) {
  return Parse(kAllBadImagePolicies, kBadImagePolicyNames, name);
}
std::vector<std::string> BadImagePolicyNames() { return List(kBadImagePolicyNames); }

std::string_view RemainderName(Remainder remainder) {
  return NameOf(kAllRemainders, kRemainderNames, remainder);
}
std::optional<Remainder> ParseRemainder(std::string_view name) {
  return Parse(kAllRemainders, kRemainderNames, name);
}
std::vector<std::string> RemainderNames() { return List(kRemainderNames); }

}  // namespace oiv4kv
