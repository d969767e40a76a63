#include "store/convert/annotation_csv.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

constexpr std::string_view kLabelHeader = "ImageID,Source,LabelName,Confidence\n";
constexpr std::string_view kBoxHeader =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
    "IsGroupOf,IsDepiction,IsInside\n";

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

// What TFDS stores for a coordinate: Python float (double), then float32.
float Float32(const char* text) { return static_cast<float>(std::strtod(text, nullptr)); }

class AnnotationCsvTest : public ::testing::Test {
 protected:
  std::unique_ptr<LabelCsv> OpenLabels(std::string_view content) {
    WriteFile(path_, content);
    std::unique_ptr<LabelCsv> csv;
    Status s = LabelCsv::Open(path_, &all_, &csv);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return csv;
  }
  std::unique_ptr<BoxCsv> OpenBoxes(std::string_view content) {
    WriteFile(path_, content);
    std::unique_ptr<BoxCsv> csv;
    Status s = BoxCsv::Open(path_, &boxable_, &csv);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return csv;
  }
  // "path:line: reason", the form of every row error.
  std::string At(int line, std::string_view reason) const {
    return path_ + ":" + std::to_string(line) + ": " + std::string(reason);
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.Sub("train-annotations.csv");
  const Vocabulary all_{{{"/m/a", "A"}, {"/m/b", "B"}, {"/m/c", "C"}}};
  const Vocabulary boxable_{{{"/m/c", "C"}, {"/m/b", "B"}}};
};

TEST_F(AnnotationCsvTest, LabelRowsCarryTfdsValues) {
  auto csv = OpenLabels(std::string(kLabelHeader) +
                        "0011d545a9314517,verification,/m/b,0.29\n"
                        "0011d545a9314517,crowdsource-verification,/m/a,0.7\n"
                        "FFFFFFFFFFFFFFFF,machine,/m/c,1\n"
                        "0000000000000000,freeform,/m/a,0\n"
                        "00000000000000ab,xclick,/m/b,0.9999999\n"
                        "abcdef0123456789,activemil,/m/c,1.0\n"
                        "abcdef0123456789,machine,/m/c,0.57\n"
                        "abcdef0123456789,machine,/m/a,0.9\n");
  ASSERT_NE(nullptr, csv);
  struct Expected {
    uint64_t id;
    uint16_t label;
    uint8_t confidence, source;
  };
  // Confidence is int(float(x) * 10) in double: 0.29*10 = 2.9000000000000004
  // -> 2, 0.7*10 = 7.000000000000001 -> 7, 0.57*10 = 5.699999999999999 -> 5.
  // Parsing as float32 first would give 0.7 -> 6 and 0.9 -> 8.
  const std::vector<Expected> expected = {
      {0x0011d545a9314517ULL, 1, 2, 0}, {0x0011d545a9314517ULL, 0, 7, 1},
      {0xFFFFFFFFFFFFFFFFULL, 2, 10, 2}, {0, 0, 0, 3},
      {0xabULL, 1, 9, 4},                {0xabcdef0123456789ULL, 2, 10, 5},
      {0xabcdef0123456789ULL, 2, 5, 2}, {0xabcdef0123456789ULL, 0, 9, 2}};
  for (size_t i = 0; i < expected.size(); ++i) {
    LabelRow row;
    bool eof = false;
    ASSERT_OK(csv->Next(&row, &eof));
    ASSERT_FALSE(eof);
    EXPECT_EQ(i + 2, csv->line());
    EXPECT_EQ(expected[i].id, row.image_id) << i;
    EXPECT_EQ(expected[i].label, row.label) << i;
    EXPECT_EQ(expected[i].confidence, row.confidence) << i;
    EXPECT_EQ(expected[i].source, row.source) << i;
  }
  LabelRow row;
  bool eof = false;
  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_TRUE(eof);
  EXPECT_EQ(csv->file_size(), csv->bytes_read());
}

// Issue 17 item 8: a field's NUL and non-UTF-8 bytes are not copied into
// the message (and so the report) raw.
TEST_F(AnnotationCsvTest, BytesThatAreNotTextAreEscapedInTheMessage) {
  auto csv = OpenLabels(std::string(kLabelHeader) +
                        std::string("0011d545a9314517,hu\0m\xff" "an,/m/b,0.5\n", 34));
  ASSERT_NE(nullptr, csv);
  LabelRow row;
  bool eof = false;
  const Status s = csv->Next(&row, &eof);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(At(2, "unknown source 'hu\\x00m\\xffan'"), s.message());
}

TEST_F(AnnotationCsvTest, LabelRowErrorsNameTheLineAndReadingGoesOn) {
  auto csv = OpenLabels(std::string(kLabelHeader) +
                        "0011d545a9314517,verification,/m/b,0.5\n"      // 2 ok
                        "0011d545a9314517,verification,/m/b\n"          // 3
                        "0011d545a931451g,verification,/m/b,0.5\n"      // 4
                        "011d545a9314517,verification,/m/b,0.5\n"       // 5
                        "0011d545a9314517,verification,/m/b,abc\n"      // 6
                        "0011d545a9314517,verification,/m/b,1.5\n"      // 7
                        "0011d545a9314517,verification,/m/b,-0.1\n"     // 8
                        "0011d545a9314517,human,/m/b,0.5\n"             // 9
                        "0011d545a9314517,verification,/m/xyz,0.5\n"    // 10
                        "0011d545a9314517,verification,/m/b, 0.5\n"     // 11
                        "0011d545a9314517,verification,/m/b,nan\n"      // 12
                        "0011d545a9314517,verif\"ication,/m/b,0.5\n"    // 13
                        "\n"                                            // 14 blank
                        "0011d545a9314517,verification,/m/b,0.5,extra\n"  // 15
                        "00000000000000ff,machine,/m/c,0.8\r\n");       // 16 ok
  ASSERT_NE(nullptr, csv);
  const std::vector<std::pair<int, std::string>> errors = {
      {3, "expected 4 columns, got 3"},
      {4, "bad ImageID '0011d545a931451g' (want 16 hex digits)"},
      {5, "bad ImageID '011d545a9314517' (want 16 hex digits)"},
      {6, "bad Confidence 'abc'"},
      {7, "Confidence 1.5 outside [0, 1]"},
      {8, "Confidence -0.1 outside [0, 1]"},
      {9, "unknown source 'human'"},
      {10, "MID /m/xyz not in vocabulary all"},
      {11, "bad Confidence ' 0.5'"},
      {12, "Confidence nan outside [0, 1]"},
      {13, "quote inside unquoted field 2"},
      {15, "expected 4 columns, got 5"},
  };
  LabelRow row;
  bool eof = false;
  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_EQ(2u, csv->line());
  for (const auto& [line, reason] : errors) {
    const Status s = csv->Next(&row, &eof);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(At(line, reason), s.message());
  }
  ASSERT_OK(csv->Next(&row, &eof));
  ASSERT_FALSE(eof);
  EXPECT_EQ(16u, csv->line());
  EXPECT_EQ(0xffULL, row.image_id);
  EXPECT_EQ(8, row.confidence);
  EXPECT_EQ(2, row.source);
  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_TRUE(eof);
}

TEST_F(AnnotationCsvTest, HeaderMustMatch) {
  std::unique_ptr<LabelCsv> labels;
  WriteFile(path_, "ImageID,Source,LabelName\n");
  Status s = LabelCsv::Open(path_, &all_, &labels);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(At(1, "expected header ImageID,Source,LabelName,Confidence, got "
                  "'ImageID,Source,LabelName'"),
            s.message());
  WriteFile(path_, "ImageID,LabelName,Source,Confidence\n");
  EXPECT_TRUE(LabelCsv::Open(path_, &all_, &labels).IsCorruption());
  WriteFile(path_, "");
  s = LabelCsv::Open(path_, &all_, &labels);
  EXPECT_EQ(path_ + ": empty file, expected header ImageID,Source,LabelName,Confidence",
            s.message());
  // A label CSV is not a bbox CSV.
  std::unique_ptr<BoxCsv> boxes;
  WriteFile(path_, kLabelHeader);
  EXPECT_TRUE(BoxCsv::Open(path_, &boxable_, &boxes).IsCorruption());
  // A byte order mark and CRLF are fine.
  WriteFile(path_, "\xEF\xBB\xBFImageID,Source,LabelName,Confidence\r\n");
  ASSERT_OK(LabelCsv::Open(path_, &all_, &labels));
  LabelRow row;
  bool eof = false;
  ASSERT_OK(labels->Next(&row, &eof));
  EXPECT_TRUE(eof);
  EXPECT_TRUE(LabelCsv::Open(dir_.Sub("missing.csv"), &all_, &labels).IsIOError());
}

TEST_F(AnnotationCsvTest, VocabularyMustFitTheLabelType) {
  std::vector<VocabEntry> entries;
  for (int i = 0; i <= 65536; ++i) entries.push_back({"/m/" + std::to_string(i), ""});
  const Vocabulary too_big(std::move(entries));
  WriteFile(path_, kLabelHeader);
  std::unique_ptr<LabelCsv> labels;
  EXPECT_TRUE(LabelCsv::Open(path_, &too_big, &labels).IsInvalidArgument());
  EXPECT_TRUE(LabelCsv::Open(path_, nullptr, &labels).IsInvalidArgument());
}

TEST_F(AnnotationCsvTest, BoxRowsCarryTfdsValues) {
  // The XMin of the second row lies just above the midpoint between two
  // float32 values: as a double it rounds onto the midpoint, which then
  // rounds to even (0.5), while a direct float parse rounds up. TFDS goes
  // through double.
  const char* kJustAboveMidpoint = "0.50000002980232238769531251";
  ASSERT_NE(std::strtof(kJustAboveMidpoint, nullptr), Float32(kJustAboveMidpoint));
  auto csv = OpenBoxes(std::string(kBoxHeader) +
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0,1\n" +
                       "0011d545a9314517,activemil,/m/c,1.0," + kJustAboveMidpoint +
                       ",1,0,0.333333333333333314829616256247,-1,-1,1,1,0\n" +
                       "00000000000000aa,xclick,/m/c,1,0.25,0.25,1,1,1,0,0,-1,-1");
  ASSERT_NE(nullptr, csv);
  BoxRow row;
  bool eof = false;
  ASSERT_OK(csv->Next(&row, &eof));
  ASSERT_FALSE(eof);
  EXPECT_EQ(0x0011d545a9314517ULL, row.image_id);
  EXPECT_EQ(1, row.label);
  EXPECT_EQ(4, row.source);
  EXPECT_EQ(Float32("0.2"), row.bbox[0]);  // ymin
  EXPECT_EQ(Float32("0.1"), row.bbox[1]);  // xmin
  EXPECT_EQ(Float32("0.8"), row.bbox[2]);  // ymax
  EXPECT_EQ(Float32("0.9"), row.bbox[3]);  // xmax
  EXPECT_EQ((std::vector<int>{0, 1, -1, 0, 1}),
            (std::vector<int>{row.is_occluded, row.is_truncated, row.is_group_of,
                              row.is_depiction, row.is_inside}));

  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_EQ(0, row.label);
  EXPECT_EQ(5, row.source);
  EXPECT_EQ(0.0f, row.bbox[0]);
  EXPECT_EQ(0.5f, row.bbox[1]);
  EXPECT_EQ(Float32("0.333333333333333314829616256247"), row.bbox[2]);
  EXPECT_EQ(1.0f, row.bbox[3]);
  EXPECT_EQ((std::vector<int>{-1, -1, 1, 1, 0}),
            (std::vector<int>{row.is_occluded, row.is_truncated, row.is_group_of,
                              row.is_depiction, row.is_inside}));

  ASSERT_OK(csv->Next(&row, &eof));  // degenerate box, no final newline
  EXPECT_EQ(0xaaULL, row.image_id);
  EXPECT_EQ(4u, csv->line());
  EXPECT_EQ(1.0f, row.bbox[0]);
  EXPECT_EQ(0.25f, row.bbox[1]);
  EXPECT_EQ(1.0f, row.bbox[2]);
  EXPECT_EQ(0.25f, row.bbox[3]);
  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_TRUE(eof);
}

TEST_F(AnnotationCsvTest, BoxRowErrorsNameTheLineAndReadingGoesOn) {
  const std::string good = "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0,1\n";
  auto csv = OpenBoxes(std::string(kBoxHeader) +
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0\n"      // 2
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,0.8,2,1,-1,0,1\n"    // 3
                       "0011d545a9314517,xclick,/m/b,1,0.6,0.5,0.2,0.8,0,1,-1,0,1\n"    // 4
                       "0011d545a9314517,xclick,/m/b,1,-0.1,0.9,0.2,0.8,0,1,-1,0,1\n"   // 5
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.9,0.8,0,1,-1,0,1\n"    // 6
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,1.01,0,1,-1,0,1\n"   // 7
                       "0011d545a9314517,xclick,/m/b,yes,0.1,0.9,0.2,0.8,0,1,-1,0,1\n"  // 8
                       "0011d545a9314517,xclick,/m/a,1,0.1,0.9,0.2,0.8,0,1,-1,0,1\n"    // 9
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9x,0.2,0.8,0,1,-1,0,1\n"   // 10
                       "0011d545a9314517,xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0,1.0\n"  // 11
                       "0011d545a9314517,Xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0,1\n"    // 12
                       "0011d545a9314517-,xclick,/m/b,1,0.1,0.9,0.2,0.8,0,1,-1,0,1\n" +  // 13
                       good);                                                          // 14
  ASSERT_NE(nullptr, csv);
  const std::vector<std::pair<int, std::string>> errors = {
      {2, "expected 13 columns, got 12"},
      {3, "IsOccluded '2' is not -1, 0 or 1"},
      {4, "XMin 0.6 > XMax 0.5"},
      {5, "XMin -0.1 outside [0, 1]"},
      {6, "YMin 0.9 > YMax 0.8"},
      {7, "YMax 1.01 outside [0, 1]"},
      {8, "bad Confidence 'yes'"},
      {9, "MID /m/a not in vocabulary boxable"},
      {10, "bad XMax '0.9x'"},
      {11, "IsInside '1.0' is not -1, 0 or 1"},
      {12, "unknown source 'Xclick'"},
      {13, "bad ImageID '0011d545a9314517-' (want 16 hex digits)"},
  };
  BoxRow row;
  bool eof = false;
  for (const auto& [line, reason] : errors) {
    const Status s = csv->Next(&row, &eof);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(At(line, reason), s.message());
  }
  ASSERT_OK(csv->Next(&row, &eof));
  ASSERT_FALSE(eof);
  EXPECT_EQ(14u, csv->line());
  EXPECT_EQ(1, row.label);
  ASSERT_OK(csv->Next(&row, &eof));
  EXPECT_TRUE(eof);
}

TEST_F(AnnotationCsvTest, UnterminatedQuoteEndsTheFile) {
  auto csv = OpenLabels(std::string(kLabelHeader) +
                        "0011d545a9314517,verification,\"/m/b,0.5\n"
                        "0011d545a9314517,verification,/m/b,0.5\n");
  LabelRow row;
  bool eof = false;
  const std::string expected = At(2, "unterminated quoted field");
  EXPECT_EQ(expected, csv->Next(&row, &eof).message());
  EXPECT_EQ(expected, csv->Next(&row, &eof).message());
}

TEST(FieldParsers, ImageId) {
  uint64_t id = 0;
  EXPECT_TRUE(ParseImageId("0011d545a9314517", &id));
  EXPECT_EQ(0x0011d545a9314517ULL, id);
  EXPECT_TRUE(ParseImageId("0011D545A9314517", &id));
  EXPECT_EQ(0x0011d545a9314517ULL, id);
  for (std::string_view bad : {"", "0011d545a931451", "0011d545a93145170", "0x11d545a9314517",
                               "0011d545a931451g", "-011d545a9314517", " 011d545a9314517"}) {
    EXPECT_FALSE(ParseImageId(bad, &id)) << bad;
  }
}

TEST(FieldParsers, Double) {
  double v = 0;
  EXPECT_TRUE(ParseDouble("0.29", &v));
  EXPECT_EQ(0.29, v);
  EXPECT_TRUE(ParseDouble("1e-1", &v));
  EXPECT_EQ(0.1, v);
  EXPECT_TRUE(ParseDouble("-0.5", &v));
  EXPECT_EQ(-0.5, v);
  EXPECT_TRUE(ParseDouble("1", &v));
  EXPECT_EQ(1.0, v);
  for (std::string_view bad : {"", "+1", " 1", "1 ", "0.5.5", "abc", "0x1p-1", "1,0"}) {
    EXPECT_FALSE(ParseDouble(bad, &v)) << bad;
  }
}

TEST(FieldParsers, Flag) {
  int8_t flag = 9;
  EXPECT_TRUE(ParseFlag("-1", &flag));
  EXPECT_EQ(-1, flag);
  EXPECT_TRUE(ParseFlag("0", &flag));
  EXPECT_EQ(0, flag);
  EXPECT_TRUE(ParseFlag("1", &flag));
  EXPECT_EQ(1, flag);
  for (std::string_view bad : {"", "2", "-2", "01", "+1", "1.0", "true"}) {
    EXPECT_FALSE(ParseFlag(bad, &flag)) << bad;
  }
}

}  // namespace
}  // namespace oiv4kv
