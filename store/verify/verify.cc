#include "store/verify/verify.h"

#include <rocksdb/convenience.h>
#include <rocksdb/metadata.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/utilities/options_util.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "oiv4kv/decode.h"
#include "oiv4kv/version.h"
#include "oiv4kv/vocabulary.h"
#include "store/core/image_probe.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

// ---- RocksDB log files (MANIFEST and write-ahead logs)
//
// RocksDB's recovery reads these leniently: a record whose length runs past
// the end of the file is taken for a write cut short by a crash and dropped
// without an error, and a damaged write-ahead log record ends the replay
// quietly (WALRecoveryMode::kPointInTimeRecovery). So verify walks every
// record itself. The format (db/log_format.h, stable since LevelDB): 32 KiB
// blocks of records, each a header of masked CRC-32C (4 bytes LE), payload
// length (2 LE) and type (1), plus the log number (4) for the recyclable
// types 5..8; the CRC covers the type, the log number if any, and the
// payload. A block's last < header-size bytes are zero padding.

uint32_t Crc32cExtend(uint32_t crc, const uint8_t* p, size_t n) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// "" if every record of the log `data` is intact, else what is wrong.
std::string CheckLogRecords(std::span<const uint8_t> data) {
  constexpr size_t kBlock = 32768;
  constexpr size_t kHeader = 7, kRecyclableHeader = 11;
  const auto at = [](size_t pos) { return " at offset " + std::to_string(pos); };
  bool inside_record = false;  // after a First fragment, before its Last
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t left_in_block = kBlock - pos % kBlock;
    if (left_in_block < kHeader) {
      for (size_t i = pos; i < std::min(pos + left_in_block, data.size()); ++i) {
        if (data[i] != 0) return "non-zero block padding" + at(i);
      }
      pos += left_in_block;
      continue;
    }
    if (data.size() - pos < kHeader) return "file ends inside a record header" + at(pos);
    const uint8_t* h = data.data() + pos;
    const uint32_t stored_crc = Le32(h);
    const size_t length = size_t{h[4]} | size_t{h[5]} << 8;
    const uint8_t type = h[6];
    if (stored_crc == 0 && length == 0 && type == 0) {
      // A preallocated region RocksDB never wrote: zeros to the end.
      for (size_t i = pos; i < data.size(); ++i) {
        if (data[i] != 0) return "non-zero byte after the last record" + at(i);
      }
      break;
    }
    if (type == 0 || type > 10) return "unknown record type " + std::to_string(type) + at(pos);
    const bool recyclable = type >= 5 && type <= 8;
    const size_t header = recyclable ? kRecyclableHeader : kHeader;
    if (header + length > left_in_block) {
      return "record length " + std::to_string(length) + " runs past its block" + at(pos);
    }
    if (pos + header + length > data.size()) return "file ends inside a record" + at(pos);
    uint32_t crc = Crc32cExtend(0, h + 6, 1 + (header - kHeader));
    crc = Crc32cExtend(crc, h + header, length);
    if (MaskCrc(crc) != stored_crc) return "record checksum mismatch" + at(pos);
    const int base = recyclable ? type - 4 : type;  // 1 full, 2 first, 3 middle, 4 last
    if (base == 2 || base == 1 || base > 4) {
      if (inside_record) return "a record's fragments end early" + at(pos);
      inside_record = base == 2;
    } else if (!inside_record) {
      return "a record fragment without its first part" + at(pos);
    } else if (base == 4) {
      inside_record = false;
    }
    pos += header + length;
  }
  if (inside_record) return "file ends inside a fragmented record";
  return "";
}

bool ReadFile(const fs::path& file, std::string* out) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string ImageName(Config config, Split split, uint64_t id) {
  return std::string(FamilyName(ImagesFamily(config))) + " " + ExampleName(split, id);
}

std::string RecordName(Split split, uint64_t id) { return "annotations " + ExampleName(split, id); }

