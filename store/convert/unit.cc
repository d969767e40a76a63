#include "store/convert/unit.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include "oiv4kv/writer.h"
#include "store/convert/converter.h"
#include "store/convert/input_fingerprint.h"
#include "store/convert/resume_keys.h"
#include "store/core/format/layout.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kUnitManifestName = "unit.json";

json ProblemsJson(const std::vector<Problem>& problems) {
  json a = json::array();
  for (const Problem& p : problems) a.push_back({p.where, p.reason});
  return a;
}

std::string EncodeUnitManifest(const UnitManifest& m) {
  json j;
  j["format"] = kUnitFormat;
  j["version"] = kUnitVersion;
  j["plan_id"] = m.plan_id;
  j["unit"] = m.unit;
  j["name"] = m.name;
  j["images"] = m.images;
  j["examples"] = m.examples;
  j["orphan_rows"] = m.orphan_rows;
  j["annotation_problems"] = ProblemsJson(m.annotation_problems);
  j["image_problems"] = ProblemsJson(m.image_problems);
  json files = json::array();
  for (const UnitFile& f : m.files) {
    files.push_back({{"family", f.family}, {"file", f.file}, {"entries", f.entries}});
  }
  j["files"] = files;
  j["digest"] = m.digest;
  return j.dump(2) + "\n";
}

std::string Hostname() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "host";
  return host;
}

// Writes family `name` of the scratch store as one sorted table file at
// `path`; `entries` 0 (and no file) when the family is empty.
Status ExportFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle,
                    const rocksdb::Options& options, const std::string& name,
                    const std::string& path, uint64_t* entries, uint64_t* digest) {
  *entries = 0;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, handle));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, handle);
  bool open = false;
  Fnv1a64Mix(digest, name.data(), name.size());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!open) {
      OIV4KV_RETURN_IF_ERROR(FromRocks(writer.Open(path), path));
      open = true;
    }
    const rocksdb::Slice k = it->key(), v = it->value();
    const uint64_t sizes[2] = {k.size(), v.size()};
    Fnv1a64Mix(digest, sizes, sizeof(sizes));
    Fnv1a64Mix(digest, k.data(), k.size());
    Fnv1a64Mix(digest, v.data(), v.size());
    OIV4KV_RETURN_IF_ERROR(FromRocks(writer.Put(k, v), path));
    ++*entries;
  }
  OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), "scratch store: " + name));
  if (open) OIV4KV_RETURN_IF_ERROR(FromRocks(writer.Finish(), path));
  return Status::OK();
}

Status ParseProblems(const json& a, std::vector<Problem>* out) {
  for (const auto& p : a) out->push_back({p.at(0).get<std::string>(), p.at(1).get<std::string>()});
  return Status::OK();
}

// The unit's rows, converted as `convert` does, into the scratch store at
// `tmp`/store, then exported into `tmp`.
Status RunUnit(const Plan& plan, size_t k, const std::string& tmp, uint32_t threads,
               ProgressMeter* meter, UnitManifest* m) {
  const PlanUnit& u = plan.units[k];
  const std::string scratch = (fs::path(tmp) / "store").string();
  ConvertRequest r;
  r.source = plan.source;
  r.store = scratch;
  r.config = plan.config;
  r.splits = {u.split};
  r.threads = threads;
  r.skip_bad_inputs = plan.skip_bad_inputs;
  r.label_lists = plan.label_lists;
  r.max_pixels = plan.max_pixels;
  r.archive_stems = u.archives;
  r.annotation_digit = u.annotation_digit;
  r.report_bad_rows = u.report_bad_rows;
  ConvertSummary summary;
  OIV4KV_RETURN_IF_ERROR(Convert(r, meter, &summary));
  m->images = summary.images[static_cast<int>(u.split)];
  {
    std::unique_ptr<Writer> writer;
    OIV4KV_RETURN_IF_ERROR(Writer::Open(scratch, WriterOptions(), &writer));
    std::string orphans;
    if (GetProgress(*writer, kOrphanRowsKey, &orphans).ok()) m->orphan_rows = std::stoull(orphans);
    size_t annotation_problems = 0;
    OIV4KV_RETURN_IF_ERROR(ScanProgress(*writer, kAnnotationProblemPrefix,
                                        [&](std::string_view, std::string_view) {
                                          ++annotation_problems;
                                          return true;
                                        }));
    const auto& problems = summary.report.problems;
    annotation_problems = std::min(annotation_problems, problems.size());
    m->annotation_problems.assign(problems.begin(), problems.begin() + annotation_problems);
    m->image_problems.assign(problems.begin() + annotation_problems, problems.end());
    m->examples = writer->manifest().num_examples[static_cast<int>(u.split)].value_or(0);
  }
  // The scratch store's tables, exported with the store's options.
  const WriterOptions wo;
  const std::vector<rocksdb::ColumnFamilyDescriptor> families =
      WriterFamilies(wo, LayoutTuning());
  OpenDb db;
  OIV4KV_RETURN_IF_ERROR(OpenRocksDb(scratch, WriterDbOptions(wo), families, true, &db));
  uint64_t digest = kFnv1a64Basis;
  for (Family f : {Family::kAnnotations, ImagesFamily(plan.config)}) {
    const std::string name(FamilyName(f));
    rocksdb::ColumnFamilyOptions cf;
    for (const auto& d : families) {
      if (d.name == name) cf = d.options;
    }
    const rocksdb::Options options(WriterDbOptions(wo), cf);
    UnitFile file{name, name + ".sst", 0};
    OIV4KV_RETURN_IF_ERROR(ExportFamily(db.db.get(), db.family(f), options, name,
                                        (fs::path(tmp) / file.file).string(), &file.entries,
                                        &digest));
    if (file.entries > 0) m->files.push_back(file);
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(digest));
  m->digest = hex;
  return Status::OK();
}

