// Reference implementations the tests measure the library against, in
// double precision and with no code shared with store/convert or
// store/core: the ideal area resample, OpenCV's bilinear resize, EXIF
// orientation, PSNR. Test- and benchmark-only. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "store/synth/image_paint.h"

namespace oiv4kv {

using synth::RgbImage;

// Area-average resample of `image` to width x height: each output pixel the
// mean of the source area it covers, pixels as unit squares. The ideal the
// transcoder's resample is measured against. Interleaved RGB doubles.
std::vector<double> AreaResample(const RgbImage& image, uint32_t width,
                                 uint32_t height);

// OpenCV's resize(INTER_LINEAR) in double precision: each output pixel
// interpolates its two nearest source pixels per axis at
// (i + 0.5) * scale - 0.5, clamped to the edges. TFDS calls resize with
// fx = fy = f, for which OpenCV takes scale = 1/f, not src/dst: its samples
// drift up to a pixel from the area-correct positions across the image.
std::vector<double> BilinearResample(const RgbImage& image, uint32_t width,
                                     uint32_t height, double scale_x,
                                     double scale_y);

// OpenCV's ApplyExifOrientation on a width x height RGB image, written from
// its definition: 2 flip x, 3 flip x and y, 4 flip y, 5 transpose,
// 6 transpose + flip x, 7 transpose + flip x and y, 8 transpose + flip y.
std::vector<double> ApplyOrientation(const std::vector<double>& rgb,
                                     uint32_t width, uint32_t height,
                                     int orientation, uint32_t* out_width,
                                     uint32_t* out_height);

// PSNR in dB of 8-bit `rgb` against `reference` (same length).
double Psnr(const std::vector<double>& reference, std::span<const uint8_t> rgb);

}  // namespace oiv4kv
