// Files, the first phase: the bytes of every file in the store's directory
// (table files' block checksums, MANIFEST and write-ahead log records,
// CURRENT, OPTIONS, IDENTITY), then, once the store is open, the table files
// the MANIFEST lists against those there.
#include <rocksdb/convenience.h>
#include <rocksdb/metadata.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/utilities/options_util.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>

#include "store/verify/log_records.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {
namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& file, std::string* out) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

// OPTIONS files record the options the store was written with; RocksDB
// does not read them back on a read-only open, and they carry no
// checksum: verify checks that they are text that RocksDB parses, naming
// the store's column families.
void CheckOptionsFile(Check* check, const fs::path& file, const std::string& name,
                      std::string_view data) {
  for (size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f) {
      check->AddProblem(name, "byte " + std::to_string(c) + " at offset " + std::to_string(i) +
                                  " in a text file");
      return;
    }
  }
  // RocksDB ends every line with a newline: a file that does not end with
  // one was cut short (it may still parse, its last value shortened).
  if (!data.ends_with('\n')) {
    check->AddProblem(name, "does not end with a newline (cut short?)");
    return;
  }
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = false;
  config.input_strings_escaped = true;
  config.env = rocksdb::Env::Default();
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::Status s = rocksdb::LoadOptionsFromFile(config, file.string(), &db_options, &families);
  if (!s.ok()) {
    check->AddProblem(name, "RocksDB cannot parse it: " + s.ToString());
    return;
  }
  std::set<std::string> found, expected;
  for (const auto& f : families) found.insert(f.name);
  for (const auto& f : ReaderFamilies(LayoutTuning())) expected.insert(f.name);
  if (found != expected) {
    std::string list;
    for (const std::string& f : found) list += (list.empty() ? "" : ", ") + f;
    check->AddProblem(name, "names the column families " + list + ", not the store's");
  }
}

void CheckFile(Check* check, const fs::path& file, const std::string& name,
               std::set<std::string>* sst_files) {
  if (name.ends_with(".sst")) {
    ++check->report->files;
    sst_files->insert(name);
    rocksdb::Options options;
    rocksdb::SstFileReader reader(options);
    rocksdb::Status s = reader.Open(file.string());
    rocksdb::ReadOptions ro;
    ro.readahead_size = 8 << 20;  // sequential reads of large files
    ro.fill_cache = false;
    if (s.ok()) s = reader.VerifyChecksum(ro);
    if (!s.ok()) check->AddProblem(name, s.ToString());
    return;
  }
  const bool is_log = name.ends_with(".log");
  const bool is_manifest = name.starts_with("MANIFEST-");
  const bool is_options = name.starts_with("OPTIONS-");
  if (!is_log && !is_manifest && !is_options && name != "CURRENT" && name != "IDENTITY") {
    check->report->notes.push_back(name + ": not a file of the store, not checked");
    return;
  }
  ++check->report->files;
  std::string data;
  if (!ReadFile(file, &data)) {
    check->AddProblem(name, "cannot be read");
    return;
  }
  if (is_log || is_manifest) {
    if (std::string why = CheckLogRecords(Bytes(data)); !why.empty()) check->AddProblem(name, why);
  } else if (is_options) {
    CheckOptionsFile(check, file, name, data);
  } else if (name == "CURRENT") {
    // "MANIFEST-<number>\n", naming a file that is there.
    const std::string_view v(data);
    const bool well_formed =
        v.starts_with("MANIFEST-") && v.size() > 10 && v.back() == '\n' &&
        std::all_of(v.begin() + 9, v.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
    if (!well_formed) {
      check->AddProblem(name, "does not name a MANIFEST file");
    } else if (std::error_code ec;
               !fs::exists(file.parent_path() / std::string(v.substr(0, v.size() - 1)), ec)) {
      check->AddProblem(name,
                        "names " + std::string(v.substr(0, v.size() - 1)) + ", which is missing");
    }
  } else {  // IDENTITY: the id RocksDB generated for the store, a UUID
    // (8-4-4-4-12 hex digits, as /proc/sys/kernel/random/uuid gives it).
    std::string_view v(data);
    if (v.ends_with('\n')) v.remove_suffix(1);
    bool uuid = v.size() == 36;
    for (size_t i = 0; uuid && i < v.size(); ++i) {
      uuid = (i == 8 || i == 13 || i == 18 || i == 23)
                 ? v[i] == '-'
                 : std::isxdigit(static_cast<unsigned char>(v[i])) != 0;
    }
    if (!uuid) check->AddProblem(name, "is not a store id (a UUID)");
  }
}

// The number in a RocksDB file name after `prefix` ("MANIFEST-000034" ->
// 34); nullopt if the rest is not a number.
std::optional<uint64_t> FileNumber(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(std::string(name));
}

// Files RocksDB writes and keeps that hold no records to check: IDENTITY
// (written when the store is created) and the OPTIONS file of the last open
// (RocksDB writes it after the MANIFEST of that open, so its number is
// higher than the current MANIFEST's; RocksDB keeps the last two).
void CheckFilesPresent(Check* check, const std::vector<fs::directory_entry>& files) {
  bool identity = false;
  std::optional<uint64_t> newest_options, current_manifest;
  std::string current;
  for (const auto& e : files) {
    const std::string name = e.path().filename().string();
    identity |= name == "IDENTITY";
    if (const auto n = FileNumber(name, "OPTIONS-")) {
      newest_options = std::max(newest_options.value_or(0), *n);
    }
    if (name == "CURRENT" && ReadFile(e.path(), &current) && current.ends_with('\n')) {
      current_manifest = FileNumber(std::string_view(current).substr(0, current.size() - 1),
                                    "MANIFEST-");
    }
  }
  if (!identity) {
    check->AddProblem("IDENTITY", "missing (RocksDB writes the store's id when it creates it)");
  }
  if (!newest_options) {
    check->AddProblem("OPTIONS", "no OPTIONS file (RocksDB writes one at every open)");
  } else if (current_manifest && *newest_options < *current_manifest) {
    check->AddProblem("OPTIONS-" + std::to_string(*newest_options),
                      "the newest OPTIONS file is older than the current MANIFEST-" +
                          std::to_string(*current_manifest) +
                          ": the OPTIONS file of the last open is missing");
  }
}

}  // namespace

