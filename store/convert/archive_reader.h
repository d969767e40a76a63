// Streams the members of one image archive of the download: a .tar.gz, a
// .tar (libarchive), or an already-extracted folder (members in name order).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/status.h"

namespace oiv4kv {

struct ArchiveMember {
  std::string name;  // path inside the archive, e.g. "train_3/3a0f0f0f0f0f0fe1.jpg"
  bool regular = true;
  bool directory = false;  // a folder entry (never regular)
  std::vector<uint8_t> bytes;  // empty unless regular and within the size limit
};

class ArchiveReader {
 public:
  virtual ~ArchiveReader() = default;

  // Opens `path`: a folder, or a file read as (optionally gzip-compressed) tar.
  static Status Open(const std::string& path, uint64_t max_member_bytes,
                     std::unique_ptr<ArchiveReader>* out);

  // The next member into `*member`, or *eof = true at the end. A member over
  // max_member_bytes comes back with its name and an InvalidArgument status,
  // and reading can go on. Corruption means the archive cannot be read past
  // this point.
  virtual Status Next(ArchiveMember* member, bool* eof) = 0;

  // Passes over the next member without reading its data (a resumed
  // conversion skips what it committed before); *eof = true at the end.
  virtual Status Skip(bool* eof) = 0;

  // Bytes of the archive consumed so far and in all, for progress and ETA.
  virtual uint64_t bytes_consumed() const = 0;
  virtual uint64_t total_bytes() const = 0;
  const std::string& path() const { return path_; }

 protected:
  explicit ArchiveReader(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

}  // namespace oiv4kv
