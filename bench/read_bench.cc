// The read path against the alternatives, in one binary on the same keys and
// values: oiv4-kv vs LMDB (MDB_RDONLY, one read transaction per thread) vs
// one file per image (open + pread of the whole file). Every figure is
// items/s over real time, so 2-thread rows are totals.
//
// Run through bench/run.sh, which makes the stores, runs this with
// repetitions and writes bench/REPORT.md with the ratios.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <random>

#include "bench/bench_data.h"
#include "oiv4kv/decode.h"  // NOLINT
#include "oiv4kv/scan.h"
#include "store/core/format/keys.h"

namespace oiv4kv::bench {
namespace {

constexpr Split kSplit = Split::kTrain;

// Random train examples of `store`, the same sequence for every system.
class RandomPicks {
 public:
  RandomPicks(const Store& store, uint64_t seed)
      : ids_(store.ImageIds(kSplit)), rng_(seed), pick_(0, ids_.size() - 1) {}
  uint64_t NextId() { return ids_[pick_(rng_)]; }

 private:
  std::span<const uint64_t> ids_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<uint64_t> pick_;
};

// --- Random annotation Get --------------------------------------------------

void AnnotationGetStore(benchmark::State& state) {
  const Store& store = AnnotationStore();
  RandomPicks picks(store, state.thread_index() + 1);
  uint64_t sum = 0;
  for (auto _ : state) {
    ExampleView v;
    Check(store.Get(kSplit, picks.NextId(), &v));
    sum += Touch(v);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

// The same store with other options: through RocksDB Gets
// (index_annotations off), to show what the index is worth; with the
// FlatBuffers verifier on every read (verify_records), to show what it costs.
void AnnotationGetStoreWith(benchmark::State& state, bool index, bool verify) {
  static auto* stores = new std::map<std::pair<bool, bool>, std::unique_ptr<Store>>;
  static std::mutex mu;
  const Store* store;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto& s = (*stores)[{index, verify}];
    if (!s) {
      StoreOptions o;
      o.index_annotations = index;
      o.verify_records = verify;
      Check(Store::Open(Paths().annotation_store, o, &s));
    }
    store = s.get();
  }
  RandomPicks picks(*store, state.thread_index() + 1);
  uint64_t sum = 0;
  for (auto _ : state) {
    ExampleView v;
    Check(store->Get(kSplit, picks.NextId(), &v));
    sum += Touch(v);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

void AnnotationGetLmdb(benchmark::State& state, bool verify) {
  const Lmdb& db = AnnotationLmdb();
  LmdbReader reader(db);
  RandomPicks picks(AnnotationStore(), state.thread_index() + 1);
  uint64_t sum = 0;
  for (auto _ : state) {
    const uint64_t id = picks.NextId();
    const std::span<const uint8_t> value = reader.Get(KeyView(EncodeKey(kSplit, id)));
    ExampleView v;
    Check(ViewOfRecord(value, kSplit, id, verify, &v));
    sum += Touch(v);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

// --- Random image Get (300k) -------------------------------------------------

void ImageGetStore(benchmark::State& state) {
  const Store& store = ImageStore();
  RandomPicks picks(store, state.thread_index() + 11);
  uint64_t sum = 0, bytes = 0;
  for (auto _ : state) {
    ImageView v;
    Check(store.GetImage(Config::k300k, kSplit, picks.NextId(), &v));
    sum += Touch(v.bytes());
    bytes += v.bytes().size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void ImageGetLmdb(benchmark::State& state) {
  const Lmdb& db = ImageLmdb();
  LmdbReader reader(db);
  RandomPicks picks(ImageStore(), state.thread_index() + 11);
  uint64_t sum = 0, bytes = 0;
  for (auto _ : state) {
    const std::span<const uint8_t> value =
        reader.Get(KeyView(EncodeKey(kSplit, picks.NextId())));
    sum += Touch(value);
    bytes += value.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void ImageGetFiles(benchmark::State& state) {
  const std::string& dir = ImageFiles();
  RandomPicks picks(ImageStore(), state.thread_index() + 11);
  std::vector<uint8_t> buffer;
  uint64_t sum = 0, bytes = 0;
  for (auto _ : state) {
    const std::string path = dir + "/" + ImageIdHex(picks.NextId()) + ".jpg";
    const int fd = open(path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
      state.SkipWithError(("cannot read " + path).c_str());
      break;
    }
    buffer.resize(static_cast<size_t>(st.st_size));
    const ssize_t n = pread(fd, buffer.data(), buffer.size(), 0);
    close(fd);
    if (n != st.st_size) {
      state.SkipWithError(("short read of " + path).c_str());
      break;
    }
    sum += Touch(buffer);
    bytes += buffer.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// --- MultiGet of random batches ----------------------------------------------

void MultiGetStore(benchmark::State& state) {
  const Store& store = AnnotationStore();
  RandomPicks picks(store, state.thread_index() + 21);
  std::vector<uint64_t> ids(static_cast<size_t>(state.range(0)));
  std::vector<ExampleView> views;
  std::vector<Status> statuses;
  uint64_t sum = 0;
  for (auto _ : state) {
    for (auto& id : ids) id = picks.NextId();
    store.MultiGet(kSplit, ids, &views, &statuses);
    for (size_t i = 0; i < ids.size(); ++i) {
      Check(statuses[i]);
      sum += Touch(views[i]);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void MultiGetLmdb(benchmark::State& state) {
  const Lmdb& db = AnnotationLmdb();
  LmdbReader reader(db);
  RandomPicks picks(AnnotationStore(), state.thread_index() + 21);
  std::vector<uint64_t> ids(static_cast<size_t>(state.range(0)));
  std::vector<ExampleView> views(ids.size());
  uint64_t sum = 0;
  for (auto _ : state) {
    for (auto& id : ids) id = picks.NextId();
    for (size_t i = 0; i < ids.size(); ++i) {
      Check(ViewOfRecord(reader.Get(KeyView(EncodeKey(kSplit, ids[i]))), kSplit, ids[i],
                         /*verify=*/true, &views[i]));
    }
    for (const ExampleView& v : views) sum += Touch(v);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// --- Scans with images (300k) --------------------------------------------------

ScanOptions ScanOrderOptions(ScanOrder order, uint64_t epoch) {
  ScanOptions o;
  o.order = order;
  o.seed = 7;
  o.epoch = epoch;
  o.batch_size = 64;
  o.with_images = true;
  o.config = Config::k300k;
  return o;
}

uint64_t ConsumeBatch(const std::vector<ExampleView>& examples,
                      const std::vector<ImageView>& images, uint64_t* bytes) {
  uint64_t sum = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    sum += Touch(examples[i]) + Touch(images[i].bytes());
    *bytes += examples[i].record().size() + images[i].bytes().size();
  }
  return sum;
}

// One iteration = one batch; a finished epoch starts the next one.
void ScanCached(benchmark::State& state, ScanOrder order) {
  const Store& store = ImageStore();
  uint64_t epoch = 0;
  std::unique_ptr<Scan> scan;
  Check(Scan::Open(&store, kSplit, ScanOrderOptions(order, epoch), &scan));
  std::vector<ExampleView> examples;
  std::vector<ImageView> images;
  uint64_t sum = 0, bytes = 0, items = 0;
  for (auto _ : state) {
    Check(scan->Next(&examples, &images));
    if (examples.empty()) {
      Check(Scan::Open(&store, kSplit, ScanOrderOptions(order, ++epoch), &scan));
      Check(scan->Next(&examples, &images));
    }
    sum += ConsumeBatch(examples, images, &bytes);
    items += examples.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// One iteration = one whole epoch read after the store's files were dropped
// from the page cache (store closed, posix_fadvise DONTNEED, reopened; not
// timed).
void ScanCold(benchmark::State& state, ScanOrder order) {
  uint64_t sum = 0, bytes = 0, items = 0, epoch = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Store> store;
    DropPageCache(Paths().image_store);
    Check(Store::Open(Paths().image_store, StoreOptions(), &store));
    std::unique_ptr<Scan> scan;
    Check(Scan::Open(store.get(), kSplit, ScanOrderOptions(order, epoch++), &scan));
    state.ResumeTiming();
    std::vector<ExampleView> examples;
    std::vector<ImageView> images;
    do {
      Check(scan->Next(&examples, &images));
      sum += ConsumeBatch(examples, images, &bytes);
      items += examples.size();
    } while (!examples.empty());
    state.PauseTiming();
    examples.clear();
    images.clear();
    scan.reset();
    store.reset();
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// A loader's loop: scan with images and decode each to RGB (prefetch_batches
// as given: the store's read-ahead overlaps the lookups with the decoding).
void ScanDecode(benchmark::State& state, ScanOrder order, uint32_t prefetch) {
  const Store& store = ImageStore();
  uint64_t epoch = 0;
  ScanOptions options = ScanOrderOptions(order, epoch);
  options.prefetch_batches = prefetch;
  std::unique_ptr<Scan> scan;
  Check(Scan::Open(&store, kSplit, options, &scan));
  std::vector<ExampleView> examples;
  std::vector<ImageView> images;
  Decoder decoder;
  DecodedImage rgb;
  uint64_t sum = 0, items = 0;
  for (auto _ : state) {
    Check(scan->Next(&examples, &images));
    if (examples.empty()) {
      options.epoch = ++epoch;
      Check(Scan::Open(&store, kSplit, options, &scan));
      Check(scan->Next(&examples, &images));
    }
    for (size_t i = 0; i < examples.size(); ++i) {
      Check(decoder.Decode(images[i].bytes(), DecodeOptions(), &rgb));
      sum += Touch(examples[i]) + rgb.pixels[rgb.pixels.size() / 2];
    }
    items += examples.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(items));
}

// --- Decode to RGB: from the store vs from RAM -------------------------------

constexpr size_t kDecodeImages = 256;

const std::vector<uint64_t>& DecodeIds() {
  static const std::vector<uint64_t> ids = [] {
    RandomPicks picks(ImageStore(), 99);
    std::vector<uint64_t> out(kDecodeImages);
    for (auto& id : out) id = picks.NextId();
    return out;
  }();
  return ids;
}

void DecodeFromRam(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> copies;
  for (uint64_t id : DecodeIds()) {
    ImageView v;
    Check(ImageStore().GetImage(Config::k300k, kSplit, id, &v));
    copies.emplace_back(v.bytes().begin(), v.bytes().end());
  }
  Decoder decoder;
  DecodedImage out;
  size_t i = 0;
  uint64_t pixels = 0;
  for (auto _ : state) {
    Check(decoder.Decode(copies[i], DecodeOptions(), &out));
    pixels += out.pixels.size();
    i = (i + 1) % copies.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["MB_out_per_s"] =
      benchmark::Counter(static_cast<double>(pixels) / 1e6, benchmark::Counter::kIsRate);
}

void DecodeFromStore(benchmark::State& state) {
  const Store& store = ImageStore();
  Decoder decoder;
  DecodedImage out;
  size_t i = 0;
  uint64_t pixels = 0;
  for (auto _ : state) {
    ImageView v;
    Check(store.GetImage(Config::k300k, kSplit, DecodeIds()[i], &v));
    Check(decoder.Decode(v.bytes(), DecodeOptions(), &out));
    pixels += out.pixels.size();
    i = (i + 1) % DecodeIds().size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["MB_out_per_s"] =
      benchmark::Counter(static_cast<double>(pixels) / 1e6, benchmark::Counter::kIsRate);
}

// --- Readers in separate processes ---------------------------------------------

constexpr uint64_t kGetsPerProcess = 400'000;

// Forks range(0) processes that each open the store (or LMDB) themselves,
// wait until all are ready, then do kGetsPerProcess random annotation Gets.
// Timed from the start signal to the last exit.
template <typename ReadInChild>
void InProcesses(benchmark::State& state, ReadInChild read_in_child) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) {
      state.SkipWithError("pipe failed");
      break;
    }
    std::vector<pid_t> children;
    for (int p = 0; p < n; ++p) {
      const pid_t pid = fork();
      if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        const uint64_t sum = read_in_child(p, [&] {
          const char byte = 1;
          if (write(ready[1], &byte, 1) != 1) _exit(2);
          char b;
          if (read(go[0], &b, 1) < 0) _exit(2);  // EOF when the parent closes it
        });
        _exit(sum == 0 ? 3 : 0);
      }
      children.push_back(pid);
    }
    close(ready[1]);
    close(go[0]);
    for (int p = 0; p < n; ++p) {
      char b;
      if (read(ready[0], &b, 1) != 1) state.SkipWithError("a child died before it was ready");
    }
    const auto start = std::chrono::steady_clock::now();
    close(go[1]);
    bool ok = true;
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    close(ready[0]);
    if (!ok) state.SkipWithError("a reader process failed");
  }
  state.SetItemsProcessed(state.iterations() * n * kGetsPerProcess);
}

void ProcessesStore(benchmark::State& state) {
  InProcesses(state, [](int p, auto wait_for_start) {
    std::unique_ptr<Store> store;
    Check(Store::Open(Paths().annotation_store, StoreOptions(), &store));
    RandomPicks picks(*store, 100 + p);
    wait_for_start();
    uint64_t sum = 0;
    for (uint64_t i = 0; i < kGetsPerProcess; ++i) {
      ExampleView v;
      Check(store->Get(kSplit, picks.NextId(), &v));
      sum += Touch(v);
    }
    return sum;
  });
}

void ProcessesLmdb(benchmark::State& state) {
  AnnotationLmdb();  // built before forking
  InProcesses(state, [](int p, auto wait_for_start) {
    Lmdb db(Paths().work + "/lmdb-annotations");
    LmdbReader reader(db);
    RandomPicks picks(AnnotationStore(), 100 + p);
    wait_for_start();
    uint64_t sum = 0;
    for (uint64_t i = 0; i < kGetsPerProcess; ++i) {
      const uint64_t id = picks.NextId();
      ExampleView v;
      Check(ViewOfRecord(reader.Get(KeyView(EncodeKey(kSplit, id))), kSplit, id,
                         /*verify=*/true, &v));
      sum += Touch(v);
    }
    return sum;
  });
}

void Register() {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark("AnnotationGet/oiv4kv", AnnotationGetStore)
        ->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("AnnotationGet/oiv4kv_verify", AnnotationGetStoreWith, true, true)
        ->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("AnnotationGet/oiv4kv_rocksdb_get", AnnotationGetStoreWith,
                                 false, false)
        ->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("AnnotationGet/lmdb", AnnotationGetLmdb, true)
        ->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("AnnotationGet/lmdb_noverify", AnnotationGetLmdb, false)
        ->Threads(threads)->UseRealTime();
  }
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark("ImageGet/oiv4kv", ImageGetStore)->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("ImageGet/lmdb", ImageGetLmdb)->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("ImageGet/files", ImageGetFiles)->Threads(threads)->UseRealTime();
  }
  for (int batch : {1, 4, 16, 64, 256}) {
    benchmark::RegisterBenchmark("MultiGet/oiv4kv", MultiGetStore)->Arg(batch)->UseRealTime();
    benchmark::RegisterBenchmark("MultiGet/lmdb", MultiGetLmdb)->Arg(batch)->UseRealTime();
  }
  const std::pair<const char*, ScanOrder> orders[] = {
      {"sequential", ScanOrder::kSequential},
      {"shuffled", ScanOrder::kShuffled},
      {"block_shuffled", ScanOrder::kBlockShuffled}};
  for (const auto& [name, order] : orders) {
    benchmark::RegisterBenchmark((std::string("Scan/") + name).c_str(), ScanCached, order)
        ->UseRealTime();
  }
  for (const auto& [name, order] : orders) {
    if (order == ScanOrder::kShuffled) continue;  // the target compares these two
    benchmark::RegisterBenchmark((std::string("ScanCold/") + name).c_str(), ScanCold, order)
        ->Iterations(1)->Repetitions(3)->UseRealTime();
  }
  benchmark::RegisterBenchmark("ScanDecode/sequential", ScanDecode, ScanOrder::kSequential, 2u)
      ->UseRealTime();
  benchmark::RegisterBenchmark("ScanDecode/shuffled", ScanDecode, ScanOrder::kShuffled, 2u)
      ->UseRealTime();
  benchmark::RegisterBenchmark("ScanDecode/shuffled_no_prefetch", ScanDecode,
                               ScanOrder::kShuffled, 0u)
      ->UseRealTime();
  benchmark::RegisterBenchmark("Decode/ram", DecodeFromRam)->UseRealTime();
  benchmark::RegisterBenchmark("Decode/store", DecodeFromStore)->UseRealTime();
  for (int n : {1, 2}) {
    benchmark::RegisterBenchmark("Processes/oiv4kv", ProcessesStore)
        ->Arg(n)->Iterations(1)->UseManualTime();
    benchmark::RegisterBenchmark("Processes/lmdb", ProcessesLmdb)
        ->Arg(n)->Iterations(1)->UseManualTime();
  }
}

}  // namespace
}  // namespace oiv4kv::bench

int main(int argc, char** argv) {
  return oiv4kv::bench::RunBenchmarks(argc, argv, oiv4kv::bench::Register);
}