// The temporary folders (<prefix><pid>) that runs of this unit killed on
// this host left behind: removed when their pid is no longer alive, so
// repeated kills do not pile up scratch stores. Other hosts' folders (a
// shared --out) and live runs' are left alone.
void RemoveDeadRunsFolders(const std::string& out, const std::string& prefix) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid != ::getpid() && (::kill(pid, 0) == 0 || errno != ESRCH)) continue;  // still running
    std::error_code rm;
    fs::remove_all(e.path(), rm);
  }
}

}  // namespace

std::string UnitFolder(const std::string& out, const Plan& plan, size_t k) {
  return (fs::path(out) / plan.units[k].name).string();
}

std::string UnitFailedFile(const std::string& out, const Plan& plan, size_t k) {
  return UnitFolder(out, plan, k) + ".failed";
}

Status ReadUnitManifest(const std::string& folder, UnitManifest* m) {
  *m = UnitManifest();
  const std::string path = (fs::path(folder) / kUnitManifestName).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": missing");
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || j.value("format", "") != kUnitFormat ||
      j.value("version", 0) != kUnitVersion) {
    return Status::Corruption(path + ": not a version " + std::to_string(kUnitVersion) +
                              " unit manifest");
  }
  try {
    m->plan_id = j.at("plan_id").get<std::string>();
    m->unit = j.at("unit").get<size_t>();
    m->name = j.at("name").get<std::string>();
    m->images = j.at("images").get<uint64_t>();
    m->examples = j.at("examples").get<uint64_t>();
    m->orphan_rows = j.at("orphan_rows").get<uint64_t>();
    OIV4KV_RETURN_IF_ERROR(ParseProblems(j.at("annotation_problems"), &m->annotation_problems));
    OIV4KV_RETURN_IF_ERROR(ParseProblems(j.at("image_problems"), &m->image_problems));
    for (const auto& f : j.at("files")) {
      m->files.push_back({f.at("family").get<std::string>(), f.at("file").get<std::string>(),
                          f.at("entries").get<uint64_t>()});
    }
    m->digest = j.at("digest").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(path + ": malformed unit manifest: " + e.what());
  }
  return Status::OK();
}

Status ConvertUnit(const Plan& plan, size_t k, const std::string& out, uint32_t threads,
                   ProgressMeter* meter, UnitSummary* summary) {
  *summary = UnitSummary();
  if (k >= plan.units.size()) {
    return Status::InvalidArgument("unit " + std::to_string(k) + " is not in the plan (it has " +
                                   std::to_string(plan.units.size()) + " units, 0-" +
                                   std::to_string(plan.units.size() - 1) + ")");
  }
  const std::string folder = UnitFolder(out, plan, k);
  std::error_code ec;
  if (fs::exists(folder, ec)) {
    UnitManifest done;
    OIV4KV_RETURN_IF_ERROR(ReadUnitManifest(folder, &done));
    if (done.plan_id != plan.id) {
      return Status::InvalidArgument(folder + " holds unit " + done.name + " of another plan (" +
                                     done.plan_id + ", not " + plan.id +
                                     "): give each plan its own --out folder");
    }
    summary->already_done = true;
    summary->manifest = done;
    return Status::OK();
  }
  OIV4KV_RETURN_IF_ERROR(CheckUnitInputs(plan, k));
  fs::create_directories(out, ec);
  if (ec) return Status::IOError(out + ": cannot be created: " + ec.message());
  const std::string tmp_prefix = "." + plan.units[k].name + ".tmp-" + Hostname() + "-";
  const std::string tmp =
      (fs::path(out) / (tmp_prefix + std::to_string(::getpid()))).string();
  RemoveDeadRunsFolders(out, tmp_prefix);
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::IOError(tmp + ": cannot be created: " + ec.message());
  UnitManifest& m = summary->manifest;
  m.plan_id = plan.id;
  m.unit = k;
  m.name = plan.units[k].name;
  Status s = RunUnit(plan, k, tmp, threads, meter, &m);
  if (s.ok()) {
    fs::remove_all(fs::path(tmp) / "store", ec);
    s = WriteFileAtomically((fs::path(tmp) / kUnitManifestName).string(), EncodeUnitManifest(m));
    if (s.ok()) KillPoint("unit_commit");
  }
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    (void)WriteFileAtomically(UnitFailedFile(out, plan, k), s.ToString() + "\n");
    return s;
  }
  if (::rename(tmp.c_str(), folder.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(tmp, ec);
    UnitManifest other;
    if ((err == ENOTEMPTY || err == EEXIST) && ReadUnitManifest(folder, &other).ok() &&
        other.plan_id == plan.id) {
      summary->already_done = true;  // another run of the unit finished first
      summary->manifest = other;
      return Status::OK();
    }
    return Status::IOError(folder + ": rename: " + std::strerror(err));
  }
  KillPoint("unit_commit");
  fs::remove(UnitFailedFile(out, plan, k), ec);
  return Status::OK();
}

}  // namespace oiv4kv
