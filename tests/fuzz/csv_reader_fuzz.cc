// CsvReader (store/convert/csv_reader.h) against a reference reader written
// here, one byte at a time from the whole input, with the rules the header
// states: every record, field, line number and error must agree, whatever the
// buffer size (the first input byte picks it, 1..64 bytes, so records cross
// buffer refills) and the record limit (the second byte: 1..255 bytes, or
// the default).
#include <string>
#include <string_view>
#include <vector>

#include "store/convert/csv_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// One result of the reference reader's Next.
struct RefRecord {
  bool eof = false;
  bool error = false;
  bool sticky = false;  // the error repeats on every later call
  uint64_t line = 0;    // where the record started (1-based)
  std::vector<std::string> fields;
};

class RefReader {
 public:
  RefReader(std::string_view data, size_t max_record) : data_(data), max_(max_record) {
    if (data_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  RefRecord Next() {
    RefRecord r;
    if (sticky_) {
      r.error = r.sticky = true;
      r.line = line_;
      return r;
    }
    if (pos_ == data_.size()) {
      r.eof = true;
      return r;
    }
    line_ = next_line_;
    r.line = line_;
    // The record's end: LF outside quotes; a quote opens a quoted field only
    // at the start of a field, a doubled quote stays inside it.
    enum { kStart, kUnquoted, kQuoted, kQuoteInQuoted } state = kStart;
    uint64_t newlines = 0;
    size_t end = data_.size();
    bool by_lf = false;
    for (size_t k = pos_; k < data_.size(); ++k) {
      const char c = data_[k];
      if (state == kQuoted) {
        if (c == '"') state = kQuoteInQuoted;
        if (c == '\n') ++newlines;
        continue;
      }
      if (state == kStart || state == kQuoteInQuoted) {
        if (c == '"') {
          state = kQuoted;
          continue;
        }
        state = kUnquoted;
      }
      if (c == ',') state = kStart;
      if (c == '\n') {
        end = k;
        by_lf = true;
        break;
      }
    }
    if (end - pos_ > max_ || (!by_lf && state == kQuoted)) {
      sticky_ = true;
      r.error = r.sticky = true;
      return r;
    }
    std::string_view content = data_.substr(pos_, end - pos_);
    if (by_lf) {
      pos_ = end + 1;
      next_line_ = line_ + newlines + 1;
      if (content.ends_with('\r')) content.remove_suffix(1);
    } else {
      pos_ = end;
      next_line_ = line_ + newlines;
    }
    r.error = !Split(content, &r.fields);
    if (r.error) r.fields.clear();
    return r;
  }

 private:
  static bool Split(std::string_view s, std::vector<std::string>* fields) {
    size_t i = 0;
    while (true) {
      if (i < s.size() && s[i] == '"') {
        std::string value;
        size_t j = i + 1;
        while (true) {
          if (j >= s.size()) return false;  // unterminated
          if (s[j] == '"') {
            if (j + 1 < s.size() && s[j + 1] == '"') {
              value += '"';
              j += 2;
              continue;
            }
            ++j;
            break;
          }
          value += s[j++];
        }
        fields->push_back(value);
        if (j == s.size()) return true;
        if (s[j] != ',') return false;
        i = j + 1;
      } else {
        size_t stop = s.find(',', i);
        if (stop == std::string_view::npos) stop = s.size();
        std::string_view field = s.substr(i, stop - i);
        if (field.find('"') != std::string_view::npos) return false;
        fields->emplace_back(field);
        if (stop == s.size()) return true;
        i = stop + 1;
      }
    }
  }

  std::string_view data_;
  size_t max_;
  size_t pos_ = 0;
  uint64_t line_ = 0, next_line_ = 1;
  bool sticky_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oiv4kv::fuzz::Input in(data, size);
  oiv4kv::CsvReaderOptions options;
  options.buffer_size = 1 + in.Byte() % 64;
  const uint8_t limit = in.Byte();
  if (limit != 0) options.max_record_bytes = limit;
  const std::string_view text = in.rest_text();

  oiv4kv::fuzz::MemFile file(text);
  std::unique_ptr<oiv4kv::CsvReader> csv;
  oiv4kv::Status s = oiv4kv::CsvReader::Open(file.path(), options, &csv);
  FUZZ_CHECK(s.ok(), "%s", s.ToString().c_str());
  RefReader ref(text, options.max_record_bytes);

  std::vector<std::string_view> fields;
  // Every call consumes at least one byte or ends the file; sticky errors are
  // read twice to see them repeat.
  int sticky_seen = 0;
  size_t records = 0;
  for (size_t calls = 0; calls <= text.size() + 2; ++calls) {
    bool eof = false;
    s = csv->Next(&fields, &eof);
    const RefRecord want = ref.Next();
    FUZZ_CHECK(s.ok() != want.error, "record %zu: reader %s, reference %s", calls,
               s.ToString().c_str(), want.error ? "error" : "ok");
    if (want.error) {
      FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
      FUZZ_CHECK(fields.empty(), "fields after an error");
      const std::string where = ":" + std::to_string(want.line) + ": ";
      FUZZ_CHECK(s.ToString().find(where) != std::string::npos,
                 "error %s does not name line %llu", s.ToString().c_str(),
                 static_cast<unsigned long long>(want.line));
      if (want.sticky && ++sticky_seen == 2) return 0;
      if (!want.sticky) ++records;
      continue;
    }
    FUZZ_CHECK(eof == want.eof, "record %zu: eof %d, reference %d", calls, eof, want.eof);
    if (eof) {
      FUZZ_CHECK(fields.empty(), "fields at eof");
      FUZZ_CHECK(records == 0 || csv->bytes_read() == text.size(), "bytes_read %llu of %zu at eof",
                 static_cast<unsigned long long>(csv->bytes_read()), text.size());
      return 0;
    }
    ++records;
    FUZZ_CHECK(csv->line() == want.line, "line %llu, reference %llu",
               static_cast<unsigned long long>(csv->line()),
               static_cast<unsigned long long>(want.line));
    FUZZ_CHECK(fields.size() == want.fields.size(), "line %llu: %zu fields, reference %zu",
               static_cast<unsigned long long>(want.line), fields.size(), want.fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      FUZZ_CHECK(fields[i] == want.fields[i], "line %llu field %zu differs",
                 static_cast<unsigned long long>(want.line), i);
    }
  }
  FUZZ_CHECK(false, "the reader did not reach the end of %zu bytes", text.size());
  return 0;
}
