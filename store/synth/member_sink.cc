#include "store/synth/member_sink.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace oiv4kv::synth {
namespace {

// 2018-04-30, around the Open Images V4 release: archives do not depend on
// when they were generated.
constexpr time_t kMtime = 1525046400;

class ArchiveSink : public MemberSink {
 public:
  explicit ArchiveSink(std::string path) : path_(std::move(path)) {}
  ~ArchiveSink() override {
    if (a_ != nullptr) archive_write_free(a_);
    if (entry_ != nullptr) archive_entry_free(entry_);
  }

  Status Open(bool gzip) {
    a_ = archive_write_new();
    entry_ = archive_entry_new();
    if (a_ == nullptr || entry_ == nullptr) return Status::IOError(path_ + ": out of memory");
    if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK) return Error("format");
    if (gzip) {
      if (archive_write_add_filter_gzip(a_) != ARCHIVE_OK) return Error("gzip");
      // No mtime in the gzip header (determinism); level 1: JPEG data does
      // not compress, so higher levels only cost time.
      if (archive_write_set_filter_option(a_, "gzip", "timestamp", nullptr) < ARCHIVE_WARN ||
          archive_write_set_filter_option(a_, "gzip", "compression-level", "1") < ARCHIVE_WARN) {
        return Error("gzip options");
      }
    }
    if (archive_write_open_filename(a_, path_.c_str()) != ARCHIVE_OK) return Error("open");
    return Status::OK();
  }

  Status AddFile(const std::string& member, std::span<const uint8_t> bytes) override {
    Prepare(member, AE_IFREG, 0644, bytes.size());
    if (archive_write_header(a_, entry_) != ARCHIVE_OK) return Error(member);
    if (!bytes.empty() && archive_write_data(a_, bytes.data(), bytes.size()) !=
                              static_cast<la_ssize_t>(bytes.size())) {
      return Error(member);
    }
    return Status::OK();
  }

  Status AddDirectory(const std::string& member) override {
    Prepare(member, AE_IFDIR, 0755, 0);
    return archive_write_header(a_, entry_) == ARCHIVE_OK ? Status::OK() : Error(member);
  }

  Status AddSymlink(const std::string& member, const std::string& target) override {
    Prepare(member, AE_IFLNK, 0777, 0);
    archive_entry_set_symlink(entry_, target.c_str());
    return archive_write_header(a_, entry_) == ARCHIVE_OK ? Status::OK() : Error(member);
  }

  Status Close() override {
    const int r = archive_write_close(a_);
    Status s = r == ARCHIVE_OK ? Status::OK() : Error("close");
    archive_write_free(a_);
    a_ = nullptr;
    return s;
  }

 private:
  void Prepare(const std::string& member, unsigned type, int perm, size_t size) {
    archive_entry_clear(entry_);
    archive_entry_set_pathname(entry_, member.c_str());
    archive_entry_set_filetype(entry_, type);
    archive_entry_set_perm(entry_, static_cast<mode_t>(perm));
    archive_entry_set_size(entry_, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry_, kMtime, 0);
    archive_entry_set_uid(entry_, 1000);
    archive_entry_set_gid(entry_, 1000);
  }

  Status Error(const std::string& what) const {
    const char* msg = a_ != nullptr ? archive_error_string(a_) : nullptr;
    return Status::IOError(path_ + ": libarchive " + what + ": " + (msg ? msg : "unknown error"));
  }

  std::string path_;
  archive* a_ = nullptr;
  archive_entry* entry_ = nullptr;
};

class DirectorySink : public MemberSink {
 public:
  explicit DirectorySink(std::string root) : root_(std::move(root)) {}

  Status AddFile(const std::string& member, std::span<const uint8_t> bytes) override {
    const std::string path = root_ + "/" + member;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return Status::IOError(path + ": " + std::strerror(errno));
    const bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !ok) return Status::IOError(path + ": write failed");
    return Status::OK();
  }

  Status AddDirectory(const std::string& member) override {
    std::error_code ec;
    std::filesystem::create_directories(root_ + "/" + member, ec);
    return ec ? Status::IOError(root_ + "/" + member + ": " + ec.message()) : Status::OK();
  }

  Status AddSymlink(const std::string& member, const std::string& target) override {
    std::error_code ec;
    std::filesystem::create_symlink(target, root_ + "/" + member, ec);
    return ec ? Status::IOError(root_ + "/" + member + ": " + ec.message()) : Status::OK();
  }

  Status Close() override { return Status::OK(); }

 private:
  std::string root_;
};

}  // namespace

Status MemberSink::Open(SynthOptions::Archives kind, const std::string& root,
                        const std::string& name, std::unique_ptr<MemberSink>* sink) {
  if (kind == SynthOptions::Archives::kDirectories) {
    auto dir = std::make_unique<DirectorySink>(root);
    OIV4KV_RETURN_IF_ERROR(dir->AddDirectory(name));
    *sink = std::move(dir);
    return Status::OK();
  }
  auto archive = std::make_unique<ArchiveSink>(root + "/" + name);
  OIV4KV_RETURN_IF_ERROR(archive->Open(kind == SynthOptions::Archives::kTarGz));
  *sink = std::move(archive);
  return Status::OK();
}

}  // namespace oiv4kv::synth
