// Store::Open time and a reader process's memory on a store (bench/full_scale.sh
// runs it on the full-scale store): the seconds Store::Open takes, VmRSS
// after it, and VmRSS and rates after random annotation and image Gets of
// the train split (every field / every cache line read, as read_bench does).
// Prints one JSON object.
//
//   open_bench STORE [--gets N] [--config C]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "bench/bench_data.h"

namespace oiv4kv::bench {
namespace {

double RssMib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: open_bench STORE [--gets N] [--config C]\n";
    return 2;
  }
  const std::string path = argv[1];
  uint64_t gets = 200'000;
  std::optional<Config> config;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--gets") == 0) gets = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--config") == 0) config = ParseConfig(argv[i + 1]);
  }
  const double rss_before = RssMib();
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Store> store;
  Check(Store::Open(path, StoreOptions(), &store));
  const double open_s = Seconds(start);
  const double rss_open = RssMib();
  if (!config) config = store->DefaultConfig();
  const std::span<const uint64_t> ids = store->ImageIds(Split::kTrain);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<size_t> pick(0, ids.size() - 1);
  uint64_t sum = 0;
  start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < gets; ++i) {
    ExampleView v;
    Check(store->Get(Split::kTrain, ids[pick(rng)], &v));
    sum += Touch(v);
  }
  const double ann_s = Seconds(start);
  const double rss_ann = RssMib();
  start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; config && i < gets; ++i) {
    ImageView v;
    Check(store->GetImage(*config, Split::kTrain, ids[pick(rng)], &v));
    sum += Touch(v.bytes());
  }
  const double img_s = Seconds(start);
  std::printf(
      "{\"open_s\": %.4f, \"rss_before_open_mib\": %.1f, \"rss_after_open_mib\": %.1f, "
      "\"gets\": %llu, \"annotation_gets_per_s\": %.0f, \"rss_after_annotation_gets_mib\": %.1f, "
      "\"image_config\": \"%s\", \"image_gets_per_s\": %.0f, \"rss_after_image_gets_mib\": %.1f, "
      "\"checksum\": %llu}\n",
      open_s, rss_before, rss_open, static_cast<unsigned long long>(gets), gets / ann_s, rss_ann,
      config ? std::string(ConfigName(*config)).c_str() : "", config ? gets / img_s : 0.0,
      RssMib(), static_cast<unsigned long long>(sum % 1000));
  return 0;
}

}  // namespace
}  // namespace oiv4kv::bench

int main(int argc, char** argv) { return oiv4kv::bench::Main(argc, argv); }
