// Generated images for tests and benchmarks: natural-looking RGB content and
// its encodings in each form a real crawl contains (baseline and progressive
// JPEG at any chroma subsampling, grayscale, CMYK/YCCK, EXIF-rotated, PNG of
// every colour type). Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "oiv4kv/status.h"

namespace oiv4kv {

// Interleaved 8-bit pixels, row-major, no row padding.
struct RgbImage {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> pixels;  // R,G,B per pixel
};

// Smooth gradients, 1/f texture, soft-edged shapes (some filled with fine
// stripes, which alias under a poor resampler) and sensor noise: compresses
// and resamples like a photo, unlike flat colour. Deterministic in `seed`.
RgbImage SyntheticImage(uint32_t width, uint32_t height, uint64_t seed);

struct JpegSpec {
  int quality = 90;
  int subsamp = 2;  // a TJSAMP value: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, 3 =
                    // gray, 4 = 4:4:0
  bool progressive = false;
};

// Encodes `image` with TurboJPEG (subsamp 3 stores the luminance only).
Status EncodeJpeg(const RgbImage& image, const JpegSpec& spec,
                  std::vector<uint8_t>* out);

// JPEGs TurboJPEG cannot write, made with the libjpeg API.
enum class JpegColorKind {
  kRgb,   // 3 components stored as RGB (Adobe transform 0)
  kCmyk,  // inverted Adobe CMYK, as Photoshop writes it (and OpenCV assumes)
  kYcck,  // the same, YCCK-transformed (Adobe transform 2)
  kOddSampling,  // YCbCr sampled Y 1x2, Cb 2x1, Cr 1x1 (TurboJPEG rejects it)
};
Status EncodeJpegLibjpeg(const RgbImage& image, JpegColorKind kind, int quality,
                         std::vector<uint8_t>* out);

// What cv::imencode(".jpg", img, {IMWRITE_JPEG_QUALITY, quality}) writes for
// these pixels: libjpeg defaults (YCbCr 4:2:0, baseline, standard Huffman
// tables, accurate DCT) and jpeg_set_quality(quality, TRUE).
Status EncodeJpegLikeOpenCv(const RgbImage& image, int quality,
                            std::vector<uint8_t>* out);

// A valid progressive JPEG of 1 + 3 * 63 * (refinements + 1) scans: a DC
// scan, then each AC coefficient of each component alone, refined bit by bit.
Status EncodeJpegManyScans(const RgbImage& image, int refinements,
                           std::vector<uint8_t>* out);

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
// ExifTiffBlock) is written as an eXIf chunk. `expected`, if given, receives
// what OpenCV's imdecode(IMREAD_COLOR) yields for it, as RGB: alpha dropped,
// palette colours, gray replicated, 16-bit cut to the high byte.
Status EncodePng(const RgbImage& image, PngKind kind, std::vector<uint8_t>* out,
                 std::span<const uint8_t> exif = {},
                 RgbImage* expected = nullptr);

// A TIFF block (what follows "Exif\0\0" in APP1) whose IFD0 holds a Make
// string stored out of line, the orientation, and an XResolution rational.
std::vector<uint8_t> ExifTiffBlock(int orientation, bool big_endian);

// `jpeg` with an APP1 "Exif\0\0" + `tiff` segment inserted right after SOI.
std::vector<uint8_t> WithApp1(std::span<const uint8_t> jpeg,
                              std::span<const uint8_t> tiff);

// --- Reference measures (double precision, no shared code with store/convert)

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

// Decodes a JPEG to RGB with TurboJPEG (accurate IDCT, fancy upsampling: the
// pixels OpenCV's imdecode gives for YCbCr and gray JPEGs, in RGB order).
Status DecodeJpegRgb(std::span<const uint8_t> jpeg, RgbImage* out);

}  // namespace oiv4kv
