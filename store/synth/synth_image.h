// The encoded files of synthetic images: the one generator's pixels
// (image_paint.h) written by the one set of writers (jpeg_writer.h,
// png_writer.h, jpeg_bytes.h) as each SynthKind asks. Deterministic: the
// bytes depend only on the ImageSpec. Not thread-safe: one ImageEncoder per
// thread.
#pragma once

#include <cstdint>
#include <vector>

#include "oiv4kv/status.h"
#include "store/synth/image_paint.h"
#include "store/synth/jpeg_writer.h"
#include "store/synth/synth_download.h"

namespace oiv4kv::synth {

// The SOF dimensions a kHugeHeader file claims.
inline constexpr uint32_t kHugeSide = 60'000;

struct ImageSpec {
  SynthKind kind = SynthKind::kNormal;
  // Pixels to encode. For kHugeHeader, a small image is encoded and its SOF
  // patched to kHugeSide; for kNotAnImage, unused.
  uint32_t width = 0, height = 0;
  int quality = 90;          // JPEG kinds
  int exif_orientation = 1;  // written when `exif` (always for kExifRotated)
  bool exif = false;
  bool exif_big_endian = false;  // TIFF byte order "MM" instead of "II"
  int variant = 0;               // kNotAnImage: 0 an HTML page, 1 empty, 2 random bytes
  uint64_t seed = 0;             // content and cut point
};

class ImageEncoder {
 public:
  // Replaces `*out` with the file `spec` describes.
  Status Encode(const ImageSpec& spec, std::vector<uint8_t>* out);

 private:
  JpegCompressor jpeg_;
  RgbImage image_;
};

}  // namespace oiv4kv::synth
