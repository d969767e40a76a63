#include "store/convert/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

class TarReader : public ArchiveReader {
 public:
  TarReader(std::string path, uint64_t max_member_bytes)
      : ArchiveReader(std::move(path)), max_member_bytes_(max_member_bytes) {}
  ~TarReader() override {
    if (a_ != nullptr) archive_read_free(a_);
  }

  Status Init() {
    std::error_code ec;
    total_ = fs::file_size(path(), ec);
    if (ec) return Status::IOError(path() + ": " + ec.message());
    a_ = archive_read_new();
    archive_read_support_filter_gzip(a_);
    archive_read_support_filter_none(a_);
    archive_read_support_format_tar(a_);
    if (archive_read_open_filename(a_, path().c_str(), 1 << 20) != ARCHIVE_OK) {
      // libarchive sets no message for some damaged inputs (a gzip header
      // cut short): a null string (tests/fuzz found it).
      const char* msg = archive_error_string(a_);
      return Status::IOError(path() + ": cannot open the archive: " +
                             (msg != nullptr ? msg : "unknown error"));
    }
    return Status::OK();
  }

  Status Next(ArchiveMember* m, bool* eof) override {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a_, &entry);
    *eof = r == ARCHIVE_EOF;
    if (*eof) return Status::OK();
    if (r < ARCHIVE_WARN) return Error("reading the next member header");
    const char* name = archive_entry_pathname(entry);
    m->name = name != nullptr ? name : "";
    m->regular = archive_entry_filetype(entry) == AE_IFREG;
    m->directory = archive_entry_filetype(entry) == AE_IFDIR;
    m->bytes.clear();
    if (!m->regular) return Status::OK();
    const la_int64_t size = archive_entry_size(entry);
    if (size < 0 || static_cast<uint64_t>(size) > max_member_bytes_) {
      return Status::InvalidArgument(path() + ":" + m->name + ": member of " +
                                     std::to_string(size) + " bytes exceeds the limit of " +
                                     std::to_string(max_member_bytes_));
    }
    m->bytes.resize(static_cast<size_t>(size));
    size_t done = 0;
    while (done < m->bytes.size()) {
      const la_ssize_t n = archive_read_data(a_, m->bytes.data() + done, m->bytes.size() - done);
      if (n < 0) return Error("reading member " + m->name);
      if (n == 0) return Status::Corruption(path() + ":" + m->name + ": archive ends inside the member");
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  // libarchive skips the unread data of a member when it reads the next header.
  Status Skip(bool* eof) override {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a_, &entry);
    *eof = r == ARCHIVE_EOF;
    if (*eof || r >= ARCHIVE_WARN) return Status::OK();
    return Error("reading the next member header");
  }

  uint64_t bytes_consumed() const override {
    return static_cast<uint64_t>(std::max<la_int64_t>(0, archive_filter_bytes(a_, -1)));
  }
  uint64_t total_bytes() const override { return total_; }

 private:
  Status Error(const std::string& what) {
    const char* msg = archive_error_string(a_);
    return Status::Corruption(path() + ": " + what + ": " + (msg != nullptr ? msg : "unknown error"));
  }

  uint64_t max_member_bytes_;
  uint64_t total_ = 0;
  archive* a_ = nullptr;
};

// An extracted archive: every entry below the folder, in name order, named
// "<folder name>/<relative path>" like the tar's members.
class FolderReader : public ArchiveReader {
 public:
  FolderReader(std::string path, uint64_t max_member_bytes)
      : ArchiveReader(std::move(path)), max_member_bytes_(max_member_bytes) {}

  Status Init() {
    const fs::path root(path());
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::file_status st = it->symlink_status(ec);
      if (ec) break;
      const std::string name =
          (root.filename() / it->path().lexically_relative(root)).generic_string();
      if (fs::is_directory(st)) {
        // A folder is a member only when it is named like an image; a tar
        // lists it the same way, with a trailing slash.
        if (it->path().extension() == ".jpg") entries_.push_back({name + "/", it->path(), false, true});
        continue;
      }
      entries_.push_back({name, it->path(), fs::is_regular_file(st), false});
      if (fs::is_regular_file(st)) total_ += it->file_size(ec);
    }
    if (ec) return Status::IOError(path() + ": " + ec.message());
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return Status::OK();
  }

  Status Next(ArchiveMember* m, bool* eof) override {
    *eof = next_ == entries_.size();
    if (*eof) return Status::OK();
    const Entry& e = entries_[next_++];
    m->name = e.name;
    m->regular = e.regular;
    m->directory = e.directory;
    m->bytes.clear();
    if (!e.regular) return Status::OK();
    std::error_code ec;
    const uint64_t size = fs::file_size(e.file, ec);
    if (ec) return Status::IOError(e.file.string() + ": " + ec.message());
    if (size > max_member_bytes_) {
      consumed_ += size;
      return Status::InvalidArgument(path() + ":" + m->name + ": member of " +
                                     std::to_string(size) + " bytes exceeds the limit of " +
                                     std::to_string(max_member_bytes_));
    }
    std::ifstream in(e.file, std::ios::binary);
    m->bytes.resize(size);
    if (!in.read(reinterpret_cast<char*>(m->bytes.data()), static_cast<std::streamsize>(size))) {
      return Status::IOError(e.file.string() + ": read failed");
    }
    consumed_ += size;
    return Status::OK();
  }

  Status Skip(bool* eof) override {
    *eof = next_ == entries_.size();
    if (*eof) return Status::OK();
    const Entry& e = entries_[next_++];
    std::error_code ec;
    if (e.regular) consumed_ += fs::file_size(e.file, ec);
    return Status::OK();
  }

  uint64_t bytes_consumed() const override { return consumed_; }
  uint64_t total_bytes() const override { return total_; }

 private:
  struct Entry {
    std::string name;
    fs::path file;
    bool regular;
    bool directory;
  };
  uint64_t max_member_bytes_;
  std::vector<Entry> entries_;
  size_t next_ = 0;
  uint64_t total_ = 0, consumed_ = 0;
};

}  // namespace

Status ArchiveReader::Open(const std::string& path, uint64_t max_member_bytes,
                           std::unique_ptr<ArchiveReader>* out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    auto r = std::make_unique<FolderReader>(path, max_member_bytes);
    OIV4KV_RETURN_IF_ERROR(r->Init());
    *out = std::move(r);
    return Status::OK();
  }
  auto r = std::make_unique<TarReader>(path, max_member_bytes);
  OIV4KV_RETURN_IF_ERROR(r->Init());
  *out = std::move(r);
  return Status::OK();
}

}  // namespace oiv4kv
