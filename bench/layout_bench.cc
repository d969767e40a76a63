// The candidates for the annotations family's layout (store/core/format/layout.cc),
// measured as raw RocksDB databases holding the same keys and records as the
// benchmark's annotation store: random Gets, each made into a view (block
// checksums verified, no FlatBuffers verifier: the store's defaults) and
// touched exactly as read_bench does. The store's own index (read_bench
// AnnotationGet/oiv4kv) is the figure these are compared with.
//
// Also: what verification costs, and images through mmap vs a block cache.
#include <benchmark/benchmark.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "bench/bench_data.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/format/store_internal.h"

namespace oiv4kv::bench {
namespace {

struct Layout {
  const char* name;
  std::function<rocksdb::Options()> options;
};

rocksdb::Options BlockBased(rocksdb::CompressionType compression, size_t block_size,
                            std::shared_ptr<rocksdb::Cache> cache, bool data_hash_index = false,
                            int bloom_bits = 0) {
  rocksdb::Options o;
  o.compression = o.bottommost_compression = compression;
  rocksdb::BlockBasedTableOptions t;
  t.checksum = rocksdb::kXXH3;
  t.format_version = 5;
  t.block_size = block_size;
  if (cache) {
    t.block_cache = std::move(cache);
  } else {
    t.no_block_cache = true;
  }
  if (data_hash_index) {
    t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  }
  if (bloom_bits > 0) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(bloom_bits));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

rocksdb::Options Plain(bool hash) {
  rocksdb::Options o;
  rocksdb::PlainTableOptions p;
  p.user_key_len = kKeySize;
  p.bloom_bits_per_key = 0;  // every lookup hits
  if (hash) {
    // The whole key is the prefix: a hash lookup straight to the record.
    p.hash_table_ratio = 0.75;
    p.index_sparseness = 0;
    o.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kKeySize));
  } else {
    p.hash_table_ratio = 0;  // binary search, total order
    p.index_sparseness = 8;
  }
  o.table_factory.reset(rocksdb::NewPlainTableFactory(p));
  return o;
}

std::shared_ptr<rocksdb::Cache> Lru() { return rocksdb::NewLRUCache(size_t{2} << 30); }

const std::vector<Layout>& Layouts() {
  static const std::vector<Layout> layouts = {
      {"block_zstd_4k_lru", [] { return BlockBased(rocksdb::kZSTD, 4 << 10, Lru()); }},
      {"block_none_4k_lru", [] { return BlockBased(rocksdb::kNoCompression, 4 << 10, Lru()); }},
      {"block_none_16k_lru",
       [] { return BlockBased(rocksdb::kNoCompression, 16 << 10, Lru()); }},
      {"block_none_4k_lru_bloom10",
       [] { return BlockBased(rocksdb::kNoCompression, 4 << 10, Lru(), false, 10); }},
      {"block_none_4k_lru_hashindex",
       [] { return BlockBased(rocksdb::kNoCompression, 4 << 10, Lru(), true); }},
      {"block_none_4k_hyperclock",
       [] {
         rocksdb::HyperClockCacheOptions hc(size_t{2} << 30, /*estimated_entry_charge=*/4 << 10);
         return BlockBased(rocksdb::kNoCompression, 4 << 10, hc.MakeSharedCache());
       }},
      {"block_none_4k_mmap_nocache",
       [] { return BlockBased(rocksdb::kNoCompression, 4 << 10, nullptr); }},
      {"plain_mmap_hash", [] { return Plain(true); }},
      {"plain_mmap_binary", [] { return Plain(false); }},
  };
  return layouts;
}

void CheckRocks(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) Check(Status::IOError(what + ": " + s.ToString()));
}

// The layout's database, built once from the annotation store's records
// (written in key order, flushed, compacted into one level as the store's
// commit does), opened read-only with mmap reads.
rocksdb::DB* LayoutDb(const Layout& layout) {
  static auto* dbs = new std::map<std::string, std::unique_ptr<rocksdb::DB>>;  // never freed
  auto& db = (*dbs)[layout.name];
  if (db) return db.get();
  const std::string path = Paths().work + "/layout-" + layout.name;
  if (!std::filesystem::exists(path + "/done")) {
    std::fprintf(stderr, "layout_bench: building %s\n", path.c_str());
    std::filesystem::remove_all(path);
    rocksdb::Options o = layout.options();
    o.create_if_missing = true;
    o.write_buffer_size = 256 << 20;
    rocksdb::DB* raw = nullptr;
    CheckRocks(rocksdb::DB::Open(o, path, &raw), path);
    std::unique_ptr<rocksdb::DB> w(raw);
    const Store& store = AnnotationStore();
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    for (Split split : kAllSplits) {
      for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
        ExampleView v;
        Check(store.At(split, i, &v));
        const Key key = EncodeKey(split, v.image_id());
        const auto r = v.record();
        CheckRocks(w->Put(wo, rocksdb::Slice(key.data(), key.size()),
                          rocksdb::Slice(reinterpret_cast<const char*>(r.data()), r.size())),
                   "put");
      }
    }
    CheckRocks(w->Flush(rocksdb::FlushOptions()), "flush");
    rocksdb::CompactRangeOptions c;
    c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    CheckRocks(w->CompactRange(c, nullptr, nullptr), "compact");
    CheckRocks(w->Close(), "close");
    std::ofstream(path + "/done") << "ok\n";
  }
  rocksdb::Options o = layout.options();
  o.allow_mmap_reads = true;
  o.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  CheckRocks(rocksdb::DB::OpenForReadOnly(o, path, &raw), path);
  db.reset(raw);
  return raw;
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.is_regular_file() && e.path().extension() == ".sst") total += e.file_size();
  }
  return total;
}

