#include "store/convert/annotation_staging.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "store/convert/annotation_csv.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"

namespace oiv4kv {
namespace {

constexpr size_t kRowKeySize = 1 + 8 + 1 + 8;
constexpr size_t kRowsPerBatch = 20'000;

void PutBigEndian(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
}

uint64_t GetBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string RowKey(Split split, uint64_t id, RowFile file, uint64_t row) {
  std::string key(kRowKeySize, '\0');
  key[0] = static_cast<char>(split);
  PutBigEndian(id, &key[1]);
  key[9] = static_cast<char>(file);
  PutBigEndian(row, &key[10]);
  return key;
}

// Keys other than rows start with a byte no split uses.
std::string DoneKey(Split split, RowFile file) {
  return std::string("\xf0", 1) + std::string(SplitName(split)) + "/" +
         std::to_string(static_cast<int>(file));
}

// The fingerprint of the file whose rows are staged (see StageFile), written
// before its first row.
std::string FileKey(Split split, RowFile file) {
  std::string key = std::string("\xf3", 1);
  key += static_cast<char>(split);
  key += static_cast<char>(file);
  return key;
}

std::string ProblemKey(Split split, RowFile file, uint64_t line) {
  std::string key = std::string("\xf1", 1);
  key += static_cast<char>(split);
  key += static_cast<char>(file);
  key.resize(key.size() + 8);
  PutBigEndian(line, &key[key.size() - 8]);
  return key;
}

// Row values: little-endian packed fields.
std::string LabelValue(const LabelRow& r) {
  std::string v(4, '\0');
  v[0] = static_cast<char>(r.label & 0xff);
  v[1] = static_cast<char>(r.label >> 8);
  v[2] = static_cast<char>(r.confidence);
  v[3] = static_cast<char>(r.source);
  return v;
}

std::string BoxValue(const BoxRow& r) {
  std::string v(3 + 16 + 5, '\0');
  v[0] = static_cast<char>(r.label & 0xff);
  v[1] = static_cast<char>(r.label >> 8);
  v[2] = static_cast<char>(r.source);
  std::memcpy(&v[3], r.bbox, 16);
  const int8_t flags[5] = {r.is_occluded, r.is_truncated, r.is_group_of, r.is_depiction,
                           r.is_inside};
  std::memcpy(&v[19], flags, 5);
  return v;
}

constexpr std::string_view kFileEndingNote =
    " cannot be read, and --on-error skip leaves out bad rows, not the rest of a file";

// The error of a CSV that cannot be read past `line`: names the lines lost.
Status FileEndingError(const std::string& csv, uint64_t line, const Status& cause) {
  uint64_t last = line;
  if (std::FILE* f = std::fopen(csv.c_str(), "rb")) {
    uint64_t lines = 0;
    int c = EOF, previous = '\n';
    while ((c = std::fgetc(f)) != EOF) {
      lines += c == '\n';
      previous = c;
    }
    std::fclose(f);
    last = std::max<uint64_t>(line, lines + (previous == '\n' ? 0 : 1));
  }
  return Status::Corruption(
      cause.message() + "; the rest of the file (lines " + std::to_string(line) + "-" +
      std::to_string(last) + ", " + std::to_string(last - line + 1) + " lines)" +
      std::string(kFileEndingNote) + ": fix the file and run again");
}

// Streams one CSV of either kind through `next`, staging each row.
template <typename Reader, typename Row>
Status StageRows(rocksdb::DB* db, Reader* reader, Split split, RowFile file,
                 const std::string& csv, bool skip_bad_rows,
                 std::string (*value_of)(const Row&),
                 const std::function<void(uint64_t, uint64_t, uint64_t)>& on_rows,
                 int digit, bool report_bad_rows) {
  rocksdb::WriteBatch batch;
  uint64_t rows = 0;
  auto flush = [&]() -> Status {
    OIV4KV_RETURN_IF_ERROR(FromRocks(db->Write(rocksdb::WriteOptions(), &batch), csv));
    batch.Clear();
    if (on_rows) on_rows(rows, reader->bytes_read(), reader->file_size());
    return Status::OK();
  };
  uint64_t error_at = UINT64_MAX;  // bytes_read() at the last bad row
  while (true) {
    Row row;
    bool eof = false;
    const Status s = reader->Next(&row, &eof);
    if (!s.ok() && !report_bad_rows) {
      // Another unit of a sharded conversion reports it (SetIdDigitFilter).
      if (reader->bytes_read() == error_at) return FileEndingError(csv, reader->line(), s);
      error_at = reader->bytes_read();
      continue;
    }
    if (!s.ok()) {
      if (!skip_bad_rows) {
        OIV4KV_RETURN_IF_ERROR(flush());
        // Whether the error ends the file (see below) shows in the next read.
        const uint64_t at = reader->bytes_read();
        Row next;
        bool next_eof = false;
        if (!reader->Next(&next, &next_eof).ok() && reader->bytes_read() == at) {
          return FileEndingError(csv, reader->line(), s);
        }
        return s;
      }
      // An error that does not move the reader on (unterminated quote, an
      // over-long record, I/O) ends the file: what follows it cannot be read.
      // Skipping it would silently drop the rest of the file, so it stops
      // the run in both modes, saying which lines are lost.
      if (reader->bytes_read() == error_at) return FileEndingError(csv, reader->line(), s);
      batch.Put(ProblemKey(split, file, reader->line()), s.message()).PermitUncheckedError();
      error_at = reader->bytes_read();
      continue;
    }
    if (eof) break;
    if (digit >= 0 && static_cast<int>(row.image_id >> 60) != digit) continue;
    // The CSV line is unique per row and keeps file order.
    batch.Put(RowKey(split, row.image_id, file, reader->line()), value_of(row))
        .PermitUncheckedError();
    if (++rows % kRowsPerBatch == 0) OIV4KV_RETURN_IF_ERROR(flush());
  }
  batch.Put(DoneKey(split, file), "").PermitUncheckedError();
  return flush();
}

}  // namespace

bool IsFileEndingError(const Status& s) {
  return s.code() == Status::Code::kCorruption &&
         s.message().find(kFileEndingNote) != std::string::npos;
}

Status AnnotationStaging::UseVocabulary(uint64_t signature) {
  const std::string key("\xf2vocabulary", 11);
  const std::string value(reinterpret_cast<const char*>(&signature), sizeof(signature));
  std::string staged;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &staged);
  if (s.ok() && staged == value) return Status::OK();
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "staging");
  // Every staged key starts below 0xff.
  rocksdb::WriteBatch batch;
  batch.DeleteRange(db_->DefaultColumnFamily(), std::string(), std::string("\xff", 1))
      .PermitUncheckedError();
  batch.Put(key, value).PermitUncheckedError();
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "staging");
}

