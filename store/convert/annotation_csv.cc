#include "store/convert/annotation_csv.h"

#include <charconv>
#include <span>

#include "oiv4kv/dataset.h"
#include "oiv4kv/image_id.h"

namespace oiv4kv {
namespace {

// Labels are stored as uint16.
constexpr size_t kMaxVocabularySize = size_t{1} << 16;

// A field for a message: cut short so a runaway field cannot flood a
// report, and bytes other than printable ASCII (NUL, control characters,
// non-UTF-8) written as \xNN so the message and report stay plain text.
std::string Clipped(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out;
  for (const char c : text.substr(0, kMax)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string Quoted(std::string_view text) { return "'" + Clipped(text) + "'"; }

std::string Join(std::span<const std::string_view> fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += fields[i];
  }
  return out;
}

Status RowError(const CsvReader& csv, std::string_view reason) {
  return Status::Corruption(csv.path() + ":" + std::to_string(csv.line()) + ": " +
                            std::string(reason));
}

Status CheckVocabulary(const Vocabulary* vocab, std::string_view name) {
  if (vocab == nullptr || vocab->empty()) {
    return Status::InvalidArgument("no " + std::string(name) + " vocabulary given");
  }
  if (vocab->size() > kMaxVocabularySize) {
    return Status::InvalidArgument(std::string(name) + " vocabulary has " +
                                   std::to_string(vocab->size()) + " entries, more than " +
                                   std::to_string(kMaxVocabularySize));
  }
  return Status::OK();
}

Status ReadHeader(const std::string& path, std::span<const std::string_view> expected,
                  const CsvReaderOptions& options, std::unique_ptr<CsvReader>* csv) {
  OIV4KV_RETURN_IF_ERROR(CsvReader::Open(path, options, csv));
  std::vector<std::string_view> fields;
  bool eof = false;
  OIV4KV_RETURN_IF_ERROR((*csv)->Next(&fields, &eof));
  if (eof) return Status::Corruption(path + ": empty file, expected header " + Join(expected));
  if (!std::equal(fields.begin(), fields.end(), expected.begin(), expected.end())) {
    return RowError(**csv, "expected header " + Join(expected) + ", got " + Quoted(Join(fields)));
  }
  return Status::OK();
}

// Reads the next record that is not a blank line.
Status NextRecord(CsvReader* csv, std::vector<std::string_view>* fields, bool* eof) {
  while (true) {
    OIV4KV_RETURN_IF_ERROR(csv->Next(fields, eof));
    if (*eof || fields->size() != 1 || !(*fields)[0].empty()) return Status::OK();
  }
}

Status CheckColumnCount(const CsvReader& csv, size_t got, size_t expected) {
  if (got == expected) return Status::OK();
  return RowError(csv, "expected " + std::to_string(expected) + " columns, got " +
                           std::to_string(got));
}

Status ParseImageIdField(const CsvReader& csv, std::string_view text, uint64_t* id) {
  if (ParseImageId(text, id)) return Status::OK();
  return RowError(csv, "bad ImageID " + Quoted(text) + " (want 16 hex digits)");
}

Status ParseSource(const CsvReader& csv, std::string_view text, uint8_t* source) {
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    if (kSourceNames[i] == text) {
      *source = static_cast<uint8_t>(i);
      return Status::OK();
    }
  }
  return RowError(csv, "unknown source " + Quoted(text));
}

Status ParseLabel(const CsvReader& csv, std::string_view mid, const Vocabulary& vocab,
                  std::string_view vocab_name, uint16_t* label) {
  const std::optional<uint32_t> index = vocab.Find(mid);
  if (!index) {
    return RowError(csv, "MID " + Clipped(mid) + " not in vocabulary " +
                             std::string(vocab_name));
  }
  *label = static_cast<uint16_t>(*index);  // Open checked the vocabulary's size
  return Status::OK();
}

Status ParseNumber(const CsvReader& csv, std::string_view column, std::string_view text,
                   double* value) {
  if (ParseDouble(text, value)) return Status::OK();
  return RowError(csv, "bad " + std::string(column) + " " + Quoted(text));
}

// A number in [0, 1] (NaN fails the comparison too).
Status ParseUnitNumber(const CsvReader& csv, std::string_view column, std::string_view text,
                       double* value) {
  OIV4KV_RETURN_IF_ERROR(ParseNumber(csv, column, text, value));
  if (*value >= 0.0 && *value <= 1.0) return Status::OK();
  return RowError(csv, std::string(column) + " " + Clipped(text) + " outside [0, 1]");
}

Status ParseFlagField(const CsvReader& csv, std::string_view column, std::string_view text,
                      int8_t* flag) {
  if (ParseFlag(text, flag)) return Status::OK();
  return RowError(csv, std::string(column) + " " + Quoted(text) + " is not -1, 0 or 1");
}

}  // namespace

bool ParseImageId(std::string_view text, uint64_t* out) {
  const std::optional<uint64_t> id = ParseImageIdHex(text);  // oiv4kv/image_id.h's rule
  if (!id) return false;
  *out = *id;
  return true;
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out, std::chars_format::general);
  return ec == std::errc() && ptr == end;
}

