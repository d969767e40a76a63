#include "store/convert/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using Records = std::vector<std::vector<std::string>>;

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

struct ReadResult {
  Records records;
  std::vector<uint64_t> lines;  // line() of each record
};

// Reads every record of `path`; fails the test on any error.
ReadResult ReadAll(const std::string& path, const CsvReaderOptions& options = {}) {
  ReadResult result;
  std::unique_ptr<CsvReader> csv;
  Status s = CsvReader::Open(path, options, &csv);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return result;
  std::vector<std::string_view> fields;
  while (true) {
    bool eof = false;
    s = csv->Next(&fields, &eof);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok() || eof) break;
    result.records.emplace_back(fields.begin(), fields.end());
    result.lines.push_back(csv->line());
  }
  return result;
}

class CsvReaderTest : public ::testing::Test {
 protected:
  // Writes `content` to a file and reads it back.
  ReadResult Read(std::string_view content, const CsvReaderOptions& options = {}) {
    WriteFile(path_, content);
    return ReadAll(path_, options);
  }
  std::unique_ptr<CsvReader> OpenWith(std::string_view content,
                                      const CsvReaderOptions& options = {}) {
    WriteFile(path_, content);
    std::unique_ptr<CsvReader> csv;
    Status s = CsvReader::Open(path_, options, &csv);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return csv;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.Sub("in.csv");
};

TEST_F(CsvReaderTest, ReadsPlainRecords) {
  const ReadResult r = Read("ImageID,Source\n000a,xclick\n000b,machine\n");
  EXPECT_EQ((Records{{"ImageID", "Source"}, {"000a", "xclick"}, {"000b", "machine"}}), r.records);
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 3}), r.lines);
}

TEST_F(CsvReaderTest, EofRepeats) {
  auto csv = OpenWith("a\n");
  std::vector<std::string_view> fields;
  bool eof = false;
  ASSERT_OK(csv->Next(&fields, &eof));
  ASSERT_FALSE(eof);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(csv->Next(&fields, &eof));
    EXPECT_TRUE(eof);
    EXPECT_TRUE(fields.empty());
  }
}

TEST_F(CsvReaderTest, EmptyFileHasNoRecords) {
  EXPECT_TRUE(Read("").records.empty());
  EXPECT_TRUE(Read("\xEF\xBB\xBF").records.empty());
}

TEST_F(CsvReaderTest, QuotedFieldsHoldCommasQuotesAndNewlines) {
  const ReadResult r = Read(
      "\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\",plain\n"
      "\"\"\"\",\"\",\",\"\n");
  EXPECT_EQ((Records{{"a,b", "say \"hi\"", "line1\nline2", "plain"}, {"\"", "", ","}}),
            r.records);
  EXPECT_EQ((std::vector<uint64_t>{1, 3}), r.lines);
}

TEST_F(CsvReaderTest, CrlfEndsRecordsButStaysInsideQuotes) {
  const ReadResult r = Read("a,b\r\n\"x\r\ny\",z\r\n\"q\"\r\nlast\r\n");
  EXPECT_EQ((Records{{"a", "b"}, {"x\r\ny", "z"}, {"q"}, {"last"}}), r.records);
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 4, 5}), r.lines);
}

TEST_F(CsvReaderTest, LoneCarriageReturnIsData) {
  const ReadResult r = Read("a\rb,c\r\r\n");
  EXPECT_EQ((Records{{"a\rb", "c\r"}}), r.records);
}

TEST_F(CsvReaderTest, ByteOrderMarkOnlyAtStartIsDropped) {
  const ReadResult r = Read("\xEF\xBB\xBFImageID,Source\n\xEF\xBB\xBFx,y\n");
  EXPECT_EQ((Records{{"ImageID", "Source"}, {"\xEF\xBB\xBFx", "y"}}), r.records);
  EXPECT_EQ((std::vector<uint64_t>{1, 2}), r.lines);
  // A BOM before a quoted field: the quote still opens the field.
  EXPECT_EQ((Records{{"a,b", "c"}}), Read("\xEF\xBB\xBF\"a,b\",c").records);
}

