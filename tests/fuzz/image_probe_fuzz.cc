// The header probe (store/core/image_probe.h) on any bytes: ProbeImage under
// a pixel cap, DetectImageFormat, and ExifOrientation on the same bytes as a
// TIFF block. A probe that succeeds must agree with DetectImageFormat, give
// non-zero dimensions within the cap and an orientation 1..8; a failure is
// InvalidArgument.
#include "store/core/image_probe.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const oiv4kv::ImageFormat format = oiv4kv::DetectImageFormat(bytes);
  const int orientation = oiv4kv::ExifOrientation(bytes);
  FUZZ_CHECK(orientation >= 1 && orientation <= 8, "ExifOrientation %d", orientation);
  for (const uint64_t max_pixels : {uint64_t{1} << 20, uint64_t{178'956'970}}) {
    oiv4kv::ImageProbe probe;
    const oiv4kv::Status s = oiv4kv::ProbeImage(bytes, max_pixels, &probe);
    if (!s.ok()) {
      FUZZ_CHECK(s.IsInvalidArgument(), "%s", s.ToString().c_str());
      continue;
    }
    FUZZ_CHECK(probe.format == format && format != oiv4kv::ImageFormat::kUnknown,
               "probe format %d, magic %d", static_cast<int>(probe.format),
               static_cast<int>(format));
    FUZZ_CHECK(probe.width > 0 && probe.height > 0, "%ux%u", probe.width, probe.height);
    FUZZ_CHECK(uint64_t{probe.width} * probe.height <= max_pixels, "%ux%u over %llu",
               probe.width, probe.height, static_cast<unsigned long long>(max_pixels));
    FUZZ_CHECK(probe.exif_orientation >= 1 && probe.exif_orientation <= 8, "orientation %d",
               probe.exif_orientation);
    if (probe.format == oiv4kv::ImageFormat::kJpeg) {
      FUZZ_CHECK(probe.components >= 1 && probe.components <= 255, "%d components",
                 probe.components);
    } else {
      FUZZ_CHECK(probe.components == 0, "PNG with %d components", probe.components);
    }
  }
  return 0;
}