bool ParseFlag(std::string_view text, int8_t* out) {
  if (text == "0") {
    *out = 0;
  } else if (text == "1") {
    *out = 1;
  } else if (text == "-1") {
    *out = -1;
  } else {
    return false;
  }
  return true;
}

Status LabelCsv::Open(const std::string& path, const Vocabulary* all,
                      std::unique_ptr<LabelCsv>* out, const CsvReaderOptions& options) {
  OIV4KV_RETURN_IF_ERROR(CheckVocabulary(all, "all"));
  std::unique_ptr<CsvReader> csv;
  OIV4KV_RETURN_IF_ERROR(ReadHeader(path, kLabelCsvColumns, options, &csv));
  out->reset(new LabelCsv(std::move(csv), all));
  return Status::OK();
}

Status LabelCsv::Next(LabelRow* row, bool* eof) {
  OIV4KV_RETURN_IF_ERROR(NextRecord(csv_.get(), &fields_, eof));
  if (*eof) return Status::OK();
  const CsvReader& csv = *csv_;
  OIV4KV_RETURN_IF_ERROR(CheckColumnCount(csv, fields_.size(), std::size(kLabelCsvColumns)));
  OIV4KV_RETURN_IF_ERROR(ParseImageIdField(csv, fields_[0], &row->image_id));
  OIV4KV_RETURN_IF_ERROR(ParseSource(csv, fields_[1], &row->source));
  OIV4KV_RETURN_IF_ERROR(ParseLabel(csv, fields_[2], *all_, "all", &row->label));
  double confidence;
  OIV4KV_RETURN_IF_ERROR(ParseUnitNumber(csv, "Confidence", fields_[3], &confidence));
  // TFDS: int(float(Confidence) * 10), the product in double, truncated.
  row->confidence = static_cast<uint8_t>(static_cast<int>(confidence * 10.0));
  return Status::OK();
}

Status BoxCsv::Open(const std::string& path, const Vocabulary* boxable,
                    std::unique_ptr<BoxCsv>* out, const CsvReaderOptions& options) {
  OIV4KV_RETURN_IF_ERROR(CheckVocabulary(boxable, "boxable"));
  std::unique_ptr<CsvReader> csv;
  OIV4KV_RETURN_IF_ERROR(ReadHeader(path, kBoxCsvColumns, options, &csv));
  out->reset(new BoxCsv(std::move(csv), boxable));
  return Status::OK();
}

Status BoxCsv::Next(BoxRow* row, bool* eof) {
  OIV4KV_RETURN_IF_ERROR(NextRecord(csv_.get(), &fields_, eof));
  if (*eof) return Status::OK();
  const CsvReader& csv = *csv_;
  const std::vector<std::string_view>& f = fields_;
  OIV4KV_RETURN_IF_ERROR(CheckColumnCount(csv, f.size(), std::size(kBoxCsvColumns)));
  OIV4KV_RETURN_IF_ERROR(ParseImageIdField(csv, f[0], &row->image_id));
  OIV4KV_RETURN_IF_ERROR(ParseSource(csv, f[1], &row->source));
  OIV4KV_RETURN_IF_ERROR(ParseLabel(csv, f[2], *boxable_, "boxable", &row->label));
  double confidence;  // always 1 in the download; TFDS drops it
  OIV4KV_RETURN_IF_ERROR(ParseNumber(csv, "Confidence", f[3], &confidence));
  double xmin, xmax, ymin, ymax;
  OIV4KV_RETURN_IF_ERROR(ParseUnitNumber(csv, "XMin", f[4], &xmin));
  OIV4KV_RETURN_IF_ERROR(ParseUnitNumber(csv, "XMax", f[5], &xmax));
  OIV4KV_RETURN_IF_ERROR(ParseUnitNumber(csv, "YMin", f[6], &ymin));
  OIV4KV_RETURN_IF_ERROR(ParseUnitNumber(csv, "YMax", f[7], &ymax));
  if (xmin > xmax) {
    return RowError(csv, "XMin " + Clipped(f[4]) + " > XMax " + Clipped(f[5]));
  }
  if (ymin > ymax) {
    return RowError(csv, "YMin " + Clipped(f[6]) + " > YMax " + Clipped(f[7]));
  }
  // TFDS parses with Python float (double) and stores float32.
  row->bbox[0] = static_cast<float>(ymin);
  row->bbox[1] = static_cast<float>(xmin);
  row->bbox[2] = static_cast<float>(ymax);
  row->bbox[3] = static_cast<float>(xmax);
  OIV4KV_RETURN_IF_ERROR(ParseFlagField(csv, "IsOccluded", f[8], &row->is_occluded));
  OIV4KV_RETURN_IF_ERROR(ParseFlagField(csv, "IsTruncated", f[9], &row->is_truncated));
  OIV4KV_RETURN_IF_ERROR(ParseFlagField(csv, "IsGroupOf", f[10], &row->is_group_of));
  OIV4KV_RETURN_IF_ERROR(ParseFlagField(csv, "IsDepiction", f[11], &row->is_depiction));
  OIV4KV_RETURN_IF_ERROR(ParseFlagField(csv, "IsInside", f[12], &row->is_inside));
  return Status::OK();
}

}  // namespace oiv4kv