TEST_F(CsvReaderTest, LastRecordWithoutNewline) {
  EXPECT_EQ((Records{{"a", "b"}, {"c", "d"}}), Read("a,b\nc,d").records);
  EXPECT_EQ((Records{{"a", "b"}, {"c\nd"}}), Read("a,b\n\"c\nd\"").records);
  EXPECT_EQ((Records{{"a", ""}}), Read("a,").records);
}

TEST_F(CsvReaderTest, EmptyFieldsAndBlankLines) {
  const ReadResult r = Read(",,\na,,b\n\"\",x,\n\nlast\n");
  EXPECT_EQ((Records{{"", "", ""}, {"a", "", "b"}, {"", "x", ""}, {""}, {"last"}}), r.records);
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 3, 4, 5}), r.lines);
}

TEST_F(CsvReaderTest, HugeFieldsGrowTheBuffer) {
  std::string quoted, plain;
  for (int i = 0; i < 300'000; ++i) {
    quoted += "ab,\"\n"[i % 5];
    plain += static_cast<char>('a' + i % 26);
  }
  std::string escaped;
  for (char c : quoted) {
    escaped += c;
    if (c == '"') escaped += '"';
  }
  const std::string text = "x,\"" + escaped + "\"," + plain + "\nnext\n";
  CsvReaderOptions small;
  small.buffer_size = 4096;
  for (const CsvReaderOptions& options : {small, CsvReaderOptions()}) {
    const ReadResult r = Read(text, options);
    ASSERT_EQ(2u, r.records.size());
    EXPECT_EQ((std::vector<std::string>{"x", quoted, plain}), r.records[0]);
    EXPECT_EQ((std::vector<std::string>{"next"}), r.records[1]);
    const auto newlines_in_field =
        static_cast<uint64_t>(std::count(quoted.begin(), quoted.end(), '\n'));
    EXPECT_EQ((std::vector<uint64_t>{1, 2 + newlines_in_field}), r.lines);
  }
}

TEST_F(CsvReaderTest, UnterminatedQuoteNamesTheLineWhereTheRecordStarted) {
  auto csv = OpenWith("a,b\nc,d\ne,\"open\nmore\nstuff\n");
  std::vector<std::string_view> fields;
  bool eof = false;
  ASSERT_OK(csv->Next(&fields, &eof));
  ASSERT_OK(csv->Next(&fields, &eof));
  Status s = csv->Next(&fields, &eof);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(path_ + ":3: unterminated quoted field", s.message());
  EXPECT_EQ(3u, csv->line());
  EXPECT_TRUE(fields.empty());
  // Nothing after it can be trusted: the error repeats.
  s = csv->Next(&fields, &eof);
  EXPECT_EQ(path_ + ":3: unterminated quoted field", s.message());
}

TEST_F(CsvReaderTest, LineNumbersCountNewlinesInsideQuotes) {
  const ReadResult r = Read(
      "h1,h2\n"                  // 1
      "\"a\nb\nc\",x\n"          // 2-4
      "plain,y\r\n"              // 5
      "\"\r\n\",\"\n\"\r\n"      // 6-8
      "\n"                       // 9
      "end,\"z\"\n");            // 10
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 5, 6, 9, 10}), r.lines);
  EXPECT_EQ((std::vector<std::string>{"\r\n", "\n"}), r.records[3]);
}