void AnnotationLayoutGet(benchmark::State& state, const Layout* layout) {
  rocksdb::DB* db = LayoutDb(*layout);
  const auto ids = AnnotationStore().ImageIds(Split::kTrain);
  std::mt19937_64 rng(state.thread_index() + 1);
  std::uniform_int_distribution<uint64_t> pick(0, ids.size() - 1);
  rocksdb::ReadOptions ro;
  uint64_t sum = 0;
  for (auto _ : state) {
    const uint64_t id = ids[pick(rng)];
    const Key key = EncodeKey(Split::kTrain, id);
    rocksdb::PinnableSlice value;
    CheckRocks(db->Get(ro, db->DefaultColumnFamily(), rocksdb::Slice(key.data(), key.size()),
                       &value),
               "get");
    ExampleView v;
    Check(ViewOfRecord({reinterpret_cast<const uint8_t*>(value.data()), value.size()},
                       Split::kTrain, id, /*verify=*/false, &v));
    sum += Touch(v);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.counters["table_MB"] =
      DirectoryBytes(Paths().work + "/layout-" + layout->name) / 1e6;
}

// What verification costs: parse (with or without the verifier) records
// already in RAM and aligned, to compare with a whole Get.
void RecordParse(benchmark::State& state, bool verify) {
  const Store& store = AnnotationStore();
  std::vector<std::vector<uint64_t>> records;  // 8-aligned copies
  std::vector<size_t> sizes;
  const uint64_t n = std::min<uint64_t>(10'000, store.NumExamples(Split::kTrain));
  for (uint64_t i = 0; i < n; ++i) {  // spread over the split
    ExampleView v;
    Check(store.At(Split::kTrain, i * (store.NumExamples(Split::kTrain) / n), &v));
    records.emplace_back((v.record().size() + 7) / 8);
    std::memcpy(records.back().data(), v.record().data(), v.record().size());
    sizes.push_back(v.record().size());
  }
  size_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const fb::Example* root = nullptr;
    Check(ParseExample({reinterpret_cast<const uint8_t*>(records[i].data()), sizes[i]}, verify,
                       &root));
    sum += root->filename()->size();
    i = (i + 1) % records.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

// Images read straight from the mmap (the layout) vs through a 1 GiB LRU
// block cache, which also holds a second copy of every hot image.
void ImageLayoutGet(benchmark::State& state, bool block_cache) {
  static auto* stores = new std::map<bool, std::unique_ptr<Store>>;  // never freed
  auto& store = (*stores)[block_cache];
  if (!store) {
    LayoutTuning tuning;
    tuning.image_block_cache = block_cache;
    Check(OpenStoreTuned(Paths().image_store, StoreOptions(), tuning, &store));
    WarmImages(*store);
  }
  const auto ids = store->ImageIds(Split::kTrain);
  std::mt19937_64 rng(state.thread_index() + 7);
  std::uniform_int_distribution<uint64_t> pick(0, ids.size() - 1);
  uint64_t sum = 0, bytes = 0;
  for (auto _ : state) {
    ImageView v;
    Check(store->GetImage(Config::k300k, Split::kTrain, ids[pick(rng)], &v));
    sum += Touch(v.bytes());
    bytes += v.bytes().size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  // (Peak RSS is not reported: this process also holds every layout's
  // database and cache; the cache's second copy is its capacity at most.)
}

void Register() {
  for (const Layout& layout : Layouts()) {
    benchmark::RegisterBenchmark((std::string("AnnotationLayout/") + layout.name).c_str(),
                                 AnnotationLayoutGet, &layout)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("RecordParse/verify", RecordParse, true);
  benchmark::RegisterBenchmark("RecordParse/no_verify", RecordParse, false);
  benchmark::RegisterBenchmark("ImageLayout/mmap", ImageLayoutGet, false)->UseRealTime();
  benchmark::RegisterBenchmark("ImageLayout/lru_cache", ImageLayoutGet, true)->UseRealTime();
}

}  // namespace
}  // namespace oiv4kv::bench

int main(int argc, char** argv) {
  return oiv4kv::bench::RunBenchmarks(argc, argv, oiv4kv::bench::Register);
}
