#include "store/convert/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace oiv4kv {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Where the scan of a record stands; a quote opens a quoted field only at the
// start of a field, as in RFC 4180 (SplitFields rejects it anywhere else).
enum class ScanState { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

}  // namespace

Status CsvReader::Open(const std::string& path, std::unique_ptr<CsvReader>* out) {
  return Open(path, CsvReaderOptions(), out);
}

Status CsvReader::Open(const std::string& path, const CsvReaderOptions& options,
                       std::unique_ptr<CsvReader>* out) {
  if (options.buffer_size == 0 || options.max_record_bytes == 0) {
    return Status::InvalidArgument("CsvReader: buffer_size and max_record_bytes must be > 0");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError(path + ": " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::IOError(path + ": is a directory");
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint; failure is harmless
  out->reset(new CsvReader(path, fd, static_cast<uint64_t>(st.st_size), options));
  return Status::OK();
}

CsvReader::CsvReader(std::string path, int fd, uint64_t file_size,
                     const CsvReaderOptions& options)
    : path_(std::move(path)),
      fd_(fd),
      file_size_(file_size),
      options_(options),
      buffer_(new char[options.buffer_size]),
      capacity_(options.buffer_size) {}

CsvReader::~CsvReader() { ::close(fd_); }

Status CsvReader::Error(uint64_t line, std::string_view reason) const {
  return Status::Corruption(path_ + ":" + std::to_string(line) + ": " + std::string(reason));
}

Status CsvReader::Refill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    file_offset_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    // The current record fills the buffer: grow it (the caller bounds the
    // record by max_record_bytes, so this stops).
    const size_t capacity = capacity_ * 2;
    std::unique_ptr<char[]> grown(new char[capacity]);
    std::memcpy(grown.get(), buffer_.get(), end_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::IOError(path_ + ": read failed: " + std::strerror(errno));
  if (n == 0) eof_ = true;
  end_ += static_cast<size_t>(n);
  return Status::OK();
}

Status CsvReader::FindRecordEnd(size_t* record_end, uint64_t* newlines) {
  ScanState state = ScanState::kFieldStart;
  size_t scanned = 0;  // relative to begin_, which Refill may move
  *newlines = 0;
  while (true) {
    const char* p = buffer_.get() + begin_ + scanned;
    const char* const end = buffer_.get() + end_;
    while (p < end) {
      switch (state) {
        case ScanState::kQuoted: {
          const char* quote = static_cast<const char*>(std::memchr(p, '"', end - p));
          const char* stop = quote != nullptr ? quote : end;
          *newlines += static_cast<uint64_t>(std::count(p, stop, '\n'));
          if (quote == nullptr) {
            p = end;
          } else {
            p = quote + 1;
            state = ScanState::kQuoteInQuoted;
          }
          continue;
        }
        case ScanState::kFieldStart:
          if (*p == '"') {
            state = ScanState::kQuoted;
            ++p;
            continue;
          }
          state = ScanState::kUnquoted;
          break;
        case ScanState::kQuoteInQuoted:
          if (*p == '"') {  // a doubled quote: still inside the field
            state = ScanState::kQuoted;
            ++p;
            continue;
          }
          state = ScanState::kUnquoted;
          break;
        case ScanState::kUnquoted:
          break;
      }
      // Unquoted: only a comma (a new field may open a quote) or LF matters.
      while (p < end && *p != ',' && *p != '\n') ++p;
      if (p == end) break;
      if (*p == '\n') {
        *record_end = static_cast<size_t>(p - buffer_.get());
        if (*record_end - begin_ > options_.max_record_bytes) {
          return Error(line_, "record longer than " +
                                  std::to_string(options_.max_record_bytes) + " bytes");
        }
        return Status::OK();
      }
      state = ScanState::kFieldStart;
      ++p;
    }
    scanned = end_ - begin_;
    if (scanned > options_.max_record_bytes) {
      return Error(line_, "record longer than " + std::to_string(options_.max_record_bytes) +
                              " bytes" +
                              (state == ScanState::kQuoted ? " (unterminated quoted field?)" : ""));
    }
    if (eof_) {
      if (state == ScanState::kQuoted) return Error(line_, "unterminated quoted field");
      *record_end = end_;
      return Status::OK();
    }
    OIV4KV_RETURN_IF_ERROR(Refill());
  }
}

Status CsvReader::SplitFields(size_t begin, size_t end, std::vector<std::string_view>* fields) {
  char* const buf = buffer_.get();
  size_t i = begin;
  while (true) {
    if (i < end && buf[i] == '"') {
      // Quoted: unquote in place; the text only shrinks, so the write
      // position w never passes the read position r.
      size_t r = i + 1, w = i + 1;
      while (true) {
        const char* quote = static_cast<const char*>(std::memchr(buf + r, '"', end - r));
        if (quote == nullptr) return Error(line_, "unterminated quoted field");
        const size_t q = static_cast<size_t>(quote - buf);
        if (w != r) std::memmove(buf + w, buf + r, q - r);
        w += q - r;
        if (q + 1 < end && buf[q + 1] == '"') {
          buf[w++] = '"';
          r = q + 2;
          continue;
        }
        r = q + 1;
        break;
      }
      fields->emplace_back(buf + i + 1, w - (i + 1));
      if (r == end) return Status::OK();
      if (buf[r] != ',') {
        return Error(line_, "unexpected character after closing quote in field " +
                                std::to_string(fields->size()));
      }
      i = r + 1;
    } else {
      const char* comma = static_cast<const char*>(std::memchr(buf + i, ',', end - i));
      const size_t stop = comma != nullptr ? static_cast<size_t>(comma - buf) : end;
      if (std::memchr(buf + i, '"', stop - i) != nullptr) {
        return Error(line_, "quote inside unquoted field " + std::to_string(fields->size() + 1));
      }
      fields->emplace_back(buf + i, stop - i);
      if (stop == end) return Status::OK();
      i = stop + 1;
    }
  }
}

Status CsvReader::Next(std::vector<std::string_view>* fields, bool* eof) {
  fields->clear();
  *eof = false;
  if (!sticky_.ok()) return sticky_;
  if (!started_) {
    while (end_ - begin_ < kUtf8Bom.size() && !eof_) {
      if (Status s = Refill(); !s.ok()) return sticky_ = s;
    }
    if (std::string_view(buffer_.get() + begin_, end_ - begin_).starts_with(kUtf8Bom)) {
      begin_ += kUtf8Bom.size();
    }
    started_ = true;
  }
  if (begin_ == end_ && !eof_) {
    if (Status s = Refill(); !s.ok()) return sticky_ = s;
  }
  if (begin_ == end_ && eof_) {
    *eof = true;
    return Status::OK();
  }

  line_ = next_line_;
  size_t record_end;
  uint64_t newlines;
  if (Status s = FindRecordEnd(&record_end, &newlines); !s.ok()) return sticky_ = s;
  const size_t record_begin = begin_;
  size_t content_end = record_end;
  if (record_end < end_) {  // ended by LF, else by the end of the file
    begin_ = record_end + 1;
    next_line_ = line_ + newlines + 1;
    if (content_end > record_begin && buffer_[content_end - 1] == '\r') --content_end;
  } else {
    begin_ = end_;
    next_line_ = line_ + newlines;
  }
  consumed_ = file_offset_ + begin_;
  Status s = SplitFields(record_begin, content_end, fields);
  if (!s.ok()) fields->clear();
  return s;
}

}  // namespace oiv4kv
