// A buffered text file for the generator's CSVs and lists. Not thread-safe.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "oiv4kv/status.h"

namespace oiv4kv::synth {

class TextFile {
 public:
  explicit TextFile(std::string path) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) status_ = Status::IOError(path_ + ": " + std::strerror(errno));
    buf_.reserve(kFlushAt + 4096);
  }
  ~TextFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  TextFile(const TextFile&) = delete;
  TextFile& operator=(const TextFile&) = delete;

  // Appends text; write errors are kept for Close().
  TextFile& operator<<(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kFlushAt) Flush();
    return *this;
  }
  std::string& buffer() { return buf_; }  // append directly, then call MaybeFlush
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }

  Status Close() {
    Flush();
    if (file_ != nullptr && std::fclose(file_) != 0 && status_.ok()) {
      status_ = Status::IOError(path_ + ": close failed");
    }
    file_ = nullptr;
    return status_;
  }

 private:
  static constexpr size_t kFlushAt = size_t{1} << 20;

  void Flush() {
    if (file_ != nullptr && !buf_.empty() &&
        std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size() && status_.ok()) {
      status_ = Status::IOError(path_ + ": write failed: " + std::strerror(errno));
    }
    buf_.clear();
  }

  std::string path_;
  FILE* file_ = nullptr;
  std::string buf_;
  Status status_;
};

}  // namespace oiv4kv::synth
