// The one synthetic image generator of the project: natural-looking RGB
// content (a two-colour gradient with a gentle swell, shaded and translucent
// shapes, small shapes filled with fine stripes, texture at three scales and
// sensor noise) that compresses and resamples like a photo, unlike flat
// colour. Used by `oiv4-kv synth` (through ImageEncoder, synth_image.h) and,
// through store/testing/sample_images.h, by the tests and benchmarks.
// Deterministic: the pixels depend only on (width, height, seed), on every
// platform. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace oiv4kv::synth {

// Interleaved 8-bit pixels, row-major, no row padding.
struct RgbImage {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> pixels;  // R,G,B per pixel
};

// Fills `rgb` with width*height*3 bytes of natural-looking content. The
// striped shapes hold detail near the Nyquist limit, which aliases under a
// poor resampler (what the transcoder's tests measure).
void PaintNatural(uint32_t width, uint32_t height, uint64_t seed, std::vector<uint8_t>* rgb);

// The same pixels as an RgbImage.
RgbImage SyntheticImage(uint32_t width, uint32_t height, uint64_t seed);

}  // namespace oiv4kv::synth