AnnotationStaging::AnnotationStaging(std::unique_ptr<rocksdb::Env> env,
                                     std::unique_ptr<rocksdb::DB> db)
    : env_(std::move(env)), db_(std::move(db)) {}

AnnotationStaging::~AnnotationStaging() {
  if (db_) db_->Close().PermitUncheckedError();
}

Status AnnotationStaging::Open(const std::string& path,
                               std::unique_ptr<AnnotationStaging>* out,
                               std::shared_ptr<rocksdb::FileSystem> file_system) {
  rocksdb::Options options;
  std::unique_ptr<rocksdb::Env> env;
  if (file_system != nullptr) {
    env = rocksdb::NewCompositeEnv(std::move(file_system));
    options.env = env.get();
  }
  options.create_if_missing = true;
  options.info_log = NoFileInfoLog();
  options.compression = rocksdb::kLZ4Compression;
  options.write_buffer_size = 64 << 20;
  options.max_open_files = 256;
  rocksdb::DB* db = nullptr;
  OIV4KV_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, path, &db), path));
  out->reset(new AnnotationStaging(std::move(env), std::unique_ptr<rocksdb::DB>(db)));
  return Status::OK();
}

Status AnnotationStaging::StageFile(
    Split split, RowFile file, const std::string& csv, const std::string& fingerprint,
    const Vocabulary& all, const Vocabulary& boxable, bool skip_bad_rows,
    const std::function<void(uint64_t, uint64_t, uint64_t)>& on_rows) {
  std::string staged_from;
  rocksdb::Status started = db_->Get(rocksdb::ReadOptions(), FileKey(split, file), &staged_from);
  if (!started.ok() && !started.IsNotFound()) return FromRocks(started, csv);
  std::string ignored;
  rocksdb::Status done = db_->Get(rocksdb::ReadOptions(), DoneKey(split, file), &ignored);
  if (!done.ok() && !done.IsNotFound()) return FromRocks(done, csv);
  if (done.ok() && started.ok() && staged_from == fingerprint) return Status::OK();
  if (started.ok() || done.ok()) {
    // Staged in part, or from a file that has changed since: its rows are
    // keyed by line, so they are all dropped before the file is staged again.
    OIV4KV_RETURN_IF_ERROR(DropFile(split, file, csv));
  }
  OIV4KV_RETURN_IF_ERROR(
      FromRocks(db_->Put(rocksdb::WriteOptions(), FileKey(split, file), fingerprint), csv));
  if (file == RowFile::kBoxes) {
    std::unique_ptr<BoxCsv> reader;
    OIV4KV_RETURN_IF_ERROR(BoxCsv::Open(csv, &boxable, &reader));
    return StageRows<BoxCsv, BoxRow>(db_.get(), reader.get(), split, file, csv, skip_bad_rows,
                                     &BoxValue, on_rows, digit_, report_bad_rows_);
  }
  std::unique_ptr<LabelCsv> reader;
  OIV4KV_RETURN_IF_ERROR(LabelCsv::Open(csv, &all, &reader));
  return StageRows<LabelCsv, LabelRow>(db_.get(), reader.get(), split, file, csv,
                                       skip_bad_rows, &LabelValue, on_rows, digit_,
                                       report_bad_rows_);
}