std::string KeyHex(std::string_view key) {
  std::string out;
  char buf[4];
  for (unsigned char c : key) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

// Calls the progress callback for one phase, at most every kEvery items.
class Phase {
 public:
  Phase(const VerifyProgressFn& fn, std::string phase, std::string unit, uint64_t total_bytes)
      : fn_(fn) {
    p_.phase = std::move(phase);
    p_.unit = std::move(unit);
    p_.total_bytes = total_bytes;
    if (fn_) fn_(p_);
  }
  void Update(uint64_t items, uint64_t bytes, std::string_view where = {}) {
    p_.items = items;
    p_.bytes = bytes;
    if (!fn_ || (items % kEvery != 0 && where.empty())) return;
    p_.event = VerifyProgress::Event::kUpdate;
    p_.where.assign(where);
    fn_(p_);
  }
  ~Phase() {
    if (!fn_) return;
    p_.event = VerifyProgress::Event::kFinish;
    p_.where.clear();
    fn_(p_);
  }

 private:
  static constexpr uint64_t kEvery = 256;
  const VerifyProgressFn& fn_;
  VerifyProgress p_;
};

// An image to decode with `deep`, copied out of the iterator.
struct DecodeJob {
  Config config = Config::kOriginal;
  Split split = Split::kTrain;
  uint64_t id = 0;
  std::vector<uint8_t> bytes;
  uint32_t width = 0, height = 0;  // as stored
  // Results.
  Status status;
  uint32_t got_width = 0, got_height = 0;
  bool truncated = false;
};

class Verifier {
 public:
  Verifier(std::string path, const VerifyOptions& options, const VerifyProgressFn& progress,
           VerifyReport* report)
      : path_(std::move(path)), options_(options), progress_(progress), report_(report) {
    const int threads = options.threads > 0
                            ? options.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int t = 0; t < threads; ++t) decoders_.push_back(std::make_unique<Decoder>());
  }

  void Run() {
    report_->deep = options_.deep;
    CheckFiles();
    if (!Open()) return;
    CheckLiveFiles();
    if (!ReadManifest()) return;
    ReadVocabularies();
    CheckAnnotations();
    CheckIndexes();
    for (Config c : kAllConfigs) CheckImages(c);
  }

 private:
  void AddProblem(std::string where, std::string reason) {
    ++report_->num_problems;
    if (report_->problems.size() < options_.max_problems) {
      report_->problems.push_back({std::move(where), std::move(reason)});
    }
  }

  // ---- 1. Files

  void CheckFiles() {
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (const auto& e : fs::directory_iterator(path_, ec)) entries.push_back(e);
    if (ec) {
      AddProblem(path_, "cannot list the directory: " + ec.message());
      return;
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    uint64_t total_bytes = 0;
    std::vector<fs::directory_entry> files;
    for (const auto& e : entries) {
      const std::string name = e.path().filename().string();
      if (!e.is_regular_file(ec)) {
        report_->notes.push_back(
            name + ": not a file of the store, not checked" +
            (name == "convert-staging" ? " (a conversion is running or was interrupted)" : ""));
        continue;
      }
      if (name == "LOCK" || name == "LOG" || name.starts_with("LOG.old.")) continue;  // no data
      files.push_back(e);
      total_bytes += e.file_size(ec);
    }
    Phase phase(progress_, "files", "files", total_bytes);
    uint64_t done_bytes = 0;
    for (const auto& e : files) {
      const std::string name = e.path().filename().string();
      phase.Update(report_->files, done_bytes, name);
      CheckFile(e.path(), name);
      done_bytes += e.file_size(ec);
      phase.Update(report_->files, done_bytes);
    }
  }

  void CheckFile(const fs::path& file, const std::string& name) {
    if (name.ends_with(".sst")) {
      ++report_->files;
      sst_files_.insert(name);
      rocksdb::Options options;
      rocksdb::SstFileReader reader(options);
      rocksdb::Status s = reader.Open(file.string());
      rocksdb::ReadOptions ro;
      ro.readahead_size = 8 << 20;  // sequential reads of large files
      ro.fill_cache = false;
      if (s.ok()) s = reader.VerifyChecksum(ro);
      if (!s.ok()) AddProblem(name, s.ToString());
      return;
    }
    const bool is_log = name.ends_with(".log");
    const bool is_manifest = name.starts_with("MANIFEST-");
    const bool is_options = name.starts_with("OPTIONS-");
    if (!is_log && !is_manifest && !is_options && name != "CURRENT" && name != "IDENTITY") {
      report_->notes.push_back(name + ": not a file of the store, not checked");
      return;
    }
    ++report_->files;
    std::string data;
    if (!ReadFile(file, &data)) {
      AddProblem(name, "cannot be read");
      return;
    }
    if (is_log || is_manifest) {
      if (std::string why = CheckLogRecords(Bytes(data)); !why.empty()) AddProblem(name, why);
    } else if (is_options) {
      CheckOptionsFile(file, name, data);
    } else if (name == "CURRENT") {
      // "MANIFEST-<number>\n", naming a file that is there.
      const std::string_view v(data);
      const bool well_formed =
          v.starts_with("MANIFEST-") && v.size() > 10 && v.back() == '\n' &&
          std::all_of(v.begin() + 9, v.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
      if (!well_formed) {
        AddProblem(name, "does not name a MANIFEST file");
      } else if (std::error_code ec;
                 !fs::exists(file.parent_path() / std::string(v.substr(0, v.size() - 1)), ec)) {
        AddProblem(name, "names " + std::string(v.substr(0, v.size() - 1)) + ", which is missing");
      }
    } else {  // IDENTITY: the id RocksDB generated for the store, a UUID
      std::string_view v(data);
      if (v.ends_with('\n')) v.remove_suffix(1);
      if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
          })) {
        AddProblem(name, "is not a store id");
      }
    }
  }

  // OPTIONS files record the options the store was written with; RocksDB
  // does not read them back on a read-only open, and they carry no
  // checksum: verify checks that they are text that RocksDB parses, naming
  // the store's column families.
  void CheckOptionsFile(const fs::path& file, const std::string& name, std::string_view data) {
    for (size_t i = 0; i < data.size(); ++i) {
      const auto c = static_cast<unsigned char>(data[i]);
      if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f) {
        AddProblem(name, "byte " + std::to_string(c) + " at offset " + std::to_string(i) +
                             " in a text file");
        return;
      }
    }
    rocksdb::ConfigOptions config;
    config.ignore_unknown_options = false;
    config.input_strings_escaped = true;
    config.env = rocksdb::Env::Default();
    rocksdb::DBOptions db_options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    rocksdb::Status s = rocksdb::LoadOptionsFromFile(config, file.string(), &db_options, &families);
    if (!s.ok()) {
      AddProblem(name, "RocksDB cannot parse it: " + s.ToString());
      return;
    }
    std::set<std::string> found, expected;
    for (const auto& f : families) found.insert(f.name);
    for (const auto& f : ReaderFamilies(LayoutTuning())) expected.insert(f.name);
    if (found != expected) {
      std::string list;
      for (const std::string& f : found) list += (list.empty() ? "" : ", ") + f;
      AddProblem(name, "names the column families " + list + ", not the store's");
    }
  }

  // ---- Opening

  bool Open() {
    Status s = OpenRocksDb(path_, ReaderDbOptions(StoreOptions()), ReaderFamilies(LayoutTuning()),
                           /*read_only=*/true, &db_);
    if (!s.ok()) {
      AddProblem("store", "RocksDB cannot open it: " + s.ToString());
      return false;
    }
    return true;
  }

  // Table files the MANIFEST lists against those in the directory.
  void CheckLiveFiles() {
    std::vector<rocksdb::LiveFileMetaData> live;
    db_.db->GetLiveFilesMetaData(&live);
    std::set<std::string> live_names;
    for (const auto& f : live) {
      const std::string name = fs::path(f.name).filename().string();
      live_names.insert(name);
      std::error_code ec;
      const uint64_t size = fs::file_size(fs::path(f.db_path) / name, ec);
      if (ec) {
        AddProblem(name, "listed in the MANIFEST (" + f.column_family_name + ") but missing");
      } else if (size != f.size) {
        AddProblem(name, "is " + std::to_string(size) + " bytes, the MANIFEST says " +
                             std::to_string(f.size));
      }
    }
    for (const std::string& name : sst_files_) {
      if (live_names.count(name) == 0) {
        report_->notes.push_back(name +
                                 ": a table file the MANIFEST does not list (left by an "
                                 "interrupted write; RocksDB ignores it)");
      }
    }
  }

  rocksdb::ColumnFamilyHandle* family(Family f) const { return db_.family(f); }

  // The value of `key` in `f`: OK, NotFound, or an error whose message is
  // RocksDB's.
  Status Get(Family f, std::string_view key, std::string* value) {
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    rocksdb::Status s = db_.db->Get(ro, family(f), rocksdb::Slice(key.data(), key.size()), value);
    if (s.ok()) return Status::OK();
    if (s.IsNotFound()) return Status::NotFound("missing");
    return Status::IOError(s.ToString());
  }

  // ---- 2. Manifest and vocabularies

  // False when the rest cannot be read with this library.
  bool ReadManifest() {
    std::string value;
    const std::string where = "meta/" + std::string(kManifestKey);
    Status s = Get(Family::kMeta, kManifestKey, &value);
    if (s.IsNotFound()) {
      AddProblem(where, "missing: no conversion ever committed");
    } else if (!s.ok()) {
      AddProblem(where, s.message());
    } else if (Status d = DecodeManifest(value, &manifest_); !d.ok()) {
      AddProblem(where, d.message());
      manifest_ = Manifest();
    } else if (manifest_.schema_version != kSchemaVersion) {
      AddProblem(where, "schema version " + std::to_string(manifest_.schema_version) +
                            ", this library reads version " + std::to_string(kSchemaVersion) +
                            ": records not checked");
      return false;
    } else if (!manifest_.annotations_complete) {
      AddProblem(where,
                 "the annotations were never committed (conversion interrupted? run "
                 "`oiv4-kv convert` again to resume)");
    }
    for (const ConfigManifest& c : manifest_.configs) {
      if (!c.complete) {
        report_->notes.push_back("config " + std::string(ConfigName(c.config)) +
                                 " is being converted (not complete): its images are not checked");
      }
    }
    return true;
  }

  void ReadVocabularies() {
    std::array<std::vector<VocabEntry>, kNumVocabKinds> entries;
    for (int k = 0; k < kNumVocabKinds; ++k) {
      const auto kind = static_cast<VocabKind>(k);
      const std::string where = "vocab/" + std::string(VocabKindName(kind));
      std::string value;
      Status s = Get(Family::kVocab, VocabKindName(kind), &value);
      if (s.IsNotFound()) {
        AddProblem(where, "missing");
        continue;
      }
      if (s.ok()) s = DecodeVocabulary(value, &entries[k]);
      if (!s.ok()) {
        AddProblem(where, s.message());
        continue;
      }
      if (kind == VocabKind::kSource) {
        bool same = entries[k].size() == kSourceNames.size();
        for (size_t i = 0; same && i < entries[k].size(); ++i) {
          same = entries[k][i].mid == kSourceNames[i];
        }
        if (!same) AddProblem(where, "is not TFDS's six sources in order");
      }
      vocab_size_[k] = entries[k].size();
    }
    if (vocab_size_[0] && vocab_size_[1]) {
      const Vocabulary trainable(std::move(entries[1]));
      trainable_of_all_.assign(entries[0].size(), -1);
      for (size_t i = 0; i < entries[0].size(); ++i) {
        if (auto t = trainable.Find(entries[0][i].mid)) {
          trainable_of_all_[i] = static_cast<int32_t>(*t);
        }
      }
    }
  }

  // ---- 3. Annotation records

  void CheckAnnotations() {
    rocksdb::ColumnFamilyMetaData meta;
    db_.db->GetColumnFamilyMetaData(family(Family::kAnnotations), &meta);
    Phase phase(progress_, "annotations", "records", meta.size);
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(ro, family(Family::kAnnotations)));
    std::vector<uint64_t> aligned;
    uint64_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->records;
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      bytes += key.size() + value.size();
      phase.Update(report_->records, bytes);
      Split split;
      uint64_t id;
      if (!DecodeKey(key, &split, &id)) {
        AddProblem("annotations key " + KeyHex(key), "not a [split][image id] key");
        continue;
      }
      ids_[static_cast<int>(split)].push_back(id);
      std::span<const uint8_t> record = Bytes(value);
      if (!IsAligned(record.data())) {
        aligned.resize((record.size() + 7) / 8);
        std::memcpy(aligned.data(), record.data(), record.size());
        record = {reinterpret_cast<const uint8_t*>(aligned.data()), record.size()};
      }
      const fb::Example* ex = nullptr;
      if (Status s = ParseExample(record, /*verify=*/true, &ex); !s.ok()) {
        AddProblem(RecordName(split, id), s.message());
        continue;
      }
      if (std::string why = CheckExample(*ex, id); !why.empty()) {
        AddProblem(RecordName(split, id), why);
      }
    }
    if (!it->status().ok()) {
      AddProblem("annotations", it->status().ToString() +
                                    " (counts, indexes and images not compared with the keys)");
      annotations_read_ = false;
    }
  }

  // "" if the values of `ex` are in range, else the first that is not (and
  // how many more).
  std::string CheckExample(const fb::Example& ex, uint64_t id) const {
    std::vector<std::string> issues;
    auto issue = [&](std::string s) { issues.push_back(std::move(s)); };
    const std::string filename = ImageIdHex(id) + ".jpg";
    if (ex.filename() == nullptr || ex.filename()->string_view() != filename) {
      issue("filename is \"" + (ex.filename() ? ex.filename()->str() : std::string()) + "\", not " +
            filename);
    }
    const auto n = [](const auto* v) -> size_t { return v == nullptr ? 0 : v->size(); };
    auto check_labels = [&](const fb::ImageLabels* l, const char* what, VocabKind kind) {
      if (l == nullptr) return;
      const auto& size = vocab_size_[static_cast<int>(kind)];
      for (size_t i = 0; i < n(l->label()); ++i) {
        const std::string at = std::string(what) + "[" + std::to_string(i) + "]";
        if (size && l->label()->Get(i) >= *size) {
          issue(at + ": label " + std::to_string(l->label()->Get(i)) + " is not in the " +
                std::string(VocabKindName(kind)) + " list of " + std::to_string(*size));
        }
        if (l->confidence()->Get(i) > 10) {
          issue(at + ": confidence " + std::to_string(l->confidence()->Get(i)) + " is over 10");
        }
        if (l->source()->Get(i) >= kSourceNames.size()) {
          issue(at + ": source " + std::to_string(l->source()->Get(i)) + " is not one of the " +
                std::to_string(kSourceNames.size()));
        }
      }
    };
    check_labels(ex.objects(), "objects", VocabKind::kAll);
    check_labels(ex.objects_trainable(), "objects_trainable", VocabKind::kTrainable);
    if (!trainable_of_all_.empty() && issues.empty()) CheckTrainable(ex, &issues);
    if (const fb::Boxes* b = ex.bobjects()) {
      const auto& size = vocab_size_[static_cast<int>(VocabKind::kBoxable)];
      for (size_t i = 0; i < n(b->label()); ++i) {
        const std::string at = "bobjects[" + std::to_string(i) + "]";
        if (size && b->label()->Get(i) >= *size) {
          issue(at + ": label " + std::to_string(b->label()->Get(i)) +
                " is not in the boxable list of " + std::to_string(*size));
        }
        if (b->source()->Get(i) >= kSourceNames.size()) {
          issue(at + ": source " + std::to_string(b->source()->Get(i)) + " is not one of the " +
                std::to_string(kSourceNames.size()));
        }
        float box[4];
        for (int k = 0; k < 4; ++k) box[k] = b->bbox()->Get(4 * i + k);
        for (int k = 0; k < 4; ++k) {
          if (!(box[k] >= 0.0f && box[k] <= 1.0f)) {
            static const char* kNames[4] = {"ymin", "xmin", "ymax", "xmax"};
            issue(at + ": " + kNames[k] + " " + std::to_string(box[k]) + " is not in [0, 1]");
          }
        }
        if (box[0] > box[2]) issue(at + ": ymin is above ymax");
        if (box[1] > box[3]) issue(at + ": xmin is above xmax");
        const std::pair<const char*, const flatbuffers::Vector<int8_t>*> flags[] = {
            {"is_occluded", b->is_occluded()},
            {"is_truncated", b->is_truncated()},
            {"is_group_of", b->is_group_of()},
            {"is_depiction", b->is_depiction()},
            {"is_inside", b->is_inside()}};
        for (const auto& [name, v] : flags) {
          const int f = v->Get(i);
          if (f < -1 || f > 1) {
            issue(at + ": " + name + " " + std::to_string(f) + " is not 1, 0 or -1");
          }
        }
      }
    }
    if (issues.empty()) return "";
    std::string out = issues[0];
    if (issues.size() > 1) out += " (and " + std::to_string(issues.size() - 1) + " more)";
    return out;
  }

  // objects_trainable must be the objects whose class is in the trainable
  // list, in order, relabelled (docs/SPEC.md). REQUIRES: labels in range.
  void CheckTrainable(const fb::Example& ex, std::vector<std::string>* issues) const {
    struct Entry {
      uint16_t label;
      uint8_t confidence, source;
      bool operator==(const Entry&) const = default;
    };
    std::vector<Entry> expected, actual;
    if (const fb::ImageLabels* o = ex.objects(); o != nullptr && o->label() != nullptr) {
      for (size_t i = 0; i < o->label()->size(); ++i) {
        const int32_t t = trainable_of_all_[o->label()->Get(i)];
        if (t >= 0) {
          expected.push_back(
              {static_cast<uint16_t>(t), o->confidence()->Get(i), o->source()->Get(i)});
        }
      }
    }
    if (const fb::ImageLabels* t = ex.objects_trainable(); t != nullptr && t->label() != nullptr) {
      for (size_t i = 0; i < t->label()->size(); ++i) {
        actual.push_back({t->label()->Get(i), t->confidence()->Get(i), t->source()->Get(i)});
      }
    }
    if (expected == actual) return;
    size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
    issues->push_back("objects_trainable differs from the objects whose class is trainable (" +
                      std::to_string(actual.size()) + " entries, " +
                      std::to_string(expected.size()) + " expected; first difference at " +
                      std::to_string(i) + ")");
  }

  // ---- 4. Counts and indexes

  void CheckIndexes() {
    if (!annotations_read_) return;  // the keys are not all known
    for (Split split : kAllSplits) {
      const auto& count = manifest_.num_examples[static_cast<int>(split)];
      const std::vector<uint64_t>& ids = ids_[static_cast<int>(split)];
      const std::string name(SplitName(split));
      const std::string where = "meta/" + IndexKey(split);
      std::string value;
      Status s = Get(Family::kMeta, IndexKey(split), &value);
      if (!count) {
        if (!ids.empty()) {
          AddProblem("annotations", "holds " + std::to_string(ids.size()) + " " + name +
                                        " examples, a split the manifest does not list");
        }
        if (s.ok()) AddProblem(where, "present, but the manifest lists no " + name + " split");
        continue;
      }
      if (*count != ids.size()) {
        AddProblem("meta/manifest", "counts " + std::to_string(*count) + " " + name +
                                        " examples, the annotations family holds " +
                                        std::to_string(ids.size()));
      }
      if (s.IsNotFound()) {
        AddProblem(where, "missing");
        continue;
      }
      std::vector<uint64_t> index;
      if (s.ok()) s = DecodeIndex(value, &index);
      if (!s.ok()) {
        AddProblem(where, s.message());
        continue;
      }
      if (index == ids) continue;
      auto [a, b] = std::mismatch(index.begin(), index.end(), ids.begin(), ids.end());
      std::string first;
      if (a != index.end() && (b == ids.end() || *a < *b)) {
        first = "it lists " + ImageIdHex(*a) + ", which has no record";
      } else {
        first = "it lacks " + ImageIdHex(*b) + ", which has a record";
      }
      AddProblem(where, "holds " + std::to_string(index.size()) + " ids, the annotations " +
                            std::to_string(ids.size()) + " " + name + " examples; " + first);
    }
  }

  // ---- 5. Images

  void CheckImages(Config config) {
    const Family f = ImagesFamily(config);
    const std::string family_name(FamilyName(f));
    const std::string config_name(ConfigName(config));
    const ConfigManifest* cm = manifest_.FindConfig(config);
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(ro, family(f)));
    if (cm == nullptr) {
      it->SeekToFirst();
      if (it->Valid()) {
        AddProblem(family_name, "holds images, but the manifest names no config " + config_name);
      }
      return;
    }
    if (!cm->complete) return;  // noted with the manifest
    rocksdb::ColumnFamilyMetaData meta;
    db_.db->GetColumnFamilyMetaData(family(f), &meta);
    Phase phase(progress_, family_name, "images", meta.size);
    std::array<size_t, kNumSplits> next{};  // the first example not yet matched
    std::array<uint64_t, kNumSplits> counted{};
    auto missing_before = [&](Split split, uint64_t id) {
      if (!annotations_read_) return;
      const auto& ids = ids_[static_cast<int>(split)];
      size_t& i = next[static_cast<int>(split)];
      for (; i < ids.size() && ids[i] < id; ++i) {
        AddProblem(ImageName(config, split, ids[i]),
                   "missing: the example has no image in config " + config_name);
      }
    };
    uint64_t images = 0, bytes = 0;
    std::vector<DecodeJob> jobs;
    size_t job_bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++images;
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      bytes += key.size() + value.size();
      phase.Update(images, bytes);
      Split split;
      uint64_t id;
      if (!DecodeKey(key, &split, &id)) {
        AddProblem(family_name + " key " + KeyHex(key), "not a [split][image id] key");
        continue;
      }
      ++counted[static_cast<int>(split)];
      missing_before(split, id);
      const auto& ids = ids_[static_cast<int>(split)];
      size_t& i = next[static_cast<int>(split)];
      if (i < ids.size() && ids[i] == id) {
        ++i;
      } else if (annotations_read_) {
        AddProblem(ImageName(config, split, id), "an image of no example");
      }
      std::span<const uint8_t> image;
      ImageMeta m;
      if (Status s = ParseImageValue(Bytes(value), &image, &m); !s.ok()) {
        AddProblem(ImageName(config, split, id), s.message());
        continue;
      }
      if (std::string why = CheckImageMeta(config, image, m); !why.empty()) {
        AddProblem(ImageName(config, split, id), why);
        continue;
      }
      if (options_.deep) {
        DecodeJob& job = jobs.emplace_back();
        job.config = config;
        job.split = split;
        job.id = id;
        job.bytes.assign(image.begin(), image.end());
        job.width = m.width;
        job.height = m.height;
        job_bytes += image.size();
        if (jobs.size() >= 64 * decoders_.size() || job_bytes >= (size_t{64} << 20)) {
          DecodeAll(&jobs);
          job_bytes = 0;
        }
      }
    }
    DecodeAll(&jobs);
    report_->images[static_cast<int>(config)] = images;
    if (!it->status().ok()) {
      AddProblem(family_name, it->status().ToString() +
                                  " (the rest of the family not compared with the examples)");
      return;
    }
    for (Split split : kAllSplits) missing_before(split, UINT64_MAX);
    for (Split split : kAllSplits) {
      const auto& stated = cm->num_images[static_cast<int>(split)];
      const uint64_t n = counted[static_cast<int>(split)];
      if (stated.value_or(0) != n) {
        AddProblem("meta/manifest",
                   "counts " + (stated ? std::to_string(*stated) : std::string("no")) + " " +
                       std::string(SplitName(split)) + " images in " + config_name + ", " +
                       family_name + " holds " + std::to_string(n));
      }
    }
  }

  static std::string CheckImageMeta(Config config, std::span<const uint8_t> bytes,
                                    const ImageMeta& m) {
    if (m.format != ImageFormat::kJpeg && m.format != ImageFormat::kPng) {
      return "stored format " + std::string(ImageFormatName(m.format)) + " is not jpeg or png";
    }
    if (config != Config::kOriginal && m.format != ImageFormat::kJpeg) {
      return "a " + std::string(ImageFormatName(m.format)) + " in a re-encoded (JPEG) config";
    }
    const ImageFormat actual = DetectImageFormat(bytes);
    if (actual != m.format) {
      return "stored as " + std::string(ImageFormatName(m.format)) + ", but the bytes are " +
             (actual == ImageFormat::kUnknown ? std::string("neither jpeg nor png")
                                              : std::string(ImageFormatName(actual)));
    }
    if (m.width == 0 || m.height == 0) return "stored size is 0";
    return "";
  }

  // ---- 6. Decoding (deep)

  void DecodeAll(std::vector<DecodeJob>* jobs) {
    if (jobs->empty()) return;
    std::atomic<size_t> next{0};
    auto work = [&](size_t t) {
      DecodeOptions o;
      o.truncated = TruncatedPolicy::kWarn;  // as OpenCV's imdecode
      DecodedImage img;
      for (size_t i; (i = next++) < jobs->size();) {
        DecodeJob& j = (*jobs)[i];
        j.status = decoders_[t]->Decode(j.bytes, o, &img);
        j.got_width = img.width;
        j.got_height = img.height;
        j.truncated = img.truncated;
      }
    };
    std::vector<std::thread> pool;
    const size_t threads = std::min(decoders_.size(), jobs->size());
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    for (const DecodeJob& j : *jobs) {
      ++report_->decoded;
      const std::string name = ImageName(j.config, j.split, j.id);
      if (!j.status.ok()) {
        AddProblem(name, "does not decode: " + j.status.ToString());
        continue;
      }
      report_->decode_warnings += j.truncated;
      if (j.got_width != j.width || j.got_height != j.height) {
        AddProblem(name, "decodes to " + std::to_string(j.got_width) + "x" +
                             std::to_string(j.got_height) + ", stored as " +
                             std::to_string(j.width) + "x" + std::to_string(j.height));
      }
    }
    jobs->clear();
  }

  const std::string path_;
  const VerifyOptions options_;
  const VerifyProgressFn& progress_;
  VerifyReport* report_;

  OpenDb db_;
  std::set<std::string> sst_files_;  // in the directory
  Manifest manifest_;
  std::array<std::optional<size_t>, kNumVocabKinds> vocab_size_;
  std::vector<int32_t> trainable_of_all_;              // empty if unknown
  std::array<std::vector<uint64_t>, kNumSplits> ids_;  // annotation keys, ascending
  bool annotations_read_ = true;                    // false: ids_ may lack keys after a read error
  std::vector<std::unique_ptr<Decoder>> decoders_;  // one per decoding thread
};

}  // namespace