std::set<std::string> CheckFiles(Check* check) {
  std::set<std::string> sst_files;
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(check->path, ec)) entries.push_back(e);
  if (ec) {
    check->AddProblem(check->path, "cannot list the directory: " + ec.message());
    return sst_files;
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path() < b.path(); });
  uint64_t total_bytes = 0;
  std::vector<fs::directory_entry> files;
  for (const auto& e : entries) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file(ec)) {
      check->report->notes.push_back(
          name + ": not a file of the store, not checked" +
          (name == "convert-staging" ? " (a conversion is running or was interrupted)" : ""));
      continue;
    }
    if (name == "LOCK" || name == "LOG" || name.starts_with("LOG.old.")) continue;  // no data
    files.push_back(e);
    total_bytes += e.file_size(ec);
  }
  CheckFilesPresent(check, files);
  PhaseProgress phase(check->progress, "files", "files", total_bytes);
  uint64_t done_bytes = 0;
  for (const auto& e : files) {
    const std::string name = e.path().filename().string();
    phase.Update(check->report->files, done_bytes, name);
    CheckFile(check, e.path(), name, &sst_files);
    done_bytes += e.file_size(ec);
    phase.Update(check->report->files, done_bytes);
  }
  return sst_files;
}

void CheckLiveFiles(Check* check, const std::set<std::string>& sst_files) {
  std::vector<rocksdb::LiveFileMetaData> live;
  check->db.db->GetLiveFilesMetaData(&live);
  std::set<std::string> live_names;
  for (const auto& f : live) {
    const std::string name = fs::path(f.name).filename().string();
    live_names.insert(name);
    std::error_code ec;
    const uint64_t size = fs::file_size(fs::path(f.db_path) / name, ec);
    if (ec) {
      check->AddProblem(name, "listed in the MANIFEST (" + f.column_family_name + ") but missing");
    } else if (size != f.size) {
      check->AddProblem(name, "is " + std::to_string(size) + " bytes, the MANIFEST says " +
                                  std::to_string(f.size));
    }
  }
  for (const std::string& name : sst_files) {
    if (live_names.count(name) == 0) {
      check->report->notes.push_back(name +
                                     ": a table file the MANIFEST does not list (left by an "
                                     "interrupted write; RocksDB ignores it)");
    }
  }
}

}  // namespace oiv4kv::verify
