// The Loader's fused decode (TransformDecoder) against a full decode of the
// same bytes, and TurboJPEG's decode time at each DCT scaling factor: which
// factors are fast in the installed libjpeg-turbo (2.1.5 in Debian 12).
// A 2048x1536 4:2:0 JPEG of SyntheticImage (photo-like content; an original)
// and a 640x480 one (a 300k image), in RAM.
//   build/bench/transform_decoder_bench
//   (BM_Scale/num/denom; BM_Full/width; BM_Fused/width/max_denom: 64
//   RandomResizedCrops to 224x224 per iteration, time per image as items/s)
#include <benchmark/benchmark.h>
#include <turbojpeg.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "oiv4kv/decode.h"
#include "oiv4kv/transform_decoder.h"
#include "store/testing/sample_images.h"

namespace oiv4kv {
namespace {

constexpr uint32_t kWidth = 2048, kHeight = 1536;
constexpr uint32_t kSmallWidth = 640, kSmallHeight = 480;
constexpr int kCrops = 64;

std::vector<uint8_t> MakeJpeg(uint32_t width, uint32_t height) {
  std::vector<uint8_t> out;
  const Status s = EncodeJpeg(SyntheticImage(width, height, 7), {90, 2, false}, &out);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  return out;
}

// The image `width` wide (kWidth or kSmallWidth).
const std::vector<uint8_t>& Jpeg(int64_t width = kWidth) {
  static const std::vector<uint8_t> large = MakeJpeg(kWidth, kHeight);
  static const std::vector<uint8_t> small = MakeJpeg(kSmallWidth, kSmallHeight);
  return width == kWidth ? large : small;
}

// TurboJPEG at scaling factor num/denom (args).
void BM_Scale(benchmark::State& state) {
  const tjscalingfactor f{static_cast<int>(state.range(0)), static_cast<int>(state.range(1))};
  const int w = TJSCALED(static_cast<int>(kWidth), f), h = TJSCALED(static_cast<int>(kHeight), f);
  std::vector<unsigned char> out(size_t(w) * h * 3);
  tjhandle handle = tjInitDecompress();
  const std::vector<uint8_t>& jpeg = Jpeg();
  for (auto _ : state) {
    if (tjDecompress2(handle, jpeg.data(), jpeg.size(), out.data(), w, 0, h, TJPF_RGB, 0) != 0) {
      state.SkipWithError(tjGetErrorStr2(handle));
      break;
    }
  }
  tjDestroy(handle);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Scale)
    ->Args({1, 1})->Args({7, 8})->Args({3, 4})->Args({5, 8})->Args({1, 2})->Args({3, 8})
    ->Args({1, 4})->Args({1, 8});

// The public Decoder, full size (what a Dataset + torchvision pipeline
// decodes); arg: the image's width.
void BM_Full(benchmark::State& state) {
  Decoder decoder;
  DecodedImage img;
  const std::vector<uint8_t>& jpeg = Jpeg(state.range(0));
  for (auto _ : state) {
    if (!decoder.Decode(jpeg, DecodeOptions(), &img).ok()) state.SkipWithError("decode");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Full)->Arg(kWidth)->Arg(kSmallWidth);

// RandomResizedCrop 224 + flip, fused; args: the image's width,
// max_scale_denom (1: no DCT scaling).
void BM_Fused(benchmark::State& state) {
  TransformOptions o;
  const uint32_t width = static_cast<uint32_t>(state.range(0));
  const uint32_t height = width == kWidth ? kHeight : kSmallHeight;
  const std::vector<uint8_t>& jpeg = Jpeg(width);
  std::vector<TransformRecord> records(kCrops);
  for (int i = 0; i < kCrops; ++i) {
    if (!PlanTransform(o, width, height, {}, 1, 0, i, &records[i]).ok()) std::exit(1);
  }
  TransformDecoder decoder;
  std::vector<uint8_t> slot(224 * 224 * 3);
  for (auto _ : state) {
    for (const TransformRecord& r : records) {
      if (!decoder.DecodeTransformed(jpeg, r, 0, {}, slot, nullptr,
                                     static_cast<uint32_t>(state.range(1)))
               .ok()) {
        state.SkipWithError("fused decode");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kCrops);
}
BENCHMARK(BM_Fused)
    ->Args({kWidth, 8})->Args({kWidth, 1})->Args({kSmallWidth, 8})->Args({kSmallWidth, 1});

}  // namespace
}  // namespace oiv4kv

BENCHMARK_MAIN();
