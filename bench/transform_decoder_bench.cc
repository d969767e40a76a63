// The Loader's fused decode (TransformDecoder) against a full decode of the
// same bytes, and TurboJPEG's decode time at each DCT scaling factor: which
// factors are fast in the installed libjpeg-turbo (2.1.5 in Debian 12).
// One 2048x1536 4:2:0 JPEG of SyntheticImage (photo-like content), in RAM.
//   build/bench/transform_decoder_bench
//   (BM_Scale/num/denom; BM_Full; BM_Fused/max_denom: 64 RandomResizedCrops
//   to 224x224 per iteration, time per image as items/s)
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
constexpr int kCrops = 64;

const std::vector<uint8_t>& Jpeg() {
  static const std::vector<uint8_t> jpeg = [] {
    std::vector<uint8_t> out;
    const Status s = EncodeJpeg(SyntheticImage(kWidth, kHeight, 7), {90, 2, false}, &out);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::exit(1);
    }
    return out;
  }();
  return jpeg;
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

// The public Decoder, full size (what a Dataset + torchvision pipeline decodes).
void BM_Full(benchmark::State& state) {
  Decoder decoder;
  DecodedImage img;
  for (auto _ : state) {
    if (!decoder.Decode(Jpeg(), DecodeOptions(), &img).ok()) state.SkipWithError("decode");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Full);

// RandomResizedCrop 224 + flip, fused; arg: max_scale_denom (1: no DCT scaling).
void BM_Fused(benchmark::State& state) {
  TransformOptions o;
  std::vector<TransformRecord> records(kCrops);
  for (int i = 0; i < kCrops; ++i) {
    if (!PlanTransform(o, kWidth, kHeight, {}, 1, 0, i, &records[i]).ok()) std::exit(1);
  }
  TransformDecoder decoder;
  std::vector<uint8_t> slot(224 * 224 * 3);
  for (auto _ : state) {
    for (const TransformRecord& r : records) {
      if (!decoder.DecodeTransformed(Jpeg(), r, 0, {}, slot, nullptr,
                                     static_cast<uint32_t>(state.range(0)))
               .ok()) {
        state.SkipWithError("fused decode");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kCrops);
}
BENCHMARK(BM_Fused)->Arg(8)->Arg(1);

}  // namespace
}  // namespace oiv4kv

BENCHMARK_MAIN();
