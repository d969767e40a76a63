#include "store/convert/fault_injection.h"

#include <cstdlib>

#include "store/convert/converter.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

// Every write of a file goes through the file system's Charge.
class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::string name, FaultInjectingFileSystem* fs,
            std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)), name_(std::move(name)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    return Write(data, [&](const rocksdb::Slice& d) { return target()->Append(d, o, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, o, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    return Write(data, [&](const rocksdb::Slice& d) {
      return target()->PositionedAppend(d, offset, o, dbg);
    });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, o, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    uint64_t allowed = 0;
    rocksdb::IOStatus s = fs_->Charge(name_, 0, &allowed);
    return s.ok() ? target()->Sync(o, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    uint64_t allowed = 0;
    rocksdb::IOStatus s = fs_->Charge(name_, 0, &allowed);
    return s.ok() ? target()->Fsync(o, dbg) : s;
  }

 private:
  template <typename Fn>
  rocksdb::IOStatus Write(const rocksdb::Slice& data, Fn write) {
    uint64_t allowed = 0;
    rocksdb::IOStatus s = fs_->Charge(name_, data.size(), &allowed);
    if (s.ok()) return write(data);
    // The disk fills inside this write: what fitted is on it.
    if (allowed > 0) write(rocksdb::Slice(data.data(), allowed)).PermitUncheckedError();
    return s;
  }

  std::string name_;
  FaultInjectingFileSystem* fs_;
};

}  // namespace

Status ParseFaultSpec(std::string_view text, FaultSpec* spec) {
  const std::string t(text);
  const size_t a = t.find(':'), b = a == std::string::npos ? a : t.find(':', a + 1);
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("OIV4KV_FAULT_FS=" + t + ": " + why +
                                   " (want KIND:TRIGGER:N, KIND nospace|ioerror, TRIGGER "
                                   "bytes|call, N a count)");
  };
  if (b == std::string::npos) return bad("not three fields");
  const std::string kind = t.substr(0, a), trigger = t.substr(a + 1, b - a - 1),
                    count = t.substr(b + 1);
  if (kind == "nospace") {
    spec->error = FaultSpec::Error::kNoSpace;
  } else if (kind == "ioerror") {
    spec->error = FaultSpec::Error::kIOError;
  } else {
    return bad("unknown kind '" + kind + "'");
  }
  if (trigger == "bytes") {
    spec->trigger = FaultSpec::Trigger::kBytes;
  } else if (trigger == "call") {
    spec->trigger = FaultSpec::Trigger::kCall;
  } else {
    return bad("unknown trigger '" + trigger + "'");
  }
  char* end = nullptr;
  spec->n = std::strtoull(count.c_str(), &end, 10);
  if (count.empty() || *end != '\0') return bad("'" + count + "' is not a count");
  return Status::OK();
}

FaultInjectingFileSystem::FaultInjectingFileSystem(std::shared_ptr<rocksdb::FileSystem> target,
                                                   std::optional<FaultSpec> spec)
    : FileSystemWrapper(std::move(target)), spec_(spec) {}

void FaultInjectingFileSystem::Clear() { cleared_ = true; }

rocksdb::IOStatus FaultInjectingFileSystem::Charge(const std::string& file, uint64_t size,
                                                   uint64_t* allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t before = bytes_;
  const uint64_t call = ++calls_;
  *allowed = size;
  bool fail = false;
  if (spec_ && !cleared_) {
    if (fired_) {
      fail = true;
      *allowed = 0;
    } else if (spec_->trigger == FaultSpec::Trigger::kCall) {
      fail = call >= spec_->n;
      if (fail) *allowed = 0;
    } else if (before + size > spec_->n) {
      fail = true;
      *allowed = spec_->n - std::min(before, spec_->n);
    }
  }
  bytes_ = before + *allowed;
  if (!fail) return rocksdb::IOStatus::OK();
  fired_ = true;
  if (spec_->error == FaultSpec::Error::kNoSpace) {
    // As PosixWritableFile reports ENOSPC: NoSpace, retryable.
    rocksdb::IOStatus s = rocksdb::IOStatus::NoSpace(
        "While appending to file: " + file, "No space left on device (injected)");
    s.SetRetryable(true);
    return s;
  }
  return rocksdb::IOStatus::IOError("While writing file: " + file,
                                    "Input/output error (injected)");
}

rocksdb::IOStatus FaultInjectingFileSystem::Wrap(const std::string& f, rocksdb::IOStatus s,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* r) {
  if (s.ok()) *r = std::make_unique<FaultFile>(f, this, std::move(*r));
  return s;
}

rocksdb::IOStatus FaultInjectingFileSystem::NewWritableFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) {
  uint64_t allowed = 0;
  if (rocksdb::IOStatus s = Charge(f, 0, &allowed); !s.ok()) return s;
  return Wrap(f, target()->NewWritableFile(f, o, r, dbg), r);
}

rocksdb::IOStatus FaultInjectingFileSystem::ReopenWritableFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) {
  uint64_t allowed = 0;
  if (rocksdb::IOStatus s = Charge(f, 0, &allowed); !s.ok()) return s;
  return Wrap(f, target()->ReopenWritableFile(f, o, r, dbg), r);
}

rocksdb::IOStatus FaultInjectingFileSystem::ReuseWritableFile(
    const std::string& f, const std::string& old, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) {
  uint64_t allowed = 0;
  if (rocksdb::IOStatus s = Charge(f, 0, &allowed); !s.ok()) return s;
  return Wrap(f, target()->ReuseWritableFile(f, old, o, r, dbg), r);
}

rocksdb::IOStatus FaultInjectingFileSystem::RenameFile(const std::string& s,
                                                       const std::string& t,
                                                       const rocksdb::IOOptions& o,
                                                       rocksdb::IODebugContext* dbg) {
  uint64_t allowed = 0;
  if (rocksdb::IOStatus st = Charge(t, 0, &allowed); !st.ok()) return st;
  return target()->RenameFile(s, t, o, dbg);
}

Status ResolveConvertFileSystem(const ConvertRequest& request,
                                std::shared_ptr<rocksdb::FileSystem>* file_system) {
  *file_system = request.file_system;
  if (*file_system == nullptr) {
    if (const char* env = std::getenv("OIV4KV_FAULT_FS"); env != nullptr && *env) {
      FaultSpec spec;
      OIV4KV_RETURN_IF_ERROR(ParseFaultSpec(env, &spec));
      *file_system =
          std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), spec);
    }
  }
  return Status::OK();
}

Status OpenConvertWriter(const ConvertRequest& request, std::unique_ptr<Writer>* writer) {
  std::shared_ptr<rocksdb::FileSystem> fs;
  OIV4KV_RETURN_IF_ERROR(ResolveConvertFileSystem(request, &fs));
  if (fs == nullptr) return Writer::Open(request.store, WriterOptions(), writer);
  return OpenWriterOnFileSystem(request.store, WriterOptions(), std::move(fs), writer);
}

}  // namespace oiv4kv
