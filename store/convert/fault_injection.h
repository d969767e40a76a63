// Disk full and I/O errors on demand, for tests (docs/fault_battery.md): a
// RocksDB FileSystem that fails the store's writes with NoSpace or IOError
// after N bytes or at the Nth write call, installed by a conversion through
// ConvertRequest::file_system or the environment variable
//
//   OIV4KV_FAULT_FS=KIND:TRIGGER:N   KIND nospace|ioerror, TRIGGER bytes|call
//
// ("nospace:bytes:1048576": the disk fills after 1 MiB more of the store's
// files; "ioerror:call:40": the 40th write call fails). Once fired, every
// later write call fails too, as a full disk stays full, until Clear().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/file_system.h>

#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"

namespace oiv4kv {

struct ConvertRequest;

struct FaultSpec {
  enum class Error { kNoSpace, kIOError };
  enum class Trigger { kBytes, kCall };
  Error error = Error::kNoSpace;
  Trigger trigger = Trigger::kBytes;
  // kBytes: bytes written (appended) before the disk is full; kCall: the
  // 1-based write call that fails (file creations, appends, syncs, renames).
  uint64_t n = 0;
};

// Parses "KIND:TRIGGER:N" (see above); InvalidArgument naming what is wrong.
Status ParseFaultSpec(std::string_view text, FaultSpec* spec);

class FaultInjectingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // Without a spec it only counts (a clean run's totals size a sweep).
  FaultInjectingFileSystem(std::shared_ptr<rocksdb::FileSystem> target,
                           std::optional<FaultSpec> spec);
  const char* Name() const override { return "FaultInjectingFileSystem"; }

  uint64_t bytes_written() const { return bytes_; }
  uint64_t write_calls() const { return calls_; }
  bool fired() const { return fired_; }
  // The fault clears: writes pass again (counts go on).
  void Clear();

  // One write call of `size` bytes to `file`: OK, or the injected error.
  // `*allowed` gets how many of the bytes may still be written (a partial
  // write just before the disk fills).
  rocksdb::IOStatus Charge(const std::string& file, uint64_t size, uint64_t* allowed);

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

 private:
  rocksdb::IOStatus Wrap(const std::string& f, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* r);

  const std::optional<FaultSpec> spec_;
  std::mutex mu_;
  std::atomic<uint64_t> bytes_{0}, calls_{0};
  std::atomic<bool> fired_{false}, cleared_{false};
};

// The file system a conversion writes through, the store's and the
// annotation staging's alike: `request.file_system` when set, else a
// FaultInjectingFileSystem when OIV4KV_FAULT_FS is set, else null (the
// default one). Resolved once per conversion, so one fault count covers both.
Status ResolveConvertFileSystem(const ConvertRequest& request,
                                std::shared_ptr<rocksdb::FileSystem>* file_system);

// The writer a conversion opens: on ResolveConvertFileSystem's file system.
Status OpenConvertWriter(const ConvertRequest& request, std::unique_ptr<Writer>* writer);

}  // namespace oiv4kv