TEST_F(CsvReaderTest, MalformedQuotingIsReportedAndSkipped) {
  auto csv = OpenWith(
      "ok,1\n"
      "a\"b,c\n"
      "\"a\"b,c\n"
      "\"multi\nline\"x,y\n"
      "ok,2\n");
  std::vector<std::string_view> fields;
  bool eof = false;
  ASSERT_OK(csv->Next(&fields, &eof));
  Status s = csv->Next(&fields, &eof);
  EXPECT_EQ(path_ + ":2: quote inside unquoted field 1", s.message());
  EXPECT_TRUE(fields.empty());
  s = csv->Next(&fields, &eof);
  EXPECT_EQ(path_ + ":3: unexpected character after closing quote in field 1", s.message());
  s = csv->Next(&fields, &eof);
  EXPECT_EQ(path_ + ":4: unexpected character after closing quote in field 1", s.message());
  ASSERT_OK(csv->Next(&fields, &eof));
  ASSERT_FALSE(eof);
  EXPECT_EQ(6u, csv->line());
  EXPECT_EQ((std::vector<std::string_view>{"ok", "2"}), fields);
  ASSERT_OK(csv->Next(&fields, &eof));
  EXPECT_TRUE(eof);
}

TEST_F(CsvReaderTest, RunawayQuoteStopsAtMaxRecordBytes) {
  std::string text = "a,b\n\"never closed\n";
  for (int i = 0; i < 20'000; ++i) text += "0011d545a9314517,xclick,/m/01,1\n";
  CsvReaderOptions options;
  options.buffer_size = 1024;
  options.max_record_bytes = 16 * 1024;
  auto csv = OpenWith(text, options);
  std::vector<std::string_view> fields;
  bool eof = false;
  ASSERT_OK(csv->Next(&fields, &eof));
  const Status s = csv->Next(&fields, &eof);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(path_ + ":2: record longer than 16384 bytes (unterminated quoted field?)",
            s.message());
  EXPECT_EQ(s.message(), csv->Next(&fields, &eof).message());
}

TEST_F(CsvReaderTest, MaxRecordBytesIsExact) {
  CsvReaderOptions options;
  options.buffer_size = 64;
  options.max_record_bytes = 2000;
  const std::string fits(2000, 'a');
  const ReadResult r = Read("x\r\n" + fits + "\n" + "\"" + std::string(1998, 'b') + "\"", options);
  ASSERT_EQ(3u, r.records.size());
  EXPECT_EQ(fits, r.records[1][0]);
  EXPECT_EQ(std::string(1998, 'b'), r.records[2][0]);

  for (const std::string& too_long : {fits + "a\nnext\n", fits + "a"}) {
    auto csv = OpenWith(too_long, options);
    std::vector<std::string_view> fields;
    bool eof = false;
    const Status s = csv->Next(&fields, &eof);
    EXPECT_EQ(path_ + ":1: record longer than 2000 bytes", s.message());
  }
}

TEST_F(CsvReaderTest, StreamsAFileLargerThanItsBuffer) {
  // About 5 MB with the default 1 MiB buffer: records cross every refill.
  std::string text = "ImageID,Source,LabelName,Confidence\n";
  Records expected = {{"ImageID", "Source", "LabelName", "Confidence"}};
  char id[17];
  for (uint64_t i = 0; text.size() < 5'000'000; ++i) {
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(i * 2654435761u));
    const std::string label = i % 7 == 0 ? "/m/0, \"quoted\"" : "/m/0" + std::to_string(i % 1000);
    const std::string conf = i % 3 == 0 ? "1" : "0." + std::to_string(i % 10);
    text += std::string(id) + ",verification,";
    text += i % 7 == 0 ? "\"/m/0, \"\"quoted\"\"\"" : label;
    text += "," + conf + (i % 2 ? "\r\n" : "\n");
    expected.push_back({id, "verification", label, conf});
  }
  WriteFile(path_, text);
  std::unique_ptr<CsvReader> csv;
  ASSERT_OK(CsvReader::Open(path_, &csv));
  EXPECT_EQ(text.size(), csv->file_size());
  std::vector<std::string_view> fields;
  size_t n = 0;
  uint64_t last_bytes = 0;
  for (bool eof = false;;) {
    ASSERT_OK(csv->Next(&fields, &eof));
    if (eof) break;
    ASSERT_LT(n, expected.size());
    ASSERT_EQ(expected[n], std::vector<std::string>(fields.begin(), fields.end())) << n;
    ASSERT_EQ(n + 1, csv->line());
    ASSERT_GT(csv->bytes_read(), last_bytes);
    last_bytes = csv->bytes_read();
    ++n;
  }
  EXPECT_EQ(expected.size(), n);
  EXPECT_EQ(text.size(), csv->bytes_read());
}

