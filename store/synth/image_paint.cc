#include "store/synth/image_paint.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace oiv4kv::synth {
namespace {

uint8_t Clamp255(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

struct Rgb {
  float r, g, b;
};

// A colour from a scene-like palette: skies, foliage, earth, stone, skin,
// saturated objects.
Rgb PaletteColour(std::mt19937_64& rng) {
  static constexpr Rgb kBases[] = {
      {110, 160, 220}, {200, 220, 240}, {60, 110, 50},   {120, 150, 70},  {140, 110, 80},
      {90, 70, 50},    {160, 160, 150}, {60, 60, 65},    {220, 180, 150}, {200, 40, 40},
      {240, 200, 40},  {30, 60, 140},   {240, 240, 235}, {20, 20, 25}};
  const Rgb& base = kBases[std::uniform_int_distribution<size_t>(0, std::size(kBases) - 1)(rng)];
  std::normal_distribution<float> jitter(0.0f, 18.0f);
  return {base.r + jitter(rng), base.g + jitter(rng), base.b + jitter(rng)};
}

// A separable low-frequency swell: one sinusoid along one axis.
std::vector<int16_t> Wave(std::mt19937_64& rng, uint32_t n) {
  std::uniform_real_distribution<float> freq(0.3f, 3.0f), phase(0.0f, 6.2832f), amp(0.0f, 12.0f);
  const float f = freq(rng) * 6.2832f / static_cast<float>(n);
  const float p = phase(rng), a = amp(rng);
  std::vector<int16_t> t(n);
  for (uint32_t i = 0; i < n; ++i) {
    t[i] = static_cast<int16_t>(a * std::sin(f * static_cast<float>(i) + p));
  }
  return t;
}

// Value noise: random values on a grid of 2^shift pixels, bilinearly
// interpolated, so texture looks like foliage, clouds or fabric at that
// scale. `channels` 1 gives luminance only, 3 a luminance with some tint.
class ValueNoise {
 public:
  ValueNoise(uint32_t w, uint32_t h, int shift, int channels, int amp, uint64_t seed)
      : shift_(shift),
        channels_(channels),
        gw_((w >> shift) + 2),
        grid_(size_t{gw_} * ((h >> shift) + 2) * channels),
        vrow_(size_t{gw_} * channels) {
    uint64_t state = seed | 1;
    auto next = [&](int a) {  // uniform in [-a, a]; xorshift: grids are large
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      return static_cast<int>((state >> 32) % static_cast<uint64_t>(2 * a + 1)) - a;
    };
    for (size_t i = 0; i < grid_.size(); i += static_cast<size_t>(channels)) {
      const int luma = next(amp);
      for (int c = 0; c < channels; ++c) {
        grid_[i + c] = static_cast<int16_t>(luma + (c == 1 ? 0 : next(amp / 4)));
      }
    }
  }

  // Adds row y's noise to acc (w * channels values).
  void AddRow(uint32_t y, uint32_t w, int32_t* acc) {
    const int one = 1 << shift_, ch = channels_;
    const int fy = static_cast<int>(y & static_cast<uint32_t>(one - 1));
    const int16_t* g0 = grid_.data() + size_t{y >> shift_} * gw_ * ch;
    const int16_t* g1 = g0 + size_t{gw_} * ch;
    for (size_t i = 0; i < vrow_.size(); ++i) vrow_[i] = g0[i] * (one - fy) + g1[i] * fy;
    for (uint32_t k = 0; k + 1 < gw_; ++k) {
      const uint32_t x0 = k << shift_;
      if (x0 >= w) break;
      const uint32_t x1 = std::min(w, x0 + static_cast<uint32_t>(one));
      for (int c = 0; c < ch; ++c) {
        int32_t v = vrow_[k * ch + c] * one;
        const int32_t step = vrow_[(k + 1) * ch + c] - vrow_[k * ch + c];
        for (uint32_t x = x0; x < x1; ++x, v += step) acc[x * ch + c] += v >> (2 * shift_);
      }
    }
  }

 private:
  int shift_, channels_;
  uint32_t gw_;
  std::vector<int16_t> grid_;
  std::vector<int32_t> vrow_;
};

}  // namespace

void PaintNatural(uint32_t w, uint32_t h, uint64_t seed, std::vector<uint8_t>* rgb) {
  rgb->resize(size_t{w} * h * 3);
  if (w == 0 || h == 0) return;
  std::mt19937_64 rng(seed);
  uint8_t* px = rgb->data();

  // Background: a bilinear gradient between four corner colours (sky-like
  // above, ground-like below) with a gentle swell.
  const Rgb top_l = PaletteColour(rng), top_r = PaletteColour(rng);
  const Rgb bot_l = PaletteColour(rng), bot_r = PaletteColour(rng);
  const std::vector<int16_t> row_wave = Wave(rng, h), col_wave = Wave(rng, w);
  for (uint32_t y = 0; y < h; ++y) {
    const float t = h > 1 ? static_cast<float>(y) / static_cast<float>(h - 1) : 0.0f;
    const float l[3] = {top_l.r + (bot_l.r - top_l.r) * t, top_l.g + (bot_l.g - top_l.g) * t,
                        top_l.b + (bot_l.b - top_l.b) * t};
    const float r[3] = {top_r.r + (bot_r.r - top_r.r) * t, top_r.g + (bot_r.g - top_r.g) * t,
                        top_r.b + (bot_r.b - top_r.b) * t};
    int32_t v[3], step[3];  // 16.16 fixed point along the row
    for (int c = 0; c < 3; ++c) {
      v[c] = static_cast<int32_t>(l[c] * 65536.0f);
      step[c] = static_cast<int32_t>((r[c] - l[c]) * 65536.0f / static_cast<float>(w));
    }
    uint8_t* row = px + size_t{y} * w * 3;
    const int rw = row_wave[y];
    for (uint32_t x = 0; x < w; ++x) {
      const int wave = rw + col_wave[x];
      for (int c = 0; c < 3; ++c) {
        row[x * 3 + c] = Clamp255((v[c] >> 16) + wave);
        v[c] += step[c];
      }
    }
  }

  // Objects: shaded ellipses and rectangles, some translucent; then small
  // opaque ones filled with fine stripes (fabric, fences, blinds): detail
  // near the Nyquist limit, which aliases under a poor resampler.
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int shapes = std::uniform_int_distribution<int>(2, 9)(rng);
  const int striped_shapes = 1 + static_cast<int>(size_t{w} * h / 60'000);
  const float min_side = static_cast<float>(std::min(w, h));
  for (int s = 0; s < shapes + striped_shapes; ++s) {
    const bool striped = s >= shapes;
    const bool ellipse = unit(rng) < 0.6f;
    const float cx = unit(rng) * static_cast<float>(w), cy = unit(rng) * static_cast<float>(h);
    const float rx = striped ? std::max(1.5f, (0.03f + 0.09f * unit(rng)) * min_side)
                             : (0.04f + 0.3f * unit(rng)) * static_cast<float>(w);
    const float ry = striped ? std::max(1.5f, (0.03f + 0.09f * unit(rng)) * min_side)
                             : (0.04f + 0.3f * unit(rng)) * static_cast<float>(h);
    const Rgb colour = PaletteColour(rng);
    const float shade = (unit(rng) - 0.5f) * 120.0f;  // light from above or below
    const int alpha =
        striped || unit(rng) < 0.7f ? 256 : std::uniform_int_distribution<int>(90, 200)(rng);
    // Stripes: 45 * sin(2 pi (x cos a + y sin a) / period), period 2.5..7 px.
    float kx = 0.0f, ky = 0.0f;
    if (striped) {
      const float period = 2.5f + 4.5f * unit(rng), angle = 3.14159265f * unit(rng);
      kx = 6.2831853f * std::cos(angle) / period, ky = 6.2831853f * std::sin(angle) / period;
    }
    const int y0 = std::max(0, static_cast<int>(cy - ry));
    const int y1 = std::min(static_cast<int>(h) - 1, static_cast<int>(cy + ry));
    for (int y = y0; y <= y1; ++y) {
      const float dy = (static_cast<float>(y) - cy) / ry;
      const float half = ellipse ? rx * std::sqrt(std::max(0.0f, 1.0f - dy * dy)) : rx;
      const int x0 = std::max(0, static_cast<int>(cx - half));
      const int x1 = std::min(static_cast<int>(w) - 1, static_cast<int>(cx + half));
      const float lit = shade * dy * 0.5f;
      const int cr = static_cast<int>(colour.r + lit), cg = static_cast<int>(colour.g + lit),
                cb = static_cast<int>(colour.b + lit);
      uint8_t* row = px + size_t(y) * w * 3;
      for (int x = x0; x <= x1; ++x) {
        uint8_t* p = row + x * 3;
        const int stripe =
            striped ? static_cast<int>(45.0f *
                                       std::sin(kx * static_cast<float>(x) + ky * static_cast<float>(y)))
                    : 0;
        p[0] = Clamp255(p[0] + (((cr + stripe - p[0]) * alpha) >> 8));
        p[1] = Clamp255(p[1] + (((cg + stripe - p[1]) * alpha) >> 8));
        p[2] = Clamp255(p[2] + (((cb + stripe - p[2]) * alpha) >> 8));
      }
    }
  }

  // Texture at three scales, each image with its own mix (smooth skies to
  // busy foliage), and sensor noise; added row by row in one pass. Only
  // the coarse scale is tinted: fine chroma would be subsampled away.
  std::uniform_int_distribution<int> amp_coarse(6, 30), amp_medium(2, 18), amp_fine(0, 14);
  ValueNoise coarse(w, h, 6, 3, amp_coarse(rng), rng());
  ValueNoise medium(w, h, 4, 1, amp_medium(rng), rng());
  ValueNoise fine(w, h, 2, 1, amp_fine(rng), rng());
  const int amp = std::uniform_int_distribution<int>(1, 6)(rng);
  uint32_t state = static_cast<uint32_t>(seed) | 1u;
  std::vector<int32_t> tint(size_t{w} * 3), luma(w);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {  // sensor noise
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      luma[x] = static_cast<int>(((state & 0xFF) * (2 * amp + 1)) >> 8) - amp;
    }
    std::fill(tint.begin(), tint.end(), 0);
    coarse.AddRow(y, w, tint.data());
    medium.AddRow(y, w, luma.data());
    fine.AddRow(y, w, luma.data());
    uint8_t* row = px + size_t{y} * w * 3;
    for (uint32_t x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c)
        row[x * 3 + c] = Clamp255(row[x * 3 + c] + luma[x] + tint[x * 3 + c]);
    }
  }
}

RgbImage SyntheticImage(uint32_t width, uint32_t height, uint64_t seed) {
  RgbImage image{width, height, {}};
  PaintNatural(width, height, seed, &image.pixels);
  return image;
}

}  // namespace oiv4kv::synth
