// CsvReader: a streaming RFC 4180 reader for the annotation and vocabulary
// CSVs of the download. Reads the file in fixed-size chunks, so memory is one
// buffer plus the longest record, whatever the file size.
//
// Accepted: fields quoted with '"' (holding commas, doubled quotes and line
// breaks), LF or CRLF record ends, a UTF-8 byte order mark at the start of
// the file, a last record without a line break, empty fields. A blank line is
// a record of one empty field; callers decide whether to skip it. A lone CR
// (not followed by LF) is data, not a line break.
// Rejected (Corruption "path:line: reason"): a quote inside an unquoted field,
// anything but a comma or the record end after a closing quote, a quoted
// field still open at the end of the file, a record longer than
// max_record_bytes (a runaway quote must not read the whole file into memory).
//
// Not thread-safe.
//
//   std::unique_ptr<CsvReader> csv;
//   OIV4KV_RETURN_IF_ERROR(CsvReader::Open(path, &csv));
//   std::vector<std::string_view> fields;
//   for (bool eof = false;;) {
//     OIV4KV_RETURN_IF_ERROR(csv->Next(&fields, &eof));
//     if (eof) break;
//     ...
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/status.h"

namespace oiv4kv {

struct CsvReaderOptions {
  // Bytes read from the file at a time. Default: 1 MiB.
  size_t buffer_size = size_t{1} << 20;
  // The longest record accepted, in bytes without its own line break (line
  // breaks inside quoted fields count). Default: 64 MiB.
  size_t max_record_bytes = size_t{64} << 20;
};

class CsvReader {
 public:
  // Opens `path` for reading. IOError naming the file if it cannot be opened.
  static Status Open(const std::string& path, std::unique_ptr<CsvReader>* out);
  static Status Open(const std::string& path, const CsvReaderOptions& options,
                     std::unique_ptr<CsvReader>* out);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into *fields, unquoted, CR/LF removed; sets *eof to
  // true (and clears *fields) after the last one. The views point into the
  // reader's buffer and are valid until the next call to Next or the reader's
  // destruction.
  // A malformed record (bad quoting) returns Corruption and is skipped: the
  // next call reads the record after it. An unterminated quote, an oversized
  // record or an IOError cannot be skipped: every later call returns it again.
  Status Next(std::vector<std::string_view>* fields, bool* eof);

  // The 1-based line where the last record returned (or rejected) started.
  uint64_t line() const { return line_; }
  // Bytes of the file consumed through the end of that record.
  uint64_t bytes_read() const { return consumed_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  CsvReader(std::string path, int fd, uint64_t file_size, const CsvReaderOptions& options);

  // Finds the end of the record starting at begin_, reading more as needed.
  // On success *record_end is the offset of its LF (or end_ at end of file)
  // and *newlines the line breaks inside quoted fields.
  Status FindRecordEnd(size_t* record_end, uint64_t* newlines);
  // Reads more of the file after end_, first moving the current record to
  // the front of the buffer (or growing it if the record fills it). Sets eof_
  // at end of file.
  Status Refill();
  // Splits buffer_[begin, end) into fields, unquoting in place.
  Status SplitFields(size_t begin, size_t end, std::vector<std::string_view>* fields);
  Status Error(uint64_t line, std::string_view reason) const;

  const std::string path_;
  const int fd_;
  const uint64_t file_size_;
  const CsvReaderOptions options_;

  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t begin_ = 0;       // start of the unparsed bytes
  size_t end_ = 0;         // end of the bytes read
  bool eof_ = false;       // the file has no more bytes after end_
  bool started_ = false;   // the byte order mark check is done
  uint64_t file_offset_ = 0;  // file offset of buffer_[0]
  uint64_t consumed_ = 0;
  uint64_t line_ = 0;
  uint64_t next_line_ = 1;
  Status sticky_;  // an error that ends the reading
};

}  // namespace oiv4kv
