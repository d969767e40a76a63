// Resampler: separable area resampling of 8-bit images: each output pixel is
// the mean of the source area it covers, pixels taken as unit squares (what a
// float box filter gives, and OpenCV's INTER_AREA when shrinking). Growing an
// axis (only chroma of 4:1:1-type JPEGs) thus replicates, as libjpeg's
// upsampler does for those. Weights are 14-bit fixed point; the result is
// within one level of the exact float resample.
// Not thread-safe: one per thread (it reuses weight tables and buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace oiv4kv {

// Where the output pixels of one axis fall on the source: output i covers
// [offset + i*scale, offset + (i+1)*scale) in source pixels, clipped to the
// source (an output wholly outside takes the nearest edge pixel). Chroma
// planes need it: a 4:2:0 plane of an odd-sized image spans one luma
// pixel more than the image.
struct AxisMap {
  double scale = 1.0;
  double offset = 0.0;
  bool operator==(const AxisMap&) const = default;
};

class Resampler {
 public:
  // Resamples a src_w x src_h image with `channels` interleaved 8-bit
  // channels (1 or 4) into dst_w x dst_h. Strides are in bytes. Without maps,
  // each axis spans the whole source (scale = src / dst, offset 0).
  // REQUIRES: all sizes > 0; channels is 1 or 4; src and dst do not overlap.
  void Resample(const uint8_t* src, size_t src_stride, uint32_t src_w,
                uint32_t src_h, uint8_t* dst, size_t dst_stride, uint32_t dst_w,
                uint32_t dst_h, int channels);
  void Resample(const uint8_t* src, size_t src_stride, uint32_t src_w,
                uint32_t src_h, uint8_t* dst, size_t dst_stride, uint32_t dst_w,
                uint32_t dst_h, int channels, const AxisMap& x,
                const AxisMap& y);

 private:
  // Per output pixel: the first source pixel and `taps` weights summing to
  // 1 << 14 (zero-padded so every pixel has the same count).
  struct Axis {
    uint32_t src = 0, dst = 0;
    AxisMap map;
    int taps = 0;
    std::vector<int32_t> start;
    std::vector<int16_t> weights;  // dst * taps
  };
  static void Build(uint32_t src, uint32_t dst, const AxisMap& map, Axis* axis);
  // An axis from a small cache (one per direction, so that the two lookups
  // of a call never evict each other): the planes of an image alternate
  // between two geometries.
  struct AxisCache {
    Axis slots[3];
    int next = 0;
  };
  static const Axis& GetAxis(AxisCache* cache, uint32_t src, uint32_t dst,
                             const AxisMap& map);

  // Filters along columns: dst row y from `axis.taps` rows of src.
  static void Vertical(const uint8_t* src, size_t src_stride, size_t row_bytes,
                       const Axis& axis, uint8_t* dst, size_t dst_stride);

  AxisCache columns_, rows_;
  std::vector<uint8_t> shrunk_, transposed_, filtered_;
};

}  // namespace oiv4kv