Status VerifyStore(const std::string& path, const VerifyOptions& options,
                   const VerifyProgressFn& progress, VerifyReport* report) {
  *report = VerifyReport();
  std::error_code ec;
  if (!fs::exists(fs::path(path) / "CURRENT", ec)) {
    return NoStoreStatus(path);
  }
  // A writer adding to the store changes its files while they are checked
  // (a flush, a compaction, a new MANIFEST): what verify would find then are
  // not problems of the store. Say so instead, before and after the checks.
  auto writer_running = [&path](long pid) {
    return Status::IOError(path + ": " + WriterRunningMessage(pid) +
                        ": verify checks a store no process is writing; run it again when "
                        "the writer has finished");
  };
  if (const std::optional<long> pid = StoreWriterPid(path)) return writer_running(*pid);
  const std::vector<std::string> before = StoreFileNames(path);
  Verifier(path, options, progress, report).Run();
  if (!report->ok()) {
    const std::optional<long> pid = StoreWriterPid(path);
    if (pid) return writer_running(*pid);
    if (StoreFileNames(path) != before) {
      *report = VerifyReport();
      return Status::IOError(path + ": the store's files changed while verify read them (another "
                          "process wrote it): run verify again when no process writes it");
    }
  }
  return Status::OK();
}

}  // namespace oiv4kv
