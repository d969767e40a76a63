#include "store/convert/resample.h"

#include <libyuv/rotate.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace oiv4kv {
namespace {

constexpr int kWeightBits = 14;
constexpr int32_t kHalf = 1 << (kWeightBits - 1);

// The hot loop is written for the auto-vectorizer (this file is built with
// -O3); target_clones adds an AVX2 copy picked at load time, so the library
// still runs on any x86-64. Not under ThreadSanitizer: GCC instruments the
// clones' ifunc resolver, which the dynamic loader runs while relocating the
// program, before TSan's runtime is set up, and the program dies of SIGSEGV
// before main (the TSan build of convert_test, scripts/test.sh).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define OIV4KV_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OIV4KV_CLONES
#endif

// Up to 4 taps in 16-bit lanes: (v << 8) * (w << 2) >> 16 = v * w / 64
// (the vectorizer turns it into pmulhuw), whose sum over the taps fits 16
// bits because the weights sum to 1 << 14. Truncating each product costs
// under 4/256 of a level.
template <int K>
OIV4KV_CLONES void RowsFixed(const uint8_t* const* rows, const int16_t* w,
                             uint8_t* __restrict out, size_t n) {
  const uint8_t* __restrict r[K];
  uint16_t wk[K];
  for (int k = 0; k < K; ++k) {
    r[k] = rows[k];
    wk[k] = static_cast<uint16_t>(w[k] << 2);
  }
  for (size_t x = 0; x < n; ++x) {
    uint16_t acc = 128;
    for (int k = 0; k < K; ++k) {
      const uint16_t v = static_cast<uint16_t>(r[k][x] << 8);
      acc = static_cast<uint16_t>(acc +
                                  ((static_cast<uint32_t>(v) * wk[k]) >> 16));
    }
    out[x] = static_cast<uint8_t>(acc >> 8);
  }
}

// Any number of taps; `acc` is scratch of n values.
void RowsAny(const uint8_t* src, size_t src_stride, int taps, const int16_t* w,
             uint8_t* __restrict out, size_t n, int32_t* __restrict acc) {
  for (size_t x = 0; x < n; ++x) acc[x] = kHalf;
  for (int k = 0; k < taps; ++k) {
    const uint8_t* __restrict r = src + static_cast<size_t>(k) * src_stride;
    const int32_t wk = w[k];
    if (wk == 0) continue;
    for (size_t x = 0; x < n; ++x) acc[x] += wk * r[x];
  }
  for (size_t x = 0; x < n; ++x)
    out[x] = static_cast<uint8_t>(acc[x] >> kWeightBits);
}

// Horizontal filtering of interleaved pixels (the 4-channel path only:
// CMYK and PNG input, where speed matters less than for planes).
void ColumnsInterleaved(const uint8_t* src, size_t src_stride, uint32_t rows,
                        const int32_t* start, const int16_t* w, int taps,
                        uint32_t n, int channels, uint8_t* dst,
                        size_t dst_stride) {
  for (uint32_t y = 0; y < rows; ++y) {
    const uint8_t* in = src + y * src_stride;
    uint8_t* out = dst + y * dst_stride;
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t* p = in + static_cast<size_t>(start[i]) * channels;
      const int16_t* wi = w + static_cast<size_t>(i) * taps;
      for (int c = 0; c < channels; ++c) {
        int32_t acc = kHalf;
        for (int k = 0; k < taps; ++k) acc += wi[k] * p[k * channels + c];
        out[static_cast<size_t>(i) * channels + c] =
            static_cast<uint8_t>(acc >> kWeightBits);
      }
    }
  }
}

}  // namespace

const Resampler::Axis& Resampler::GetAxis(AxisCache* cache, uint32_t src,
                                          uint32_t dst, const AxisMap& map) {
  for (const Axis& a : cache->slots) {
    if (a.src == src && a.dst == dst && a.map == map && a.taps > 0) return a;
  }
  Axis& a = cache->slots[cache->next];
  cache->next = (cache->next + 1) % static_cast<int>(std::size(cache->slots));
  Build(src, dst, map, &a);
  return a;
}

void Resampler::Build(uint32_t src, uint32_t dst, const AxisMap& map,
                      Axis* axis) {
  axis->src = src;
  axis->dst = dst;
  axis->map = map;
  const double scale = map.scale;
  // Taps: an interval of length `scale` touches at most ceil(scale) + 1
  // pixels.
  int taps = static_cast<int>(std::ceil(scale)) + 1;
  taps = std::max(1, std::min<int>(taps, static_cast<int>(src)));
  axis->taps = taps;
  axis->start.assign(dst, 0);
  axis->weights.assign(static_cast<size_t>(dst) * taps, 0);
  std::vector<double> w(taps);
  const double last = static_cast<double>(src);
  for (uint32_t i = 0; i < dst; ++i) {
    // The covered interval, clipped to the source; weights by overlap.
    const double lo = std::clamp(map.offset + i * scale, 0.0, last);
    const double hi = std::clamp(map.offset + (i + 1) * scale, 0.0, last);
    const int64_t first =
        std::min<int64_t>(static_cast<int64_t>(std::floor(lo)), src - 1);
    int count = 0;
    if (hi - lo <= 0.0) {
      w[count++] = 1.0;  // wholly outside: the nearest edge pixel
    } else {
      const int64_t end =
          std::min<int64_t>(static_cast<int64_t>(std::ceil(hi)), src);
      for (int64_t j = first; j < std::max(end, first + 1) && count < taps;
           ++j) {
        const double overlap =
            std::min<double>(hi, j + 1) - std::max<double>(lo, j);
        w[count++] = std::max(0.0, overlap) / (hi - lo);
      }
    }
    // Shift the window left where it would run past the end, so every
    // output reads exactly `taps` pixels inside the source.
    const int64_t start =
        std::min<int64_t>(first, static_cast<int64_t>(src) - taps);
    axis->start[i] = static_cast<int32_t>(start);
    int16_t* out = &axis->weights[static_cast<size_t>(i) * taps];
    int32_t sum = 0;
    int big = static_cast<int>(first - start);
    for (int k = 0; k < count && first - start + k < taps; ++k) {
      const int slot = static_cast<int>(first - start + k);
      out[slot] = static_cast<int16_t>(std::lround(w[k] * (1 << kWeightBits)));
      sum += out[slot];
      if (out[slot] > out[big]) big = slot;
    }
    out[big] = static_cast<int16_t>(out[big] +
                                    ((1 << kWeightBits) - sum));  // exact sum
  }
}

