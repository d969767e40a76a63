#include "store/layout.h"

#include <rocksdb/cache.h>
#include <rocksdb/table.h>

namespace oiv4kv {
namespace {

// Open Images values are written once and read many times, so the layout
// favours reads. Figures: `build/bench/store_bench --benchmark_repetitions=5`
// (200,000 generated train records of ~0.8 KB, 10,000 images of 45 KB, page
// cache warm, 2-core dev box, medians):
//
// annotations: zstd in 4 KiB blocks, an LRU block cache, no bloom filter
//   (every lookup of a real workload hits), compacted to one level at commit.
//     layout      random At()/s   family size
//     zstd  4K       357k           104 MB   <- chosen
//     none  4K       366k           160 MB   (+2.5 %, noise level; 1.5x size)
//     lz4   4K       352k           121 MB
//     zstd 16K       258k            95 MB   (-28 %: more to search per block)
//   2 threads: 631k/s (1.77x). Verifying each record costs ~100 ns (3.6 % of
//   a Get), so StoreOptions::verify_records defaults to on.
// images.*: JPEG bytes do not compress: no compression, and no block cache at
//   read time; reads go through mmap and pin the page cache. Random 45 KB
//   Gets: 6.75 GB/s without a cache vs 6.78 GB/s with a 1 GiB LRU cache,
//   which also holds a second copy of every hot image (+450 MB peak RSS
//   here); 2 threads: 13.7 GB/s. 4 KiB blocks put each image in its own
//   block, so a Get checksums only its own bytes.
// vocab, meta: a few MB in all; zstd, small cache.
constexpr size_t kImageBlockBytes = 4 << 10;
constexpr size_t kSmallFamilyCacheBytes = 8 << 20;

rocksdb::BlockBasedTableOptions BaseTableOptions() {
  rocksdb::BlockBasedTableOptions t;
  t.checksum = rocksdb::kXXH3;  // Debian's RocksDB has no hardware CRC32c
  t.format_version = 5;
  t.filter_policy = nullptr;
  return t;
}

rocksdb::ColumnFamilyOptions FamilyOptions(Family family,
                                           const LayoutTuning& tuning,
                                           size_t write_buffer_bytes,
                                           std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = write_buffer_bytes;
  cf.level_compaction_dynamic_level_bytes = true;
  rocksdb::BlockBasedTableOptions t = BaseTableOptions();
  switch (family) {
    case Family::kAnnotations:
      cf.compression = tuning.annotation_compression;
      cf.bottommost_compression = tuning.annotation_compression;
      t.block_size = tuning.annotation_block_bytes;
      if (cache) {
        t.block_cache = cache;
      } else {
        t.no_block_cache = true;
      }
      break;
    case Family::kImagesOriginal:
    case Family::kImages300k:
    case Family::kImages200k:
      cf.compression = rocksdb::kNoCompression;
      cf.bottommost_compression = rocksdb::kNoCompression;
      cf.target_file_size_base = 256 << 20;
      t.block_size = kImageBlockBytes;
      if (cache) {
        t.block_cache = cache;
      } else {
        t.no_block_cache = true;
      }
      break;
    case Family::kVocab:
    case Family::kMeta:
      cf.compression = rocksdb::kZSTD;
      t.block_cache = cache;
      break;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return cf;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Families(
    const LayoutTuning& tuning, size_t write_buffer_bytes,
    std::shared_ptr<rocksdb::Cache> annotation_cache,
    std::shared_ptr<rocksdb::Cache> image_cache,
    std::shared_ptr<rocksdb::Cache> small_cache) {
  // RocksDB always has a "default" family; ours are named, so it stays empty.
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  out.emplace_back(rocksdb::kDefaultColumnFamilyName,
                   rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < kNumFamilies; ++i) {
    const auto f = static_cast<Family>(i);
    std::shared_ptr<rocksdb::Cache> cache;
    switch (f) {
      case Family::kAnnotations: cache = annotation_cache; break;
      case Family::kVocab:
      case Family::kMeta: cache = small_cache; break;
      default: cache = image_cache; break;
    }
    out.emplace_back(std::string(FamilyName(f)),
                     FamilyOptions(f, tuning, write_buffer_bytes, cache));
  }
  return out;
}

}  // namespace

std::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kAnnotations: return "annotations";
    case Family::kImagesOriginal: return "images.original";
    case Family::kImages300k: return "images.300k";
    case Family::kImages200k: return "images.200k";
    case Family::kVocab: return "vocab";
    case Family::kMeta: return "meta";
  }
  return "?";
}

Family ImagesFamily(Config config) {
  switch (config) {
    case Config::kOriginal: return Family::kImagesOriginal;
    case Config::k300k: return Family::kImages300k;
    case Config::k200k: return Family::kImages200k;
  }
  return Family::kImagesOriginal;
}

rocksdb::DBOptions WriterDbOptions(const WriterOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.max_background_jobs = options.background_threads;
  db.bytes_per_sync = 1 << 20;
  db.max_open_files = -1;
  return db;
}

std::vector<rocksdb::ColumnFamilyDescriptor> WriterFamilies(
    const WriterOptions& options, const LayoutTuning& tuning) {
  // A writer reads only the meta/vocab families and key scans: small caches.
  auto cache = rocksdb::NewLRUCache(kSmallFamilyCacheBytes);
  return Families(tuning, options.write_buffer_bytes, cache, nullptr, cache);
}

rocksdb::DBOptions ReaderDbOptions(const StoreOptions&) {
  rocksdb::DBOptions db;
  db.allow_mmap_reads = true;
  db.max_open_files = -1;  // keep every table's index open: no file churn
  db.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
  return db;
}

std::vector<rocksdb::ColumnFamilyDescriptor> ReaderFamilies(
    const LayoutTuning& tuning) {
  // Annotations are uncompressed and read from the mmap (or through the
  // store's index): a cache would only hold a second copy.
  std::shared_ptr<rocksdb::Cache> annotation_cache;
  auto image_cache = tuning.image_block_cache
                         ? rocksdb::NewLRUCache(size_t{1} << 30)
                         : nullptr;
  return Families(tuning, 0, annotation_cache, image_cache,
                  rocksdb::NewLRUCache(kSmallFamilyCacheBytes));
}

OpenDb::~OpenDb() {
  if (!db) return;
  if (default_family != nullptr) {
    db->DestroyColumnFamilyHandle(default_family).PermitUncheckedError();
  }
  for (auto*& h : families) {
    if (h != nullptr) {
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      h = nullptr;
    }
  }
  db->Close().PermitUncheckedError();
}

Status OpenRocksDb(const std::string& path, const rocksdb::DBOptions& db_options,
                   const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                   bool read_only, OpenDb* out) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors,
                                               &handles, &db)
                : rocksdb::DB::Open(db_options, path, descriptors, &handles, &db);
  if (!s.ok()) return FromRocks(s, path);
  out->db.reset(db);
  out->default_family = handles[0];
  for (size_t i = 1; i < handles.size(); ++i) out->families[i - 1] = handles[i];
  return Status::OK();
}

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg(context);
  msg += ": ";
  msg += s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  return Status::IOError(msg);
}

}  // namespace oiv4kv
