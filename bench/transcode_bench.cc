// The 300k transcode (store/convert Transcoder) against TFDS's OpenCV path
// (cv::imdecode(IMREAD_COLOR) + cv::resize(fx = fy = f, INTER_LINEAR) +
// cv::imencode(".jpg", q72)) on the same generated photo-like q90 JPEGs, one
// thread each. Counters: psnr_db against a double-precision area resample of
// the decoded source, out_bytes. After the runs a summary gives images/s of
// both, their ratio, and the quality figures side by side.
//
// Before benchmarking, the output sizes of both are compared on every kind of
// input (gray, CMYK, EXIF orientations, PNG, truncated, ...) and a sweep of
// image sizes; the program exits 1 on any mismatch.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "store/testing/sample_images.h"
#include "store/convert/transcode.h"

#ifdef OIV4KV_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace oiv4kv {
namespace {

constexpr uint64_t kTarget = 300'000;

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "transcode_bench: %s: %s\n", what,
                 s.ToString().c_str());
    std::exit(1);
  }
}

struct BenchImage {
  std::string name;
  std::vector<uint8_t> jpeg;
  RgbImage source;  // the decoded JPEG: what both paths start from
};

const std::vector<BenchImage>& Images() {
  static const std::vector<BenchImage>* images = [] {
    auto* v = new std::vector<BenchImage>;
    const std::pair<uint32_t, uint32_t> sizes[] = {{1024, 768},  {768, 1024},
                                                   {1024, 683},  {1600, 1200},
                                                   {2048, 1536}, {480, 360}};
    uint64_t seed = 1;
    for (auto [w, h] : sizes) {
      BenchImage b;
      b.name = std::to_string(w) + "x" + std::to_string(h);
      Check(EncodeJpeg(SyntheticImage(w, h, seed++), {90, 2, false}, &b.jpeg),
            "encode");
      Check(DecodeJpegRgb(b.jpeg, &b.source), "decode");
      v->push_back(std::move(b));
    }
    return v;
  }();
  return *images;
}

// PSNR of an output JPEG against the area resample of the image's source.
double QualityOf(const BenchImage& image, const std::vector<uint8_t>& jpeg) {
  RgbImage out;
  Check(DecodeJpegRgb(jpeg, &out), "decode output");
  static std::map<std::pair<std::string, uint32_t>, std::vector<double>> cache;
  auto& ref = cache[{image.name, out.width}];
  if (ref.empty()) ref = AreaResample(image.source, out.width, out.height);
  return Psnr(ref, out.pixels);
}

void BM_Transcode(benchmark::State& state) {
  const BenchImage& image = Images()[state.range(0)];
  Transcoder transcoder;
  TranscodeOptions options;
  options.target_pixels = kTarget;
  TranscodeResult result;
  for (auto _ : state) {
    Check(transcoder.Transcode(image.jpeg, options, &result), "transcode");
    benchmark::DoNotOptimize(result.jpeg.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(image.jpeg.size()));
  state.SetLabel(image.name + " -> " + std::to_string(result.width) + "x" +
                 std::to_string(result.height));
  state.counters["out_bytes"] = static_cast<double>(result.jpeg.size());
  state.counters["psnr_db"] = QualityOf(image, result.jpeg);
}

#ifdef OIV4KV_HAVE_OPENCV
// TFDS's _resize_image_if_necessary, in C++.
bool OpenCvTranscode(std::span<const uint8_t> bytes, uint64_t target,
                     std::vector<uchar>* out, int* width, int* height) {
  const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U,
                    const_cast<uint8_t*>(bytes.data()));
  cv::Mat image = cv::imdecode(buf, cv::IMREAD_COLOR);
  if (image.empty()) return false;
  const uint64_t pixels = uint64_t(image.rows) * image.cols;
  if (pixels > target) {
    const double f =
        std::sqrt(static_cast<double>(target) / static_cast<double>(pixels));
    cv::Mat resized;
    try {
      cv::resize(image, resized, cv::Size(), f, f, cv::INTER_LINEAR);
    } catch (const cv::Exception&) {
      return false;  // e.g. a side rounding to 0
    }
    image = resized;
  }
  *width = image.cols;
  *height = image.rows;
  return cv::imencode(".jpg", image, *out, {cv::IMWRITE_JPEG_QUALITY, 72});
}