void Resampler::Vertical(const uint8_t* src, size_t src_stride,
                         size_t row_bytes, const Axis& axis, uint8_t* dst,
                         size_t dst_stride) {
  const uint8_t* rows[4];
  std::vector<int32_t> acc;
  for (uint32_t y = 0; y < axis.dst; ++y) {
    const int16_t* w = &axis.weights[static_cast<size_t>(y) * axis.taps];
    const uint8_t* first =
        src + static_cast<size_t>(axis.start[y]) * src_stride;
    uint8_t* out = dst + static_cast<size_t>(y) * dst_stride;
    if (axis.taps <= 4) {
      for (int k = 0; k < axis.taps; ++k) rows[k] = first + k * src_stride;
    }
    // A weight of 1 (a sample on a pixel centre) would overflow the 16-bit
    // lanes of RowsFixed; it is a copy anyway.
    const int16_t* one = std::find(w, w + axis.taps, int16_t{1 << kWeightBits});
    if (one != w + axis.taps) {
      std::memcpy(out, first + (one - w) * src_stride, row_bytes);
      continue;
    }
    switch (axis.taps) {
      case 1:
        RowsFixed<1>(rows, w, out, row_bytes);
        break;
      case 2:
        RowsFixed<2>(rows, w, out, row_bytes);
        break;
      case 3:
        RowsFixed<3>(rows, w, out, row_bytes);
        break;
      case 4:
        RowsFixed<4>(rows, w, out, row_bytes);
        break;
      default:
        acc.resize(row_bytes);
        RowsAny(first, src_stride, axis.taps, w, out, row_bytes, acc.data());
    }
  }
}

void Resampler::Resample(const uint8_t* src, size_t src_stride, uint32_t src_w,
                         uint32_t src_h, uint8_t* dst, size_t dst_stride,
                         uint32_t dst_w, uint32_t dst_h, int channels) {
  Resample(src, src_stride, src_w, src_h, dst, dst_stride, dst_w, dst_h,
           channels, AxisMap{static_cast<double>(src_w) / dst_w, 0.0},
           AxisMap{static_cast<double>(src_h) / dst_h, 0.0});
}

void Resampler::Resample(const uint8_t* src, size_t src_stride, uint32_t src_w,
                         uint32_t src_h, uint8_t* dst, size_t dst_stride,
                         uint32_t dst_w, uint32_t dst_h, int channels,
                         const AxisMap& x, const AxisMap& y) {
  const Axis& v = GetAxis(&rows_, src_h, dst_h, y);
  const Axis& h = GetAxis(&columns_, src_w, dst_w, x);
  const size_t src_row = static_cast<size_t>(src_w) * channels;
  const size_t dst_row = static_cast<size_t>(dst_w) * channels;
  const AxisMap identity;
  const bool same_w = src_w == dst_w && x == identity;
  const bool same_h = src_h == dst_h && y == identity;

  // Columns first: it shrinks the rows the horizontal pass has to read.
  const uint8_t* mid = src;
  size_t mid_stride = src_stride;
  if (same_w) {
    if (same_h) {
      for (uint32_t y = 0; y < dst_h; ++y) {
        std::memcpy(dst + y * dst_stride, src + y * src_stride, dst_row);
      }
    } else {
      Vertical(src, src_stride, src_row, v, dst, dst_stride);
    }
    return;
  }
  if (!same_h) {
    shrunk_.resize(src_row * dst_h);
    Vertical(src, src_stride, src_row, v, shrunk_.data(), src_row);
    mid = shrunk_.data();
    mid_stride = src_row;
  }
  if (channels != 1) {
    ColumnsInterleaved(mid, mid_stride, dst_h, h.start.data(), h.weights.data(),
                       h.taps, dst_w, channels, dst, dst_stride);
    return;
  }
  // Rows of a plane: transpose, filter the transposed rows with the same
  // vectorized loop, transpose back (libyuv's SIMD transpose is cheap).
  transposed_.resize(static_cast<size_t>(src_w) * dst_h);
  libyuv::TransposePlane(mid, static_cast<int>(mid_stride), transposed_.data(),
                         static_cast<int>(dst_h), static_cast<int>(src_w),
                         static_cast<int>(dst_h));
  filtered_.resize(static_cast<size_t>(dst_w) * dst_h);
  Vertical(transposed_.data(), dst_h, dst_h, h, filtered_.data(), dst_h);
  libyuv::TransposePlane(filtered_.data(), static_cast<int>(dst_h), dst,
                         static_cast<int>(dst_stride), static_cast<int>(dst_h),
                         static_cast<int>(dst_w));
}

}  // namespace oiv4kv
