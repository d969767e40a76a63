// Pixels and encoded files of synthetic images: natural-looking content
// (gradients, textures, shaded shapes, sensor noise) encoded as each
// SynthKind asks. Deterministic: the bytes depend only on the ImageSpec.
// Not thread-safe: one ImageEncoder per thread.
#pragma once

#include <cstdint>
#include <vector>

#include "oiv4kv/status.h"
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

// Fills `rgb` with w*h*3 bytes of natural-looking RGB content.
void PaintNatural(uint32_t width, uint32_t height, uint64_t seed, std::vector<uint8_t>* rgb);

class ImageEncoder {
 public:
  ImageEncoder();
  ~ImageEncoder();
  ImageEncoder(const ImageEncoder&) = delete;
  ImageEncoder& operator=(const ImageEncoder&) = delete;

  // Replaces `*out` with the file `spec` describes.
  Status Encode(const ImageSpec& spec, std::vector<uint8_t>* out);

 private:
  Status Jpeg(uint32_t w, uint32_t h, int subsamp, int quality, int flags,
              std::vector<uint8_t>* out);

  void* tj_ = nullptr;  // tjhandle
  // TurboJPEG 2.1.5 writes corrupt baseline files from a handle that has
  // compressed a progressive one (measured here: every later image broken),
  // so progressive files get a handle of their own.
  void* tj_progressive_ = nullptr;
  std::vector<uint8_t> rgb_;
};

// Helpers on JPEG byte streams, exposed for tests of this module.
// Offset just past the header of the first SOS segment, or 0 if not found.
size_t JpegScanStart(const std::vector<uint8_t>& jpeg);
// Offset of the first SOFn marker (0xFF byte), or 0 if not found.
size_t JpegSofOffset(const std::vector<uint8_t>& jpeg);
// Rewrites the dimensions the first SOF claims (a decompression-bomb header
// over a small image). False, changing nothing, if there is no SOF.
bool ClaimJpegSize(std::vector<uint8_t>* jpeg, uint16_t width, uint16_t height);

}  // namespace oiv4kv::synth
