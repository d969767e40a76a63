// oiv4-kv bench STORE [--config C] [--seconds N] [--threads T] [--json]: a
// quick measurement of what this machine reads from the user's own store.
// Five phases of about N/5 seconds each, each on T threads:
//   1. annotation Gets of random ids of the largest split, every field read;
//   2. image Gets of random ids of config C, every cache line of the bytes read;
//   3. a sequential and 4. a shuffled Scan with images (thread i reads shard i
//      of T, batches of 64), every cache line of the bytes read;
//   5. image Gets of random ids decoded to RGB, one Decoder per thread.
// Rates are items summed over the threads divided by the phase's wall time.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "oiv4kv/decode.h"
#include "oiv4kv/scan.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

using Clock = std::chrono::steady_clock;

// Where the touched values go, so the compiler cannot drop the reads.
std::atomic<uint64_t> g_sink{0};

// What one thread of a phase did.
struct ThreadCounts {
  uint64_t items = 0;
  uint64_t bytes = 0;    // image bytes read (or decoded pixels' bytes)
  uint64_t missing = 0;  // ids without an image in the config (skipped at convert)
  uint64_t decode_errors = 0;
  Status first_decode_error;
  Status error;  // a read error: stops the thread and fails the bench
  uint64_t sink = 0;

  // Whether to go on: until the deadline or a read error, and at least one
  // attempt, so that a short phase on a busy machine still measures something.
  bool Continue(Clock::time_point deadline) const {
    return error.ok() && (items + missing + decode_errors == 0 || Clock::now() < deadline);
  }
};

struct PhaseResult {
  double seconds = 0;
  ThreadCounts total;

  double per_s() const { return seconds > 0 ? total.items / seconds : 0; }
  double bytes_per_s() const { return seconds > 0 ? total.bytes / seconds : 0; }
};

// Runs work(thread_index, deadline, &counts) on `threads` threads at once and
// adds up their counts.
template <typename Work>
PhaseResult RunPhase(int threads, double seconds, const Work& work) {
  std::vector<ThreadCounts> counts(threads);
  std::vector<std::thread> pool;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] { work(t, deadline, &counts[t]); });
  }
  for (std::thread& th : pool) th.join();
  PhaseResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (ThreadCounts& c : counts) {
    r.total.items += c.items;
    r.total.bytes += c.bytes;
    r.total.missing += c.missing;
    r.total.decode_errors += c.decode_errors;
    if (r.total.first_decode_error.ok()) r.total.first_decode_error = c.first_decode_error;
    if (r.total.error.ok()) r.total.error = c.error;
    g_sink.fetch_add(c.sink, std::memory_order_relaxed);
  }
  return r;
}

template <typename T>
uint64_t Sum(std::span<const T> values) {
  uint64_t h = 0;
  for (const T& v : values) h += static_cast<uint64_t>(v);
  return h;
}

// Reads every field of an example, as a training loop would.
uint64_t TouchExample(const ExampleView& ex) {
  uint64_t h = ex.image_id() + ex.filename().size() + static_cast<uint64_t>(ex.split());
  for (const LabelsView& l : {ex.objects(), ex.objects_trainable()}) {
    h += Sum(l.label) + Sum(l.confidence) + Sum(l.source);
  }
  const BoxesView b = ex.bobjects();
  h += Sum(b.label) + Sum(b.source) + Sum(b.is_occluded) + Sum(b.is_truncated) +
       Sum(b.is_group_of) + Sum(b.is_depiction) + Sum(b.is_inside);
  for (float f : b.bbox) h += std::bit_cast<uint32_t>(f);
  return h;
}

// Reads one byte of every cache line of the image, so its pages are faulted
// in and its bytes cross the memory bus.
uint64_t TouchImage(const ImageView& img) {
  const std::span<const uint8_t> bytes = img.bytes();
  uint64_t h = img.width() + img.height();
  for (size_t i = 0; i < bytes.size(); i += 64) h += bytes[i];
  if (!bytes.empty()) h += bytes.back();
  return h;
}

// The split with the most examples.
Split LargestSplit(const Store& store) {
  Split best = Split::kTrain;
  for (Split s : kAllSplits) {
    if (store.NumExamples(s) > store.NumExamples(best)) best = s;
  }
  return best;
}

// The split with the most images of `config`.
Split LargestImageSplit(const Store& store, Config config) {
  const ConfigManifest* c = store.manifest().FindConfig(config);
  Split best = LargestSplit(store);
  uint64_t best_n = 0;
  for (Split s : kAllSplits) {
    const uint64_t n = c->num_images[static_cast<int>(s)].value_or(0);
    if (n > best_n) best = s, best_n = n;
  }
  return best;
}

