// The Loader (oiv4kv/loader.h) on the 300k image store bench/run.sh makes,
// against the decode limit: TurboJPEG decoding the same JPEG bytes from RAM
// at full size, no crop, on the same number of threads.
//
//   build/bench/loader_bench --img_store=DIR [--loader_batches=N]
//       [Google Benchmark flags]
//
// Benchmarks (the "threads:N" in the name is the Loader's worker threads,
// or the decode limit's Google Benchmark threads):
//   Loader/random_resized_crop_224/threads:N  batches of 256, 224x224,
//       RandomResizedCrop + flip p = 0.5 (the Loader's defaults), shuffled;
//   Loader/letterbox_640/threads:N            batches of 256, letterbox to
//       640x640 with the boxes transformed;
//   DecodeLimit/turbojpeg_full/threads:N      tjDecompress2 to RGB, full
//       size, of the bytes of the images the Loader reads (copied to RAM).
// One iteration of a Loader benchmark opens a Loader on the train split and
// takes --loader_batches batches (default 8). items/s counts the images of
// the batches after the first over the time they took (manual time), so it
// is the steady rate; counters:
//   first_batch_ms  Open until the first batch is out (time-to-first-batch);
//   peak_rss_mib    the process's peak resident set while the Loader ran:
//                   VmHWM of /proc/self/status, after the kernel's peak was
//                   reset (/proc/self/clear_refs "5") at the start of the
//                   benchmark, so it is this benchmark's peak, not an
//                   earlier one's (rss_reset = 0: the reset was refused and
//                   it is the process's peak so far);
//   maxrss_mib      getrusage(RUSAGE_SELF).ru_maxrss, the same peak as the
//                   kernel's rusage reports it. Where the kernel keeps the
//                   peak of exited threads apart (signal->maxrss, which
//                   clear_refs does not reset) it can be an earlier
//                   benchmark's peak (the letterbox ring); on the 6.x kernel
//                   of the one run so far it equalled peak_rss_mib;
//   ring_mib        the ring's images (prefetch + 1 batches), the part of the
//                   RSS the options decide;
//   rss_budget      peak_rss_mib / (ring_mib + 64 * threads): the issue's
//                   target is <= 1;
//   anon_base_mib   RssAnon (private memory: not the store's mapped file
//                   pages) before the benchmark's first Loader opened: the
//                   process's own (RocksDB, the decode limit's copies);
//   anon_peak_mib   RssAnon's peak while the Loaders ran, sampled every 2 ms
//                   by a thread of the benchmark;
//   loader_budget   (anon_peak_mib - anon_base_mib) / (ring_mib + 64 *
//                   threads): the private memory the Loader added, against
//                   the same budget.
// The store (its RocksDB caches, the mapped files the reads touch) is in the
// RSS too: every image is read once (WarmImages) before the first benchmark.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <turbojpeg.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_data.h"
#include "oiv4kv/loader.h"
#include "oiv4kv/store.h"

namespace oiv4kv::bench {
namespace {

constexpr Split kSplit = Split::kTrain;
constexpr uint32_t kBatch = 256;
uint32_t g_batches = 8;  // --loader_batches

// Takes --loader_batches=N out of argv.
void ParseLoaderFlags(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const char* flag = "--loader_batches=";
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) {
      const int n = std::atoi(argv[i] + std::strlen(flag));
      if (n < 2) {
        std::fprintf(stderr, "loader_bench: --loader_batches must be >= 2 (got %s)\n",
                     argv[i] + std::strlen(flag));
        std::exit(2);
      }
      g_batches = static_cast<uint32_t>(n);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
}

LoaderOptions Options(TransformKind kind, uint32_t threads) {
  LoaderOptions o;
  o.scan.order = ScanOrder::kShuffled;
  o.scan.seed = 42;
  o.scan.batch_size = kBatch;
  o.scan.config = Config::k300k;
  o.transform.kind = kind;
  if (kind == TransformKind::kLetterbox) o.transform.width = o.transform.height = 640;
  o.threads = threads;
  o.prefetch = 2;
  return o;
}

// Resets the kernel's peak RSS of this process; false if refused.
bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// VmHWM (KiB) of /proc/self/status in MiB; -1 if absent.
double PeakRssMib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

// RssAnon (KiB) of /proc/self/status in MiB; -1 if absent.
double AnonRssMib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::atof(line.c_str() + 8) / 1024.0;
  }
  return -1;
}

// Samples AnonRssMib every 2 ms on a thread while it lives; peak() is the
// largest sample.
class AnonPeakSampler {
 public:
  AnonPeakSampler() : peak_(AnonRssMib()), thread_([this] { Run(); }) {}
  ~AnonPeakSampler() {
    stop_ = true;
    thread_.join();
  }
  double peak() const { return peak_.load(); }

