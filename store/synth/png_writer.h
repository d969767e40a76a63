// The project's one PNG writer (libpng): every colour type and bit depth a
// crawl contains, interlaced or not, with an optional eXIf chunk. Used by
// ImageEncoder (synth_image.h) and, through store/testing/sample_images.h,
// by the tests and benchmarks. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "oiv4kv/status.h"
#include "store/synth/image_paint.h"

namespace oiv4kv::synth {

enum class PngKind {
  kRgb8,
  kRgba8,  // alpha varies across the image
  kGray8,  // luminance of the image
  kGrayAlpha8,
  kPalette8,  // 6x6x6 colour cube, nearest colour
  kRgb16,     // high byte = the 8-bit value, low byte = noise
  kGray16,
  kRgb8Interlaced,
};

// Encodes `image` as PNG with libpng. A non-empty `exif` (a TIFF block, see
// ExifTiffBlock in jpeg_bytes.h) is written as an eXIf chunk. `expected`, if
// given, receives what OpenCV's imdecode(IMREAD_COLOR) yields for it, as
// RGB: alpha dropped, palette colours, gray replicated, 16-bit cut to the
// high byte.
Status EncodePng(const RgbImage& image, PngKind kind, std::vector<uint8_t>* out,
                 std::span<const uint8_t> exif = {}, RgbImage* expected = nullptr);

}  // namespace oiv4kv::synth
