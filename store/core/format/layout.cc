#include "store/core/format/layout.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <rocksdb/cache.h>
#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <rocksdb/table.h>

namespace oiv4kv {
namespace {

// Open Images values are written once and read many times, so the layout
// favours reads. Figures: bench/run.sh (bench/REPORT.md: 1,000,000 examples
// of ~0.9 KB records from `oiv4-kv synth` + `convert`, 20,000 300k images of
// ~26 KB, page cache warm, 2-core dev box, medians of 9), random train Gets
// made into views with every field touched:
//
// annotations: no compression, 4 KiB blocks, no block cache, no bloom filter
//   (every lookup of a real workload hits), compacted to one level at commit,
//   read through mmap. The store does not look records up through RocksDB:
//   at open, AnnotationIndex walks the family once with a pinned iterator
//   and keeps each record's address (store/core/annotation_index.h).
//     layout_bench AnnotationLayout/... (RocksDB Get)   Gets/s    table
//     block, zstd, 4K, LRU cache (the first layout)       384k    563 MB
//     block, none, 4K, LRU cache                          333k    930 MB
//     block, none, 16K, LRU cache                         231k    925 MB
//     block, none, 4K, LRU + bloom 10 bits                314k    931 MB
//     block, none, 4K, LRU + data-block hash index        339k    932 MB
//     block, none, 4K, HyperClockCache                    299k    930 MB
//     block, none, 4K, mmap, no cache (the Get path)      346k    930 MB
//     PlainTable, mmap, full-key hash                     595k    917 MB
//     PlainTable, mmap, binary search                     301k    917 MB
//     read_bench AnnotationGet/oiv4kv (the index)         826k    930 MB
//     read_bench AnnotationGet/lmdb (same records)        509k
//   PlainTable's hash comes closest, but still pays RocksDB's ~1 us of Get
//   bookkeeping, has no block checksums and reads its whole file at open
//   to build its hash. The index costs one read of the family at open
//   (0.57 s per million records from the page cache), checking every
//   block's checksum, and 16 bytes of memory per example. Without
//   compression the records are read where the mmap put them, shared by
//   every process (zstd would save 40 % of the family's size).
// images.*: JPEG bytes do not compress: no compression, and no block cache at
//   read time; reads go through mmap and pin the page cache. Random 26 KB
//   Gets: 222k/s without a cache vs 212k/s through a 1 GiB LRU cache, which
//   also holds a second copy of every hot image. 4 KiB blocks put each image
//   in its own block, so a Get checksums only its own bytes. A Get costs
//   ~1.3 us before the caller reads a byte (index search, the block's first
//   line and its trailer) where LMDB's B-tree answers in 0.2 us, so LMDB
//   hands out bytes 2x faster (read_bench ImageGet); against a decode of the
//   same image (585 us) the store costs 0.5 % (Decode/store vs Decode/ram).
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

namespace {

// RocksDB's own LOG file lives on the data disk: on a full disk its writes
// fail, and Debian's RocksDB (built with assertions) aborts on the second
// failure. This logger writes no file: fatal errors go to stderr, the rest
// is dropped (every error also comes back as a status), and a failed write
// is ignored.
class StderrErrorLogger : public rocksdb::Logger {
 public:
  StderrErrorLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::FATAL_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::FATAL_LEVEL) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    std::fprintf(stderr, "\nrocksdb: %s\n", buf);
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NoFileInfoLog() {
  // Never destroyed: RocksDB's background threads (Env::Default()'s pools,
  // never joined) may still read the logger's level while exit() runs the
  // static destructors (ThreadSanitizer reported that race in
  // convert_test, scripts/test.sh's TSan build).
  static const auto* logger =
      new std::shared_ptr<rocksdb::Logger>(std::make_shared<StderrErrorLogger>());
  return *logger;
}

rocksdb::DBOptions WriterDbOptions(const WriterOptions& options) {
  rocksdb::DBOptions db;
  db.info_log = NoFileInfoLog();
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
  if (!s.ok() && !read_only) {
    // "While lock file: LOCK: Resource temporarily unavailable": say who.
    if (const std::optional<long> pid = StoreWriterPid(path)) {
      return Status::IOError(path + ": " + WriterRunningMessage(*pid) +
                             "; wait for it to finish, or stop it (kill " +
                             std::to_string(*pid) + ") and run again to resume (" +
                             s.ToString() + ")");
    }
  }
  if (!s.ok()) return FromRocks(s, path);
  out->db.reset(db);
  out->default_family = handles[0];
  for (size_t i = 1; i < handles.size(); ++i) out->families[i - 1] = handles[i];
  return Status::OK();
}

std::optional<long> StoreWriterPid(const std::string& path) {
  struct stat st {};
  if (::stat((path + "/LOCK").c_str(), &st) != 0) return std::nullopt;
  // /proc/locks lines: "1: POSIX  ADVISORY  WRITE 7647 fe:00:10953551 0 EOF",
  // the device's major and minor in hex, then the inode; a waiting lock has
  // "->" after its number.
  char dev_inode[64];
  std::snprintf(dev_inode, sizeof(dev_inode), "%02x:%02x:%llu", major(st.st_dev),
                minor(st.st_dev), static_cast<unsigned long long>(st.st_ino));
  std::ifstream locks("/proc/locks");
  for (std::string line; std::getline(locks, line);) {
    std::istringstream in(line);
    std::string number, kind, mode, access, pid, where;
    in >> number >> kind;
    if (kind == "->") in >> kind;
    in >> mode >> access >> pid >> where;
    if (where != dev_inode || kind != "POSIX") continue;
    const long p = std::strtol(pid.c_str(), nullptr, 10);
    if (p > 0 && p != static_cast<long>(::getpid())) return p;
  }
  return std::nullopt;
}

std::string WriterRunningMessage(long pid) {
  return "another process (pid " + std::to_string(pid) +
         ") is writing this store (an `oiv4-kv convert`?)";
}

std::vector<std::string> StoreFileNames(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status NoStoreStatus(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return Status::InvalidArgument(path + ": no oiv4-kv store here (" +
                                   (fs::exists(path, ec) ? "not a folder" : "no such folder") +
                                   ")");
  }
  bool store_files = false, download_files = false;
  for (const std::string& name : StoreFileNames(path)) {
    store_files |= name.starts_with("MANIFEST-") || name.ends_with(".sst") ||
                   name == "IDENTITY" || name.starts_with("OPTIONS-");
    download_files |= name.ends_with("-annotations-bbox.csv") ||
                      name.ends_with("-annotations-human-imagelabels.csv") ||
                      name.starts_with("class-descriptions") ||
                      (name.starts_with("train_") && name.find(".tar") != std::string::npos);
  }
  if (store_files) {
    return Status::InvalidArgument(
        path + ": the folder holds a store's files (MANIFEST, tables) but its CURRENT file is "
               "missing: RocksDB cannot tell which MANIFEST is current, so the store cannot be "
               "opened (restore CURRENT from a backup, or convert again into a new folder)");
  }
  if (download_files) {
    return Status::InvalidArgument(
        path + ": this looks like an Open Images download, not a store: convert it first with "
               "`oiv4-kv convert --source " + path + " --store STORE --config 300k`, then "
               "open STORE");
  }
  return Status::InvalidArgument(path + ": no oiv4-kv store here (no RocksDB CURRENT file)");
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