 private:
  void Run() {
    while (!stop_) {
      const double v = AnonRssMib();
      if (v > peak_.load()) peak_ = v;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::atomic<double> peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

double MaxRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

void LoaderRun(benchmark::State& state, TransformKind kind, uint32_t threads) {
  const Store& store = ImageStore();
  const LoaderOptions o = Options(kind, threads);
  const bool reset = ResetPeakRss();
  const double anon_base = AnonRssMib();
  std::unique_ptr<AnonPeakSampler> sampler = std::make_unique<AnonPeakSampler>();
  double first_batch_s = 0;
  uint64_t images = 0;
  for (auto _ : state) {
    using Clock = std::chrono::steady_clock;
    const auto open = Clock::now();
    std::unique_ptr<Loader> loader;
    Check(Loader::Open(&store, kSplit, o, &loader));
    const LoaderBatch* b = nullptr;
    Check(loader->Next(&b));
    const auto first = Clock::now();
    if (b == nullptr) {
      state.SkipWithError("the train split holds no batch");
      break;
    }
    first_batch_s += std::chrono::duration<double>(first - open).count();
    uint32_t taken = 1;
    for (; taken < g_batches; ++taken) {
      Check(loader->Next(&b));
      if (b == nullptr) break;
      for (uint8_t v : b->valid) images += v;
      benchmark::DoNotOptimize(b->images.data());
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - first).count());
    if (taken < 2) {
      state.SkipWithError("the train split holds fewer than 2 batches");
      break;
    }
    // The Loader's destruction (joining its workers) is not timed.
  }
  const double ring_mib =
      double(o.prefetch + 1) * kBatch * ImageBytes(o.transform.width, o.transform.height,
                                                   o.output) / (1024.0 * 1024.0);
  state.SetItemsProcessed(static_cast<int64_t>(images));
  state.counters["first_batch_ms"] =
      1000.0 * first_batch_s / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  const double peak = PeakRssMib();
  state.counters["peak_rss_mib"] = peak;
  state.counters["rss_reset"] = reset ? 1 : 0;
  state.counters["maxrss_mib"] = MaxRssMib();
  state.counters["ring_mib"] = ring_mib;
  state.counters["rss_budget"] = peak / (ring_mib + 64.0 * threads);
  const double anon_peak = sampler->peak();
  sampler.reset();
  state.counters["anon_base_mib"] = anon_base;
  state.counters["anon_peak_mib"] = anon_peak;
  state.counters["loader_budget"] = (anon_peak - anon_base) / (ring_mib + 64.0 * threads);
}

// The bytes of the images the Loader benchmarks read: one pass of the same
// options, its image ids, their 300k JPEGs copied to RAM.
const std::vector<std::vector<uint8_t>>& LoaderImages() {
  static const std::vector<std::vector<uint8_t>> bytes = [] {
    const Store& store = ImageStore();
    std::unique_ptr<Loader> loader;
    Check(Loader::Open(&store, kSplit, Options(TransformKind::kRandomResizedCrop, 0), &loader));
    std::vector<std::vector<uint8_t>> out;
    const LoaderBatch* b = nullptr;
    for (uint32_t i = 0; i < g_batches; ++i) {
      Check(loader->Next(&b));
      if (b == nullptr) break;
      for (uint32_t s = 0; s < b->size; ++s) {
        if (!b->valid[s]) continue;
        ImageView v;
        Check(store.GetImage(Config::k300k, kSplit, b->image_ids[s], &v));
        out.emplace_back(v.bytes().begin(), v.bytes().end());
      }
    }
    if (out.empty()) Check(Status::InvalidArgument("loader_bench: the train split is empty"));
    return out;
  }();
  return bytes;
}

// TurboJPEG full-size RGB decode from RAM; thread t of T decodes images t,
// t + T, ... (Google Benchmark sums items over threads: images/s of all).
void DecodeLimit(benchmark::State& state) {
  const std::vector<std::vector<uint8_t>>& images = LoaderImages();
  tjhandle handle = tjInitDecompress();
  std::vector<unsigned char> rgb;
  size_t i = static_cast<size_t>(state.thread_index()) % images.size();
  for (auto _ : state) {
    const std::vector<uint8_t>& jpeg = images[i];
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(handle, jpeg.data(), jpeg.size(), &w, &h, &subsamp,
                            &colorspace) != 0) {
      state.SkipWithError(tjGetErrorStr2(handle));
      break;
    }
    rgb.resize(size_t(w) * h * 3);
    if (tjDecompress2(handle, jpeg.data(), jpeg.size(), rgb.data(), w, 0, h, TJPF_RGB, 0) != 0) {
      state.SkipWithError(tjGetErrorStr2(handle));
      break;
    }
    benchmark::DoNotOptimize(rgb.data());
    i = (i + static_cast<size_t>(state.threads())) % images.size();
  }
  tjDestroy(handle);
  state.SetItemsProcessed(state.iterations());
}

void Register() {
  for (uint32_t threads : {1u, 2u}) {
    const std::string t = "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("Loader/random_resized_crop_224" + t).c_str(), LoaderRun,
                                 TransformKind::kRandomResizedCrop, threads)
        ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);
    benchmark::RegisterBenchmark(("Loader/letterbox_640" + t).c_str(), LoaderRun,
                                 TransformKind::kLetterbox, threads)
        ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);
  }
  // Named by its Google Benchmark threads ("DecodeLimit/turbojpeg_full/threads:2").
  benchmark::RegisterBenchmark("DecodeLimit/turbojpeg_full", DecodeLimit)
      ->Threads(1)->Threads(2)->UseRealTime();
}

}  // namespace
}  // namespace oiv4kv::bench

int main(int argc, char** argv) {
  oiv4kv::bench::ParseLoaderFlags(&argc, argv);
  return oiv4kv::bench::RunBenchmarks(argc, argv, oiv4kv::bench::Register);
}