std::string ConfigList(const std::vector<Config>& configs) {
  std::string out;
  for (Config c : configs) out += (out.empty() ? "" : ", ") + std::string(ConfigName(c));
  return out.empty() ? "none" : out;
}

// "1,234,567"
std::string Grouped(double value) {
  std::string digits = std::to_string(static_cast<uint64_t>(value + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

struct Args {
  std::string store;
  std::string config;
  double seconds = 10;
  int threads = 0;
  bool json = false;
};

struct Results {
  int threads = 0;
  double phase_seconds = 0;
  Split annotation_split = Split::kTrain;
  Split image_split = Split::kTrain;
  PhaseResult annotation_get, image_get, sequential_scan, shuffled_scan, get_decode;
};

// Random ids of `split`, drawn by each thread from its own generator.
class RandomIds {
 public:
  RandomIds(std::span<const uint64_t> ids, int thread)
      : ids_(ids), rng_(0x6f69763400000000ull + thread), pick_(0, ids.size() - 1) {}
  uint64_t Next() { return ids_[pick_(rng_)]; }

 private:
  std::span<const uint64_t> ids_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<size_t> pick_;
};

// Reads the image of the thread's next random id into *img. False when there
// is nothing to count: the id has no image in `config` (counted as missing)
// or the read failed (kept in c->error, which ends the thread's loop).
bool GetRandomImage(const Store& store, Config config, Split split, RandomIds* ids,
                    ImageView* img, ThreadCounts* c) {
  const Status s = store.GetImage(config, split, ids->Next(), img);
  if (s.IsNotFound()) {
    ++c->missing;
    return false;
  }
  if (!s.ok()) c->error = s;
  return s.ok();
}

PhaseResult AnnotationGets(const Store& store, Split split, int threads, double seconds) {
  return RunPhase(threads, seconds, [&](int t, Clock::time_point deadline, ThreadCounts* c) {
    RandomIds ids(store.ImageIds(split), t);
    ExampleView ex;
    while (c->Continue(deadline)) {
      for (int k = 0; k < 32; ++k) {  // the clock costs more than a cached Get's tail
        if (Status s = store.Get(split, ids.Next(), &ex); !s.ok()) {
          c->error = s;
          return;
        }
        c->sink += TouchExample(ex);
        ++c->items;
      }
    }
  });
}

PhaseResult ImageGets(const Store& store, Config config, Split split, int threads,
                      double seconds) {
  return RunPhase(threads, seconds, [&](int t, Clock::time_point deadline, ThreadCounts* c) {
    RandomIds ids(store.ImageIds(split), t);
    ImageView img;
    while (c->Continue(deadline)) {
      if (!GetRandomImage(store, config, split, &ids, &img, c)) continue;
      c->sink += TouchImage(img);
      c->bytes += img.bytes().size();
      ++c->items;
    }
  });
}

PhaseResult Scans(const Store& store, Config config, Split split, ScanOrder order,
                  int threads, double seconds) {
  return RunPhase(threads, seconds, [&](int t, Clock::time_point deadline, ThreadCounts* c) {
    ScanOptions o;
    o.order = order;
    o.seed = 1;
    o.shard_index = static_cast<uint32_t>(t);
    o.num_shards = static_cast<uint32_t>(threads);
    o.batch_size = 64;
    o.with_images = true;
    o.config = config;
    std::vector<ExampleView> examples;
    std::vector<ImageView> images;
    // A small store is read several times over: one epoch after another.
    for (o.epoch = 0; c->Continue(deadline); ++o.epoch) {
      std::unique_ptr<Scan> scan;
      if (Status s = Scan::Open(&store, split, o, &scan); !s.ok()) {
        c->error = s;
        return;
      }
      if (scan->size() == 0) return;  // more threads than examples
      while (c->Continue(deadline)) {
        if (Status s = scan->Next(&examples, &images); !s.ok()) {
          c->error = s;
          return;
        }
        if (examples.empty()) break;
        for (const ImageView& img : images) {
          c->sink += TouchImage(img);
          c->bytes += img.bytes().size();
        }
        c->items += examples.size();
      }
    }
  });
}

PhaseResult GetDecodes(const Store& store, Config config, Split split, int threads,
                       double seconds) {
  return RunPhase(threads, seconds, [&](int t, Clock::time_point deadline, ThreadCounts* c) {
    RandomIds ids(store.ImageIds(split), t);
    Decoder decoder;
    DecodeOptions options;  // RGB, full size
    options.truncated = TruncatedPolicy::kWarn;  // as OpenCV's imdecode: a cut file still decodes
    ImageView img;
    DecodedImage pixels;
    while (c->Continue(deadline)) {
      if (!GetRandomImage(store, config, split, &ids, &img, c)) continue;
      if (Status d = decoder.Decode(img, options, &pixels); !d.ok()) {
        if (c->decode_errors++ == 0) c->first_decode_error = d;
        continue;
      }
      c->sink += pixels.pixels.empty() ? 0 : pixels.pixels[pixels.pixels.size() / 2];
      c->bytes += pixels.pixels.size();
      ++c->items;
    }
  });
}

// The keys the brief promised first, in a fixed order; more after them.
nlohmann::ordered_json ToJson(const Args& args, Config config, const Store& store,
                              const Results& r) {
  nlohmann::ordered_json j;
  j["threads"] = r.threads;
  j["annotation_get_per_s"] = r.annotation_get.per_s();
  j["image_get_per_s"] = r.image_get.per_s();
  j["sequential_scan_per_s"] = r.sequential_scan.per_s();
  j["shuffled_scan_per_s"] = r.shuffled_scan.per_s();
  j["get_decode_per_s"] = r.get_decode.per_s();
  j["config"] = std::string(ConfigName(config));
  if (args.seconds == static_cast<double>(static_cast<int64_t>(args.seconds))) {
    j["seconds"] = static_cast<int64_t>(args.seconds);  // 10, not 10.0
  } else {
    j["seconds"] = args.seconds;
  }
  j["store"] = store.path();
  j["phase_seconds"] = r.phase_seconds;
  j["annotation_split"] = std::string(SplitName(r.annotation_split));
  j["image_split"] = std::string(SplitName(r.image_split));
  j["image_get_bytes_per_s"] = r.image_get.bytes_per_s();
  j["sequential_scan_bytes_per_s"] = r.sequential_scan.bytes_per_s();
  j["shuffled_scan_bytes_per_s"] = r.shuffled_scan.bytes_per_s();
  j["get_decode_pixel_bytes_per_s"] = r.get_decode.bytes_per_s();
  j["decode_errors"] = r.get_decode.total.decode_errors;
  j["missing_images"] = r.image_get.total.missing + r.get_decode.total.missing;
  return j;
}

void PrintHuman(const Store& store, Config config, const Results& r) {
  const std::string cfg(ConfigName(config));
  std::cout << "bench " << store.path() << ": " << r.threads << " thread"
            << (r.threads == 1 ? "" : "s") << ", ~" << static_cast<int>(r.phase_seconds * 10) / 10.0
            << " s per phase, config " << cfg << "\n"
            << "  annotations: random ids of " << SplitName(r.annotation_split) << " ("
            << Grouped(store.NumExamples(r.annotation_split)) << " examples); images: "
            << SplitName(r.image_split) << "\n\n";
  struct Row {
    std::string what;
    const PhaseResult* p;
    std::string unit;  // what bytes_per_s counts, empty for none
  };
  const Row rows[] = {
      {"annotation Get (random ids, all fields)", &r.annotation_get, ""},
      {"image Get " + cfg + " (random ids)", &r.image_get, "read"},
      {"sequential scan + images (batches of 64)", &r.sequential_scan, "read"},
      {"shuffled scan + images (batches of 64)", &r.shuffled_scan, "read"},
      {"image Get + decode to RGB", &r.get_decode, "of pixels"},
  };
  char line[160];
  std::snprintf(line, sizeof(line), "  %-42s %14s   %s\n", "phase", "per second", "bytes");
  std::cout << line;
  for (const Row& row : rows) {
    const std::string bytes =
        row.unit.empty() ? ""
                         : HumanBytes(static_cast<uint64_t>(row.p->bytes_per_s())) + "/s " + row.unit;
    std::snprintf(line, sizeof(line), "  %-42s %14s   %s\n", row.what.c_str(),
                  Grouped(row.p->per_s()).c_str(), bytes.c_str());
    std::cout << line;
  }
  std::cout << "\n  Rates depend on the page cache: a first run on a cold store reads from disk.\n";
}

int RunBench(const Args& args) {
  const std::string who = "oiv4-kv bench: ";
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(args.store, StoreOptions(), &store); !s.ok()) {
    std::cerr << who << s.ToString() << "\n";
    return 1;
  }
  const std::vector<Config> present = store->Configs();
  std::optional<Config> config;
  if (!args.config.empty()) {
    config = *ParseConfig(args.config);  // CLI11 checked the name
    if (!store->HasConfig(*config)) {
      std::cerr << who << args.store << " has no complete config " << args.config
                << "; configs present: " << ConfigList(present) << "\n";
      return 1;
    }
  } else {
    config = store->DefaultConfig();
    if (!config) {
      std::cerr << who << args.store << " holds no complete image config (configs present: "
                << ConfigList(present) << "); convert one first\n";
      return 1;
    }
  }
  Results r;
  r.threads = args.threads > 0
                  ? args.threads
                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  r.phase_seconds = args.seconds / 5;
  r.annotation_split = LargestSplit(*store);
  r.image_split = LargestImageSplit(*store, *config);
  if (store->NumExamples(r.annotation_split) == 0) {
    std::cerr << who << args.store << " holds no examples\n";
    return 1;
  }

  auto failed = [&](const char* phase, const PhaseResult& p) {
    if (p.total.error.ok()) return false;
    std::cerr << who << phase << ": " << p.total.error.ToString() << "\n";
    return true;
  };
  if (!args.json) std::cerr << "bench: 1/5 annotation Gets\n";
  r.annotation_get = AnnotationGets(*store, r.annotation_split, r.threads, r.phase_seconds);
  if (failed("annotation Get", r.annotation_get)) return 1;
  if (!args.json) std::cerr << "bench: 2/5 image Gets\n";
  r.image_get = ImageGets(*store, *config, r.image_split, r.threads, r.phase_seconds);
  if (failed("image Get", r.image_get)) return 1;
  if (!args.json) std::cerr << "bench: 3/5 sequential scan\n";
  r.sequential_scan =
      Scans(*store, *config, r.image_split, ScanOrder::kSequential, r.threads, r.phase_seconds);
  if (failed("sequential scan", r.sequential_scan)) return 1;
  if (!args.json) std::cerr << "bench: 4/5 shuffled scan\n";
  r.shuffled_scan =
      Scans(*store, *config, r.image_split, ScanOrder::kShuffled, r.threads, r.phase_seconds);
  if (failed("shuffled scan", r.shuffled_scan)) return 1;
  if (!args.json) std::cerr << "bench: 5/5 image Gets + decode\n";
  r.get_decode = GetDecodes(*store, *config, r.image_split, r.threads, r.phase_seconds);
  if (failed("image Get + decode", r.get_decode)) return 1;

  if (args.json) {
    std::cout << DumpJson(ToJson(args, *config, *store, r), 2) << "\n";
  } else {
    PrintHuman(*store, *config, r);
  }
  const ThreadCounts& d = r.get_decode.total;
  if (d.decode_errors > 0) {
    std::cerr << who << d.decode_errors << " of " << d.decode_errors + d.items
              << " images failed to decode (left out of the rate); first: "
              << d.first_decode_error.ToString() << "\n";
  }
  const uint64_t missing = r.image_get.total.missing + r.get_decode.total.missing;
  if (missing > 0) {
    std::cerr << who << missing << " random ids had no " << ConfigName(*config)
              << " image (left out at conversion) and were skipped\n";
  }
  // A rate of 0 means nothing could be read or decoded: not a measurement.
  for (const PhaseResult* p : {&r.annotation_get, &r.image_get, &r.sequential_scan,
                               &r.shuffled_scan, &r.get_decode}) {
    if (p->total.items == 0) {
      std::cerr << who << "a phase completed no operation in " << r.phase_seconds
                << " s; the figures above are not a measurement\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "bench", "Measure reads on a store: annotation and image Gets, scans, Get + decode");
  auto args = std::make_shared<Args>();
  cmd->add_option("STORE", args->store, "Store directory")->required();
  cmd->add_option("--config", args->config,
                  "Image config to read (default: the first complete of 300k, 200k, original)")
      ->check(CLI::IsMember(ConfigNames()));
  cmd->add_option("--seconds", args->seconds, "Total time; each of the 5 phases gets a fifth")
      ->check(CLI::Range(0.05, 86400.0))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "Threads per phase (default: all cores, " +
                      std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
                      " here); scans read shard i of T")
      ->check(CLI::Range(1, 4096));
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->footer(
      "Phases: random annotation Gets of the largest split (every field read), random\n"
      "image Gets (every cache line read), a sequential and a shuffled Scan with images\n"
      "(batches of 64), and random image Gets decoded to RGB (one Decoder per thread).\n"
      "\n"
      "Exit status: 0 ok, 1 no store, a store or read error, or output that cannot be\n"
      "written, 2 usage error.\n\n"
      "Examples:\n"
      "  oiv4-kv bench /data/oiv4\n"
      "  oiv4-kv bench /data/oiv4 --config original --seconds 30 --threads 8\n"
      "  oiv4-kv bench /data/oiv4 --threads 1 --json | jq .get_decode_per_s");
  cmd->callback([args, exit_code] { *exit_code = RunBench(*args); });
}

}  // namespace oiv4kv::tools
