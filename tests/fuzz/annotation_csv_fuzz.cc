// LabelCsv and BoxCsv (store/convert/annotation_csv.h) on any bytes, with the
// synthetic download's class lists (the seeds are its CSVs). The first input
// byte picks the reader (bit 0: labels or boxes), whether the right header
// is put in front (bit 1, so that rows are reached without the fuzzer having
// to write one) and the buffer size. Every row read must hold what the header
// promises; every error must be Corruption naming the file and a line; the
// reader must reach the end.
#include <cmath>
#include <memory>
#include <string>

#include "oiv4kv/dataset.h"
#include "store/convert/annotation_csv.h"
#include "store/synth/synth_vocab.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using oiv4kv::Status;

template <size_t N>
std::string Header(const std::string_view (&columns)[N]) {
  std::string h;
  for (size_t i = 0; i < N; ++i) h += (i ? "," : "") + std::string(columns[i]);
  return h + "\n";
}

void CheckError(const Status& s, const std::string& path) {
  FUZZ_CHECK(s.IsCorruption() || s.IsInvalidArgument(), "%s", s.ToString().c_str());
  FUZZ_CHECK(s.ToString().find(path + ":") != std::string::npos, "error names no file: %s",
             s.ToString().c_str());
}

template <typename Reader, typename Row, typename CheckRow>
void ReadAll(Reader* reader, size_t size, const CheckRow& check_row) {
  Row row;
  std::string last_error;
  for (size_t calls = 0; calls <= size + 2; ++calls) {
    bool eof = false;
    Status s = reader->Next(&row, &eof);
    if (!s.ok()) {
      CheckError(s, reader->path());
      if (s.ToString() == last_error) return;  // an error of the file: it repeats
      last_error = s.ToString();
      continue;
    }
    last_error.clear();
    if (eof) return;
    check_row(row);
  }
  FUZZ_CHECK(false, "the reader did not reach the end of %zu bytes", size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* all = new oiv4kv::Vocabulary(
      oiv4kv::synth::GetSynthClasses().lists.download_all);
  static const auto* boxable = new oiv4kv::Vocabulary(
      oiv4kv::synth::GetSynthClasses().lists.download_boxable);
  oiv4kv::fuzz::Input in(data, size);
  const uint8_t mode = in.Byte();
  oiv4kv::CsvReaderOptions options;
  options.buffer_size = 1 + in.Byte() % 256;
  const bool boxes = mode & 1;
  std::string text;
  if (mode & 2) text = boxes ? Header(oiv4kv::kBoxCsvColumns) : Header(oiv4kv::kLabelCsvColumns);
  text += in.rest_text();
  oiv4kv::fuzz::MemFile file(text);

  if (!boxes) {
    std::unique_ptr<oiv4kv::LabelCsv> csv;
    Status s = oiv4kv::LabelCsv::Open(file.path(), all, &csv, options);
    if (!s.ok()) {
      CheckError(s, file.path());
      return 0;
    }
    ReadAll<oiv4kv::LabelCsv, oiv4kv::LabelRow>(csv.get(), text.size(), [&](const auto& row) {
      FUZZ_CHECK(row.label < all->size(), "label %u", row.label);
      FUZZ_CHECK(row.confidence <= 10, "confidence %u", row.confidence);
      FUZZ_CHECK(row.source < oiv4kv::kSourceNames.size(), "source %u", row.source);
    });
  } else {
    std::unique_ptr<oiv4kv::BoxCsv> csv;
    Status s = oiv4kv::BoxCsv::Open(file.path(), boxable, &csv, options);
    if (!s.ok()) {
      CheckError(s, file.path());
      return 0;
    }
    ReadAll<oiv4kv::BoxCsv, oiv4kv::BoxRow>(csv.get(), text.size(), [&](const auto& row) {
      FUZZ_CHECK(row.label < boxable->size(), "label %u", row.label);
      FUZZ_CHECK(row.source < oiv4kv::kSourceNames.size(), "source %u", row.source);
      for (float v : row.bbox) FUZZ_CHECK(v >= 0.0f && v <= 1.0f, "a coordinate %g", v);
      FUZZ_CHECK(row.bbox[0] <= row.bbox[2] && row.bbox[1] <= row.bbox[3], "min over max");
      for (int8_t f : {row.is_occluded, row.is_truncated, row.is_group_of, row.is_depiction,
                       row.is_inside}) {
        FUZZ_CHECK(f >= -1 && f <= 1, "flag %d", f);
      }
    });
  }
  return 0;
}