void BM_OpenCv(benchmark::State& state) {
  const BenchImage& image = Images()[state.range(0)];
  std::vector<uchar> out;
  int w = 0, h = 0;
  for (auto _ : state) {
    if (!OpenCvTranscode(image.jpeg, kTarget, &out, &w, &h)) {
      state.SkipWithError("OpenCV failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(image.jpeg.size()));
  state.SetLabel(image.name + " -> " + std::to_string(w) + "x" +
                 std::to_string(h));
  state.counters["out_bytes"] = static_cast<double>(out.size());
  state.counters["psnr_db"] =
      QualityOf(image, std::vector<uint8_t>(out.begin(), out.end()));
}

// Output sizes of both paths on every kind of input and on a sweep of sizes.
// Returns the number of disagreements (printed).
int CompareSizesWithOpenCv() {
  struct Input {
    std::string name;
    std::vector<uint8_t> bytes;
  };
  std::vector<Input> inputs;
  const RgbImage image = SyntheticImage(330, 250, 5);
  auto jpeg = [&](JpegSpec spec) {
    std::vector<uint8_t> b;
    Check(EncodeJpeg(image, spec, &b), "encode");
    return b;
  };
  const std::vector<uint8_t> base = jpeg({90, 2, false});
  inputs.push_back({"baseline 4:2:0", base});
  inputs.push_back({"baseline 4:4:4", jpeg({90, 0, false})});
  inputs.push_back({"baseline 4:1:1", jpeg({90, 5, false})});
  inputs.push_back({"progressive", jpeg({90, 2, true})});
  inputs.push_back({"gray", jpeg({90, 3, false})});
  for (auto [kind, name] : {std::pair{JpegColorKind::kRgb, "RGB JPEG"},
                            {JpegColorKind::kCmyk, "CMYK"},
                            {JpegColorKind::kYcck, "YCCK"},
                            {JpegColorKind::kOddSampling, "odd sampling"}}) {
    std::vector<uint8_t> b;
    Check(EncodeJpegLibjpeg(image, kind, 90, &b), "encode");
    inputs.push_back({name, b});
  }
  for (int o = 1; o <= 8; ++o) {
    inputs.push_back({"EXIF " + std::to_string(o),
                      WithApp1(base, ExifTiffBlock(o, o % 2 == 0))});
  }
  for (auto [kind, name] : {std::pair{PngKind::kRgb8, "PNG RGB"},
                            {PngKind::kRgba8, "PNG RGBA"},
                            {PngKind::kGray8, "PNG gray"},
                            {PngKind::kPalette8, "PNG palette"},
                            {PngKind::kRgb16, "PNG 16-bit"}}) {
    std::vector<uint8_t> b;
    Check(EncodePng(image, kind, &b, ExifTiffBlock(6, false)), "encode");
    inputs.push_back({std::string(name) + " + eXIf 6", b});
  }
  inputs.push_back(
      {"truncated at half",
       std::vector<uint8_t>(base.begin(), base.begin() + base.size() / 2)});
  // Sizes: random sides up to 2500, content from OpenCV (any content will do).
  std::mt19937 rng(4);
  for (int i = 0; i < 60; ++i) {
    const int w = 1 + static_cast<int>(rng() % 2500),
              h = 1 + static_cast<int>(rng() % 2500);
    cv::Mat m(h, w, CV_8UC3);
    cv::randu(m, 0, 255);
    std::vector<uchar> b;
    cv::imencode(".jpg", m, b, {cv::IMWRITE_JPEG_QUALITY, 50});
    inputs.push_back(
        {std::to_string(w) + "x" + std::to_string(h), {b.begin(), b.end()}});
  }

  int mismatches = 0, compared = 0;
  Transcoder transcoder;
  for (uint64_t target : {uint64_t{30'000}, kTarget, uint64_t{200'000}}) {
    for (const Input& in : inputs) {
      std::vector<uchar> cv_out;
      int cw = 0, ch = 0;
      const bool cv_ok = OpenCvTranscode(in.bytes, target, &cv_out, &cw, &ch);
      TranscodeOptions options;
      options.target_pixels = target;
      TranscodeResult ours;
      const Status s = transcoder.Transcode(in.bytes, options, &ours);
      ++compared;
      if (cv_ok != s.ok() || (cv_ok && (cw != static_cast<int>(ours.width) ||
                                        ch != static_cast<int>(ours.height)))) {
        ++mismatches;
        std::fprintf(
            stderr,
            "size mismatch, %s at T=%llu: OpenCV %s %dx%d, ours %s %ux%u\n",
            in.name.c_str(), static_cast<unsigned long long>(target),
            cv_ok ? "ok" : "failed", cw, ch,
            s.ok() ? "ok" : s.ToString().c_str(), ours.width, ours.height);
      }
    }
  }
  std::printf("Output sizes compared with OpenCV on %d inputs: %d mismatches\n",
              compared, mismatches);
  return mismatches;
}
#endif  // OIV4KV_HAVE_OPENCV

void Args(benchmark::internal::Benchmark* b) {
  for (size_t i = 0; i < Images().size(); ++i) b->Arg(static_cast<int64_t>(i));
  b->ArgName("image")->Unit(benchmark::kMillisecond)->MinTime(1.0);
}
BENCHMARK(BM_Transcode)->Apply(Args);
#ifdef OIV4KV_HAVE_OPENCV
BENCHMARK(BM_OpenCv)->Apply(Args);
#endif

// Console output, plus a side-by-side summary of both paths per image (the
// median where repetitions were asked for).
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median")
        continue;
      const std::string name = r.benchmark_name();
      const bool ours = name.rfind("BM_Transcode", 0) == 0;
      const std::string image =
          r.report_label.substr(0, r.report_label.find(' '));
      Figures& f = (ours ? ours_ : opencv_)[image];
      auto get = [&](const char* key) {
        const auto it = r.counters.find(key);
        return it == r.counters.end() ? 0.0 : it->second.value;
      };
      if (r.run_type == Run::RT_Aggregate || f.images_per_s == 0) {
        f = {get("items_per_second"), get("psnr_db"), get("out_bytes"),
             r.report_label};
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-26s %11s %11s %7s %9s %9s %9s %9s\n", "image (300k)",
                "ours img/s", "OpenCV", "ratio", "ours dB", "OpenCV dB",
                "ours B", "OpenCV B");
    for (const auto& [image, o] : ours_) {
      const auto it = opencv_.find(image);
      const Figures c = it == opencv_.end() ? Figures{} : it->second;
      if (c.images_per_s <= 0) {  // no OpenCV run to compare with
        std::printf("%-26s %11.1f %11s %7s %9.2f %9s %9.0f %9s\n",
                    o.label.c_str(), o.images_per_s, "-", "-", o.psnr, "-",
                    o.bytes, "-");
        continue;
      }
      std::printf("%-26s %11.1f %11.1f %7.2f %9.2f %9.2f %9.0f %9.0f\n",
                  o.label.c_str(), o.images_per_s, c.images_per_s,
                  o.images_per_s / c.images_per_s, o.psnr, c.psnr, o.bytes,
                  c.bytes);
    }
  }

 private:
  struct Figures {
    double images_per_s = 0, psnr = 0, bytes = 0;
    std::string label;
  };
  std::map<std::string, Figures> ours_, opencv_;
};

}  // namespace
}  // namespace oiv4kv

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef OIV4KV_HAVE_OPENCV
  cv::setNumThreads(1);  // per core, as our transcoder
  if (oiv4kv::CompareSizesWithOpenCv() != 0) return 1;
#else
  std::printf("built without OpenCV: only the transcoder is measured\n");
#endif
  oiv4kv::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
