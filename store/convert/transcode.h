// Transcoder: re-encodes an image the way TFDS builds the `300k` and `200k`
// configs of open_images_v4 (OpenCV imdecode(IMREAD_COLOR), resize to about
// T pixels, imencode JPEG q72), with the same output dimensions as OpenCV and
// a better resample. Not thread-safe: one Transcoder per thread.
//
//   Transcoder t;
//   TranscodeResult r;
//   TranscodeOptions o;  // 300k
//   Status s = t.Transcode(bytes, o, &r);  // r.jpeg, r.width x r.height
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "oiv4kv/status.h"

namespace oiv4kv {

// The size TFDS resizes a width x height image to: OpenCV's cvRound (round
// half to even) of W*f and H*f, f = sqrt(T/(W*H)) in double, when W*H > T;
// else unchanged. (1024x768, T=300000 -> 632x474.) Either side may round to 0
// for extreme aspect ratios (OpenCV's resize then fails).
void TargetSize(uint32_t width, uint32_t height, uint64_t target_pixels,
                uint32_t* out_w, uint32_t* out_h);

struct TranscodeOptions {
  // Resize images with more pixels than this. Default: 300'000 (the 300k
  // config).
  uint64_t target_pixels = 300'000;
  // Refuse images whose header claims more pixels than this, before any
  // allocation. Default: 178'956'970 (PIL's decompression-bomb limit).
  uint64_t max_pixels = 178'956'970;
  // JPEG quality of the output, 1..100. Default: 72 (TFDS).
  int quality = 72;
};

struct TranscodeResult {
  std::vector<uint8_t> jpeg;       // baseline JPEG, 4:2:0, 3 components
  uint32_t width = 0, height = 0;  // after EXIF orientation and resize
};

class Transcoder {
 public:
  Transcoder();
  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  // Decodes `bytes` (JPEG or PNG, whatever the file name says) as OpenCV's
  // imdecode(IMREAD_COLOR) does: grayscale becomes 3 channels, CMYK/YCCK is
  // converted with OpenCV's formula, alpha is dropped, 16-bit is cut to 8,
  // the EXIF orientation is applied, a truncated JPEG decodes with the
  // missing part gray. Resizes to TargetSize (area-averaged; decode-time DCT
  // scaling by 1/2, 1/4 or 1/8 where that keeps at least the target size) and
  // encodes a baseline JPEG at options.quality, 4:2:0.
  // Returns InvalidArgument for what ProbeImage rejects (unknown format,
  // corrupt header, over max_pixels), a target side of 0, a progressive JPEG
  // of over 500 scans, or bad options; Corruption for undecodable data (the
  // decoder's message). A JPEG that ends before its first row of blocks
  // becomes a flat gray image, as in OpenCV. On error *out is unspecified. Memory is bounded by the header's
  // (checked) dimensions; buffers are kept for the next call.
  Status Transcode(std::span<const uint8_t> bytes,
                   const TranscodeOptions& options, TranscodeResult* out);

  // Transcode for each of `options` (the configs of one conversion pass),
  // decoding `bytes` once for all of them: (*out)[i] and (*status)[i] are
  // byte for byte what Transcode(bytes, options[i]) gives. A JPEG is decoded
  // again only for an option whose DCT scale differs (targets far apart on
  // an image of over 3x their sides: never for 300k and 200k of a 1024 px
  // image).
  void TranscodeEach(std::span<const uint8_t> bytes,
                     std::span<const TranscodeOptions> options,
                     std::vector<TranscodeResult>* out,
                     std::vector<Status>* status);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oiv4kv