Status AnnotationStaging::DropFile(Split split, RowFile file, const std::string& csv) {
  rocksdb::WriteBatch batch;
  const char lower = static_cast<char>(split);
  const char upper = static_cast<char>(static_cast<uint8_t>(split) + 1);
  rocksdb::Slice upper_bound(&upper, 1);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(rocksdb::Slice(&lower, 1)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.size() == kRowKeySize && static_cast<RowFile>(k[9]) == file) {
      batch.Delete(k).PermitUncheckedError();
      if (batch.Count() >= kRowsPerBatch) {
        OIV4KV_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), csv));
        batch.Clear();
      }
    }
  }
  OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), csv));
  std::string problems = std::string("\xf1", 1) + static_cast<char>(split) + static_cast<char>(file);
  std::string problems_end = problems;
  problems_end.back() = static_cast<char>(static_cast<uint8_t>(file) + 1);
  batch.DeleteRange(db_->DefaultColumnFamily(), problems, problems_end).PermitUncheckedError();
  batch.Delete(DoneKey(split, file)).PermitUncheckedError();
  batch.Delete(FileKey(split, file)).PermitUncheckedError();
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), csv);
}

Status AnnotationStaging::Assemble(Split split, const std::vector<uint64_t>& image_ids,
                                   const std::vector<int32_t>& trainable_of_all,
                                   const std::function<Status(const ExampleData&)>& fn,
                                   uint64_t* orphan_rows) {
  const char lower = static_cast<char>(split);
  const char upper = static_cast<char>(static_cast<uint8_t>(split) + 1);
  rocksdb::Slice upper_bound(&upper, 1);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_bound;
  ro.readahead_size = 4 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  it->Seek(rocksdb::Slice(&lower, 1));
  *orphan_rows = 0;

  auto row_id = [&]() { return GetBigEndian(it->key().data() + 1); };
  for (uint64_t id : image_ids) {
    // Rows of images that are not examples come first in key order.
    while (it->Valid() && row_id() < id) {
      ++*orphan_rows;
      it->Next();
    }
    ExampleData e;
    e.split = split;
    e.image_id = id;
    e.filename = ImageIdHex(id) + ".jpg";
    for (; it->Valid() && row_id() == id; it->Next()) {
      const rocksdb::Slice k = it->key(), v = it->value();
      if (k.size() != kRowKeySize) return Status::Corruption("staging: malformed row key");
      const auto file = static_cast<RowFile>(k[9]);
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      const uint16_t label = static_cast<uint16_t>(p[0] | p[1] << 8);
      if (file == RowFile::kBoxes) {
        if (v.size() != 24) return Status::Corruption("staging: malformed box row");
        auto& b = e.bobjects;
        b.label.push_back(label);
        b.source.push_back(p[2]);
        float box[4];
        std::memcpy(box, p + 3, 16);
        b.bbox.insert(b.bbox.end(), box, box + 4);
        b.is_occluded.push_back(static_cast<int8_t>(p[19]));
        b.is_truncated.push_back(static_cast<int8_t>(p[20]));
        b.is_group_of.push_back(static_cast<int8_t>(p[21]));
        b.is_depiction.push_back(static_cast<int8_t>(p[22]));
        b.is_inside.push_back(static_cast<int8_t>(p[23]));
        continue;
      }
      if (v.size() != 4 || label >= trainable_of_all.size()) {
        return Status::Corruption("staging: malformed label row");
      }
      e.objects.label.push_back(label);
      e.objects.confidence.push_back(p[2]);
      e.objects.source.push_back(p[3]);
      if (const int32_t t = trainable_of_all[label]; t >= 0) {
        e.objects_trainable.label.push_back(static_cast<uint16_t>(t));
        e.objects_trainable.confidence.push_back(p[2]);
        e.objects_trainable.source.push_back(p[3]);
      }
    }
    OIV4KV_RETURN_IF_ERROR(fn(e));
  }
  for (; it->Valid(); it->Next()) ++*orphan_rows;
  return FromRocks(it->status(), "staging");
}

Status AnnotationStaging::Problems(std::vector<Problem>* out) {
  const std::string begin("\xf1", 1), end("\xf2", 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    // The message starts with "path:line: reason" (the CSV reader's form).
    const std::string msg = it->value().ToString();
    const size_t colon = msg.find(": ", msg.find(':') + 1);
    out->push_back({msg.substr(0, colon), colon == std::string::npos ? msg : msg.substr(colon + 2)});
  }
  return FromRocks(it->status(), "staging");
}

}  // namespace oiv4kv
