// Images, per config: an image for every example of a complete config and
// no image without an example; each value parses and its format is what
// its bytes start with. With `deep`, hands each image to the DeepDecoder.
#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/core/image_probe.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {
namespace {

std::string CheckImageMeta(Config config, std::span<const uint8_t> bytes, const ImageMeta& m) {
  if (m.format != ImageFormat::kJpeg && m.format != ImageFormat::kPng) {
    return "stored format " + std::string(ImageFormatName(m.format)) + " is not jpeg or png";
  }
  if (config != Config::kOriginal && m.format != ImageFormat::kJpeg) {
    return "a " + std::string(ImageFormatName(m.format)) + " in a re-encoded (JPEG) config";
  }
  const ImageFormat actual = DetectImageFormat(bytes);
  if (actual != m.format) {
    return "stored as " + std::string(ImageFormatName(m.format)) + ", but the bytes are " +
           (actual == ImageFormat::kUnknown ? std::string("neither jpeg nor png")
                                            : std::string(ImageFormatName(actual)));
  }
  if (m.width == 0 || m.height == 0) return "stored size is 0";
  return "";
}

}  // namespace

void CheckImages(Check* check, Config config, const Manifest& manifest, const AnnotationKeys& keys,
                 DeepDecoder* deep) {
  const Family f = ImagesFamily(config);
  const std::string family_name(FamilyName(f));
  const std::string config_name(ConfigName(config));
  const ConfigManifest* cm = manifest.FindConfig(config);
  if (cm == nullptr) {
    const std::unique_ptr<rocksdb::Iterator> it = check->NewIterator(f);
    it->SeekToFirst();
    if (it->Valid()) {
      check->AddProblem(family_name,
                        "holds images, but the manifest names no config " + config_name);
    }
    return;
  }
  if (!cm->complete) return;  // noted with the manifest
  PhaseProgress phase(check->progress, family_name, "images", check->FamilyBytes(f));
  std::array<size_t, kNumSplits> next{};  // the first example not yet matched
  std::array<uint64_t, kNumSplits> counted{};
  auto missing_before = [&](Split split, uint64_t id) {
    if (!keys.complete) return;
    const auto& ids = keys.ids[static_cast<int>(split)];
    size_t& i = next[static_cast<int>(split)];
    for (; i < ids.size() && ids[i] < id; ++i) {
      check->AddProblem(ImageName(config, split, ids[i]),
                        "missing: the example has no image in config " + config_name);
    }
  };
  uint64_t images = 0;
  const rocksdb::Status scan = ForEachEntry(
      check, f, &phase, &images, [&](Split split, uint64_t id, std::string_view value) {
        ++counted[static_cast<int>(split)];
        missing_before(split, id);
        const auto& ids = keys.ids[static_cast<int>(split)];
        size_t& i = next[static_cast<int>(split)];
        if (i < ids.size() && ids[i] == id) {
          ++i;
        } else if (keys.complete) {
          check->AddProblem(ImageName(config, split, id), "an image of no example");
        }
        std::span<const uint8_t> image;
        ImageMeta m;
        if (Status s = ParseImageValue(Bytes(value), &image, &m); !s.ok()) {
          check->AddProblem(ImageName(config, split, id), s.message());
          return;
        }
        if (std::string why = CheckImageMeta(config, image, m); !why.empty()) {
          check->AddProblem(ImageName(config, split, id), why);
          return;
        }
        if (deep != nullptr) deep->Add(config, split, id, image, m.width, m.height);
      });
  if (deep != nullptr) deep->Flush();
  check->report->images[static_cast<int>(config)] = images;
  if (!scan.ok()) {
    check->AddProblem(family_name,
                      scan.ToString() + " (the rest of the family not compared with the examples)");
    return;
  }
  for (Split split : kAllSplits) missing_before(split, UINT64_MAX);
  for (Split split : kAllSplits) {
    const auto& stated = cm->num_images[static_cast<int>(split)];
    const uint64_t n = counted[static_cast<int>(split)];
    if (stated.value_or(0) != n) {
      check->AddProblem("meta/manifest",
                        "counts " + (stated ? std::to_string(*stated) : std::string("no")) + " " +
                            std::string(SplitName(split)) + " images in " + config_name + ", " +
                            family_name + " holds " + std::to_string(n));
    }
  }
}

}  // namespace oiv4kv::verify
