// The RocksDB layout of a store: its column families, the options each is
// written and read with, and the conversion of RocksDB statuses. All RocksDB
// tuning lives here; the figures behind each choice are in layout.cc.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "oiv4kv/dataset.h"
#include "oiv4kv/options.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

enum class Family : int {
  kAnnotations = 0,
  kImagesOriginal,
  kImages300k,
  kImages200k,
  kVocab,
  kMeta,
};
inline constexpr int kNumFamilies = 6;

std::string_view FamilyName(Family family);  // "annotations", "images.300k"...
Family ImagesFamily(Config config);

// What benchmarks vary; production code uses the defaults.
struct LayoutTuning {
  // Annotations family, at write time.
  rocksdb::CompressionType annotation_compression = rocksdb::kNoCompression;
  size_t annotation_block_bytes = 4 << 10;
  // Image families, at read time: true reads through a block cache instead
  // of straight from the mmap'ed files.
  bool image_block_cache = false;
};

// An info log that writes no file (RocksDB errors to stderr), so that a
// full disk cannot make logging fail: writers use it.
std::shared_ptr<rocksdb::Logger> NoFileInfoLog();

// Options for a writer: every family, created if missing.
rocksdb::DBOptions WriterDbOptions(const WriterOptions& options);
std::vector<rocksdb::ColumnFamilyDescriptor> WriterFamilies(
    const WriterOptions& options, const LayoutTuning& tuning);

// Options for a read-only open.
rocksdb::DBOptions ReaderDbOptions(const StoreOptions& options);
std::vector<rocksdb::ColumnFamilyDescriptor> ReaderFamilies(
    const LayoutTuning& tuning);

// Column family handles of an open DB, destroyed before it closes.
struct OpenDb {
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, kNumFamilies> families{};
  rocksdb::ColumnFamilyHandle* default_family = nullptr;  // unused, empty

  rocksdb::ColumnFamilyHandle* family(Family f) const {
    return families[static_cast<int>(f)];
  }
  ~OpenDb();
};

// Opens `path` with `descriptors` ("default", then Family order).
Status OpenRocksDb(const std::string& path, const rocksdb::DBOptions& db_options,
                   const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                   bool read_only, OpenDb* out);

// The pid of another process that holds the store's RocksDB LOCK: a writer
// (`oiv4-kv convert`) has it open. Read from /proc/locks, without opening
// LOCK (closing a descriptor of it would drop this process's own lock).
// nullopt: no other process holds it, or it cannot be told.
std::optional<long> StoreWriterPid(const std::string& path);

// "another process (pid N) is writing this store (`oiv4-kv convert`?)": the
// words every reader uses for StoreWriterPid.
std::string WriterRunningMessage(long pid);

// The names of the files in `path`, sorted: a writer's flushes, compactions
// and manifest rolls each add or remove one, so two equal listings around a
// read-only open mean no such change raced it.
std::vector<std::string> StoreFileNames(const std::string& path);

// Why `path` is not a store when it has no CURRENT: a store's other files
// without CURRENT, an Open Images download (run `oiv4-kv convert`), or no
// store at all. An InvalidArgument status naming `path`.
Status NoStoreStatus(const std::string& path);

// The one place RocksDB statuses become ours; `context` names the store,
// key or file involved.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace oiv4kv
