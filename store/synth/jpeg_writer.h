// The project's one JPEG writer: TurboJPEG for YCbCr and gray files (any
// chroma subsampling, baseline or progressive) and the libjpeg API for what
// TurboJPEG cannot write (RGB, inverted CMYK and YCCK, odd sampling factors,
// a custom scan script). Used by ImageEncoder (synth_image.h) and, through
// store/testing/sample_images.h, by the tests and benchmarks.
// Thread-safe: the free functions; a JpegCompressor is one thread's.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "oiv4kv/status.h"
#include "store/synth/image_paint.h"

namespace oiv4kv::synth {

struct JpegSpec {
  int quality = 90;
  int subsamp = 2;  // a TJSAMP value: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, 3 =
                    // gray (the luminance only), 4 = 4:4:0, 5 = 4:1:1
  bool progressive = false;
};

// TurboJPEG compression with handles kept across calls (cheaper for many
// images). TurboJPEG 2.1.5 writes corrupt baseline files from a handle that
// has compressed a progressive one (measured: every later image broken), so
// progressive files get a handle of their own.
class JpegCompressor {
 public:
  JpegCompressor();
  ~JpegCompressor();
  JpegCompressor(const JpegCompressor&) = delete;
  JpegCompressor& operator=(const JpegCompressor&) = delete;

  // Replaces `*out` with `width` x `height` interleaved RGB `rgb` as `spec`
  // says.
  Status Compress(const uint8_t* rgb, uint32_t width, uint32_t height, const JpegSpec& spec,
                  std::vector<uint8_t>* out);

 private:
  void* tj_ = nullptr;              // tjhandle
  void* tj_progressive_ = nullptr;  // tjhandle
};

// Encodes `image` with TurboJPEG (a JpegCompressor of its own).
Status EncodeJpeg(const RgbImage& image, const JpegSpec& spec, std::vector<uint8_t>* out);

// Colour layouts written with the libjpeg API.
enum class JpegColorKind {
  kYcbcr,  // libjpeg's defaults: YCbCr 4:2:0 (what cv::imencode writes)
  kRgb,    // 3 components stored as RGB (Adobe transform 0)
  kCmyk,   // inverted Adobe CMYK, as Photoshop writes it (and OpenCV assumes):
           // K' = max(R,G,B), C' = 255 * R / K', so that R = C' * K' / 255
  kYcck,   // the same, YCCK-transformed (Adobe transform 2)
  kOddSampling,  // YCbCr sampled Y 1x2, Cb 2x1, Cr 1x1 (TurboJPEG rejects it)
};

// One scan of a progressive scan script (libjpeg's jpeg_scan_info).
struct JpegScan {
  int num_components = 1;
  int component[4] = {0, 0, 0, 0};
  int ss = 0, se = 0, ah = 0, al = 0;  // spectral range, successive approximation
};

// Encodes `image` with the libjpeg API: libjpeg's defaults (baseline,
// standard Huffman tables, accurate DCT), the layout `kind` and
// jpeg_set_quality(quality, TRUE); `scans`, if not empty, as the scan script.
Status EncodeJpegLibjpeg(const RgbImage& image, JpegColorKind kind, int quality,
                         std::vector<uint8_t>* out, std::span<const JpegScan> scans = {});

}  // namespace oiv4kv::synth
