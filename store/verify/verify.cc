// VerifyStore: runs the phases (phases.h) on one Check and guards the run
// against a writer; the Check itself, phase progress and the scan that the
// annotation and image phases share.
#include "store/verify/verify.h"

#include <rocksdb/metadata.h>

#include <cstdio>
#include <filesystem>

#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/verify/phases.h"

namespace oiv4kv {
namespace verify {
namespace {

std::string KeyHex(std::string_view key) {
  std::string out;
  char buf[4];
  for (unsigned char c : key) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

}  // namespace

Check::Check(std::string path_in, const VerifyOptions& options_in,
             const VerifyProgressFn& progress_in, VerifyReport* report_in)
    : path(std::move(path_in)), options(options_in), progress(progress_in), report(report_in) {}

void Check::AddProblem(std::string where, std::string reason) {
  ++report->num_problems;
  if (report->problems.size() < options.max_problems) {
    report->problems.push_back({std::move(where), std::move(reason)});
  }
}

bool Check::Open() {
  Status s = OpenRocksDb(path, ReaderDbOptions(StoreOptions()), ReaderFamilies(LayoutTuning()),
                         /*read_only=*/true, &db);
  if (!s.ok()) {
    AddProblem("store", "RocksDB cannot open it: " + s.ToString());
    return false;
  }
  return true;
}

Status Check::Get(Family f, std::string_view key, std::string* value) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  rocksdb::Status s = db.db->Get(ro, db.family(f), rocksdb::Slice(key.data(), key.size()), value);
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound("missing");
  return Status::IOError(s.ToString());
}

std::unique_ptr<rocksdb::Iterator> Check::NewIterator(Family f) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  return std::unique_ptr<rocksdb::Iterator>(db.db->NewIterator(ro, db.family(f)));
}

uint64_t Check::FamilyBytes(Family f) const {
  rocksdb::ColumnFamilyMetaData meta;
  db.db->GetColumnFamilyMetaData(db.family(f), &meta);
  return meta.size;
}

PhaseProgress::PhaseProgress(const VerifyProgressFn& fn, std::string phase, std::string unit,
                             uint64_t total_bytes)
    : fn_(fn) {
  p_.phase = std::move(phase);
  p_.unit = std::move(unit);
  p_.total_bytes = total_bytes;
  if (fn_) fn_(p_);
}

void PhaseProgress::Update(uint64_t items, uint64_t bytes, std::string_view where) {
  p_.items = items;
  p_.bytes = bytes;
  if (!fn_ || (items % kEvery != 0 && where.empty())) return;
  p_.event = VerifyProgress::Event::kUpdate;
  p_.where.assign(where);
  fn_(p_);
}

PhaseProgress::~PhaseProgress() {
  if (!fn_) return;
  p_.event = VerifyProgress::Event::kFinish;
  p_.where.clear();
  fn_(p_);
}

rocksdb::Status ForEachEntry(Check* check, Family f, PhaseProgress* progress, uint64_t* entries,
                             const std::function<void(Split, uint64_t, std::string_view)>& fn) {
  const std::unique_ptr<rocksdb::Iterator> it = check->NewIterator(f);
  uint64_t bytes = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++*entries;
    const std::string_view key = it->key().ToStringView();
    const std::string_view value = it->value().ToStringView();
    bytes += key.size() + value.size();
    progress->Update(*entries, bytes);
    Split split;
    uint64_t id;
    if (!DecodeKey(key, &split, &id)) {
      check->AddProblem(std::string(FamilyName(f)) + " key " + KeyHex(key),
                        "not a [split][image id] key");
      continue;
    }
    fn(split, id, value);
  }
  return it->status();
}

std::string ImageName(Config config, Split split, uint64_t id) {
  return std::string(FamilyName(ImagesFamily(config))) + " " + ExampleName(split, id);
}

namespace {

void RunPhases(Check* check) {
  check->report->deep = check->options.deep;
  const std::set<std::string> sst_files = CheckFiles(check);
  if (!check->Open()) return;
  CheckLiveFiles(check, sst_files);
  Manifest manifest;
  if (!ReadManifest(check, &manifest)) return;
  const Vocabularies vocab = ReadVocabularies(check);
  const AnnotationKeys keys = CheckAnnotations(check, vocab);
  CheckIndexes(check, manifest, keys);
  CheckLabelIndex(check, manifest, keys, vocab);
  std::unique_ptr<DeepDecoder> deep;
  if (check->options.deep) deep = std::make_unique<DeepDecoder>(check, check->options.threads);
  for (Config c : kAllConfigs) CheckImages(check, c, manifest, keys, deep.get());
}

}  // namespace
}  // namespace verify

Status VerifyStore(const std::string& path, const VerifyOptions& options,
                   const VerifyProgressFn& progress, VerifyReport* report) {
  *report = VerifyReport();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
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
  {
    verify::Check check(path, options, progress, report);
    verify::RunPhases(&check);
  }
  if (!report->ok()) {
    const std::optional<long> pid = StoreWriterPid(path);
    if (pid) return writer_running(*pid);
    if (StoreFileNames(path) != before) {
      *report = VerifyReport();
      return Status::IOError(path +
                             ": the store's files changed while verify read them (another "
                             "process wrote it): run verify again when no process writes it");
    }
  }
  return Status::OK();
}

}  // namespace oiv4kv
