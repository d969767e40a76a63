// TransformDecoder: decodes the part of an image a TransformRecord
// (oiv4kv/transform.h) needs, straight into a caller's buffer, resampled,
// flipped and padded: the fused decode of the Loader (oiv4kv/loader.h),
// usable on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/export.h"
#include "oiv4kv/status.h"
#include "oiv4kv/transform.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

// --- Fused decode -----------------------------------------------------------

enum class ImageLayout : uint8_t { kHWC, kCHW };
enum class ImageDType : uint8_t { kUint8, kFloat32, kFloat16 };
inline constexpr std::array<ImageLayout, 2> kAllImageLayouts = {ImageLayout::kHWC,
                                                                ImageLayout::kCHW};
inline constexpr std::array<ImageDType, 3> kAllImageDTypes = {
    ImageDType::kUint8, ImageDType::kFloat32, ImageDType::kFloat16};
// "hwc", "chw"; "uint8", "float32", "float16".
OIV4KV_EXPORT std::string_view ImageLayoutName(ImageLayout layout);
OIV4KV_EXPORT std::optional<ImageLayout> ParseImageLayout(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ImageLayoutNames();
OIV4KV_EXPORT std::string_view ImageDTypeName(ImageDType dtype);
OIV4KV_EXPORT std::optional<ImageDType> ParseImageDType(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ImageDTypeNames();

// How an output image is written. uint8: the resampled value rounded to
// 0..255. Float: (v / 255 - mean[c]) / std[c] of that rounded value v
// (torchvision's ToTensor + Normalize), float16 rounded to nearest even.
// Pad pixels hold pad_value through the same formula.
struct ImageOutputOptions {
  ImageLayout layout = ImageLayout::kHWC;
  ImageDType dtype = ImageDType::kUint8;
  std::array<float, 3> mean = {0, 0, 0};
  std::array<float, 3> std = {1, 1, 1};
};
// Bytes of one width x height x 3 image in `options`' dtype.
OIV4KV_EXPORT size_t ImageBytes(uint32_t width, uint32_t height,
                                const ImageOutputOptions& options);

// What DecodeTransformed did.
struct TransformDecodeInfo {
  // The DCT scaling denominator (1, 2, 4, 8): the largest whose scaled crop
  // is at least twice the content size on both axes (at 1x, just covering
  // it, the result measured 2.8 dB below torchvision's against the ideal;
  // at 2x within 0.1 dB); 1 for PNG and the full-decode fallback.
  uint32_t scale_denom = 1;
  // Pixels decoded (at that scale): only the crop's rows and its columns
  // widened to iMCU boundaries on the JPEG fast path; the whole image on the
  // fallback (PNG, progressive or CMYK/YCCK JPEG).
  uint32_t decoded_width = 0, decoded_height = 0;
  bool cropped = false;  // the fast path (jpeg_skip_scanlines + jpeg_crop_scanline)
};

// Decodes the part of an image a TransformRecord needs and resamples it into
// a caller's buffer (thread-compatible: one per thread, like Decoder).
// JPEG (baseline, YCbCr or gray): libjpeg's DCT scaling by 1/scale_denom,
// jpeg_skip_scanlines over the rows above and below the crop (the rows below
// are still entropy-decoded, so damage anywhere in the file is found, as
// Decoder finds it), jpeg_crop_scanline to the crop's columns. Otherwise the
// public Decoder decodes the whole image. Then an antialiased bilinear
// resample (torchvision's antialias=True, PIL's: a triangle filter widened
// by the scale factor when shrinking, taps clipped to the crop) of the exact
// crop, the flip applied while writing. Damaged data is Corruption (as
// Decoder's TruncatedPolicy::kError); an image whose size differs from
// record.source_width/height is Corruption. No EXIF orientation.
class OIV4KV_EXPORT TransformDecoder {
 public:
  TransformDecoder();
  ~TransformDecoder();
  TransformDecoder(const TransformDecoder&) = delete;
  TransformDecoder& operator=(const TransformDecoder&) = delete;

  // dst: exactly ImageBytes(record.width, record.height, output) bytes
  // (InvalidArgument otherwise). info may be null. `max_scale_denom` (1, 2,
  // 4 or 8) caps the DCT scaling: 1 decodes the crop at full size.
  Status DecodeTransformed(std::span<const uint8_t> bytes, const TransformRecord& record,
                           uint8_t pad_value, const ImageOutputOptions& output,
                           std::span<uint8_t> dst, TransformDecodeInfo* info,
                           uint32_t max_scale_denom = 8);
  // The same for a stored image: errors name it ("300k image train/<id>: ").
  Status DecodeTransformed(const ImageView& view, const TransformRecord& record,
                           uint8_t pad_value, const ImageOutputOptions& output,
                           std::span<uint8_t> dst, TransformDecodeInfo* info,
                           uint32_t max_scale_denom = 8);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oiv4kv