TEST_F(CsvReaderTest, BytesReadEndsAtEachRecord) {
  auto csv = OpenWith("\xEF\xBB\xBF" "ab,c\r\nxyz\nlast");
  std::vector<std::string_view> fields;
  bool eof = false;
  std::vector<uint64_t> ends;
  while (csv->Next(&fields, &eof).ok() && !eof) ends.push_back(csv->bytes_read());
  EXPECT_EQ((std::vector<uint64_t>{9, 13, 17}), ends);
  EXPECT_EQ(17u, csv->file_size());
}

// Random records with every special character, written the way a careful
// writer would quote them, read back through buffers of many sizes: every
// state of the scanner meets a refill boundary.
TEST_F(CsvReaderTest, RandomRecordsRoundTripAcrossBufferBoundaries) {
  std::mt19937 rng(20240611);
  const std::string alphabet = "ab,\"\n\r x";
  Records expected;
  std::vector<uint64_t> expected_lines;
  std::string text = rng() % 2 ? "\xEF\xBB\xBF" : "";
  uint64_t line = 1;
  for (int r = 0; r < 400; ++r) {
    std::vector<std::string> record(1 + rng() % 5);
    std::string encoded;
    for (size_t f = 0; f < record.size(); ++f) {
      std::string& field = record[f];
      const size_t len = rng() % 4 == 0 ? 0 : rng() % 12;
      for (size_t i = 0; i < len; ++i) field += alphabet[rng() % alphabet.size()];
      const bool must_quote = field.find_first_of(",\"\n\r") != std::string::npos ||
                              (record.size() == 1 && field.empty());
      if (f > 0) encoded += ',';
      if (must_quote || rng() % 5 == 0) {
        encoded += '"';
        for (char c : field) {
          encoded += c;
          if (c == '"') encoded += '"';
        }
        encoded += '"';
      } else {
        encoded += field;
      }
    }
    expected.push_back(record);
    expected_lines.push_back(line);
    const bool last = r == 399;
    encoded += last && rng() % 2 ? "" : (rng() % 2 ? "\r\n" : "\n");
    line += static_cast<uint64_t>(std::count(encoded.begin(), encoded.end(), '\n'));
    text += encoded;
  }
  WriteFile(path_, text);
  for (size_t buffer_size : {1, 2, 3, 5, 8, 64, 1000, 1 << 20}) {
    SCOPED_TRACE(buffer_size);
    CsvReaderOptions options;
    options.buffer_size = buffer_size;
    const ReadResult r = ReadAll(path_, options);
    EXPECT_EQ(expected, r.records);
    EXPECT_EQ(expected_lines, r.lines);
  }
}

TEST(CsvReader, OpenErrorsNameTheFile) {
  testing::TempDir dir;
  std::unique_ptr<CsvReader> csv;
  Status s = CsvReader::Open(dir.Sub("missing.csv"), &csv);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.message().find(dir.Sub("missing.csv"))) << s.message();
  s = CsvReader::Open(dir.path(), &csv);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(dir.path() + ": is a directory", s.message());
  CsvReaderOptions zero;
  zero.buffer_size = 0;
  EXPECT_TRUE(CsvReader::Open(dir.Sub("missing.csv"), zero, &csv).IsInvalidArgument());
}

}  // namespace
}  // namespace oiv4kv
