#include "store/convert/ingest.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "oiv4kv/writer.h"
#include "store/convert/image_chunks.h"
#include "store/convert/input_fingerprint.h"
#include "store/convert/resume_keys.h"
#include "store/convert/source_files.h"
#include "store/convert/unit.h"
#include "store/convert/vocab_files.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Every unit's manifest, or an error naming each unit that is missing,
// failed, or of another plan.
Status CheckUnits(const Plan& plan, const std::string& units,
                  std::vector<UnitManifest>* manifests) {
  std::vector<std::string> bad;
  manifests->assign(plan.units.size(), UnitManifest());
  for (size_t k = 0; k < plan.units.size(); ++k) {
    const std::string folder = UnitFolder(units, plan, k);
    const std::string label =
        "unit " + std::to_string(k) + " (" + plan.units[k].name + "): ";
    UnitManifest& m = (*manifests)[k];
    Status s = ReadUnitManifest(folder, &m);
    std::error_code ec;
    if (s.IsNotFound()) {
      const std::string failed = UnitFailedFile(units, plan, k);
      if (fs::exists(failed, ec)) {
        bad.push_back(label + "failed: " + ReadSmallFile(failed));
      } else {
        bad.push_back(label + "missing (no " + folder + ")");
      }
    } else if (!s.ok()) {
      bad.push_back(label + s.message());
    } else if (m.plan_id != plan.id || m.name != plan.units[k].name) {
      bad.push_back(label + folder + " is a unit of another plan (" + m.plan_id + ")");
    } else {
      for (const UnitFile& f : m.files) {
        if (!fs::is_regular_file(fs::path(folder) / f.file, ec)) {
          bad.push_back(label + (fs::path(folder) / f.file).string() + " is missing");
        }
      }
    }
  }
  if (bad.empty()) return Status::OK();
  std::string message = std::to_string(bad.size()) + " of " + std::to_string(plan.units.size()) +
                        " units are not converted; nothing was ingested:";
  for (const std::string& b : bad) message += "\n  " + b;
  message += "\n(run `oiv4-kv convert-unit --plan PLAN --unit K --out " + units +
             "` for each, then ingest again)";
  return Status::InvalidArgument(message);
}

// Hard-links (or copies) the units' files into `staging`, which the ingest
// consumes, so the units' folders stay whole for a rerun.
Status StageFiles(const Plan& plan, const std::string& units,
                  const std::vector<UnitManifest>& manifests, bool with_annotations,
                  const std::string& staging,
                  std::vector<std::pair<std::string, std::vector<std::string>>>* files) {
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError(staging + ": cannot be created: " + ec.message());
  for (size_t k = 0; k < manifests.size(); ++k) {
    for (const UnitFile& f : manifests[k].files) {
      if (f.family == "annotations" && !with_annotations) continue;
      const fs::path from = fs::path(UnitFolder(units, plan, k)) / f.file;
      const fs::path to = fs::path(staging) / (plan.units[k].name + "." + f.file);
      fs::create_hard_link(from, to, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
        if (ec) return Status::IOError(to.string() + ": cannot be copied: " + ec.message());
      }
      auto it = std::find_if(files->begin(), files->end(),
                             [&](const auto& e) { return e.first == f.family; });
      if (it == files->end()) {
        files->push_back({f.family, {}});
        it = files->end() - 1;
      }
      it->second.push_back(to.string());
    }
  }
  return Status::OK();
}

Status CheckAgainstStore(const Plan& plan, const Manifest& m, const Vocabularies& v,
                         const std::string& store) {
  if (!m.annotations_complete) return Status::OK();
  if (v.order != m.label_order) {
    return Status::InvalidArgument(
        store + ": the store's labels are numbered by " + std::string(LabelOrderName(m.label_order)) +
        " order; make the plan " +
        (m.label_order == LabelOrder::kTfds ? "with the same --label-lists" : "without --label-lists"));
  }
  std::vector<Split> held, asked = plan.splits;
  for (Split s : kAllSplits) {
    if (m.num_examples[static_cast<int>(s)]) held.push_back(s);
  }
  std::sort(asked.begin(), asked.end());
  if (asked != held) {
    return Status::InvalidArgument(store + ": the store holds other splits than the plan's "
                                           "--splits; every config converts the store's splits");
  }
  return Status::OK();
}

}  // namespace

Status Ingest(const IngestRequest& r, IngestSummary* summary) {
  *summary = IngestSummary();
  Plan plan;
  OIV4KV_RETURN_IF_ERROR(ReadPlan(r.plan, &plan));
  const std::string units =
      r.units.empty() ? fs::absolute(r.plan).parent_path().string() : r.units;
  std::vector<UnitManifest> manifests;
  OIV4KV_RETURN_IF_ERROR(CheckUnits(plan, units, &manifests));
  summary->units = manifests.size();

  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(r.store, WriterOptions(), &writer));
  const Manifest& m = writer->manifest();
  if (const ConfigManifest* c = m.FindConfig(plan.config); c != nullptr && c->complete) {
    summary->already_complete = true;
    summary->report = c->report;
    // A run killed between its commit and its clean-up left these behind.
    for (const std::string& p : ConfigRunPrefixes(plan.config)) {
      OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer, p));
    }
    std::error_code ec;
    fs::remove_all(fs::path(r.store) / "ingest-staging", ec);
    return Status::OK();
  }
  const bool annotations_done = m.annotations_complete;
  SourceFiles files;
  OIV4KV_RETURN_IF_ERROR(FindSourceFiles(plan.source, plan.splits, &files));
  Vocabularies v;
  OIV4KV_RETURN_IF_ERROR(LoadVocabularies(files.class_descriptions, files.boxable_descriptions,
                                          files.trainable_list, plan.label_lists, &v));
  OIV4KV_RETURN_IF_ERROR(CheckAgainstStore(plan, m, v, r.store));
  // A store's examples come from one download: a later config's archives
  // must be the ones recorded.
  for (Split split : plan.splits) {
    for (const std::string& archive : files.splits[static_cast<int>(split)].archives) {
      InputFingerprint then, now;
      std::string recorded;
      if (annotations_done &&
          GetProgress(*writer, std::string(kInputPrefix) + ArchiveStem(archive), &recorded).ok() &&
          InputFingerprint::Decode(recorded, &then) &&
          InputFingerprint::Decode(PlanFingerprint(plan, PlanPath(archive)), &now) &&
          !then.SameContent(now)) {
        return Status::InvalidArgument(
            archive + " is not the archive this store's examples were converted from (" +
            DescribeChange(then, now) + "): make the plan from the original download");
      }
    }
  }
  if (!annotations_done) {
    const std::pair<VocabKind, const std::vector<VocabEntry>*> vocabs[] = {
        {VocabKind::kAll, &v.all}, {VocabKind::kTrainable, &v.trainable},
        {VocabKind::kBoxable, &v.boxable}, {VocabKind::kSource, &v.source}};
    for (const auto& [kind, entries] : vocabs) {
      OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(kind, *entries));
    }
    OIV4KV_RETURN_IF_ERROR(writer->SetLabelOrder(v.order));
  }
  OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(plan.config));

  // The table files: one atomic ingest across the families.
  const std::string staging = (fs::path(r.store) / "ingest-staging").string();
  std::vector<std::pair<std::string, std::vector<std::string>>> tables;
  OIV4KV_RETURN_IF_ERROR(StageFiles(plan, units, manifests, !annotations_done, staging, &tables));
  KillPoint("ingest_files");
  OIV4KV_RETURN_IF_ERROR(IngestFiles(*writer, tables));
  KillPoint("ingest_files");

  // The report and the inputs, as `convert` records them.
  Batch batch;
  for (Split split : plan.splits) {
    for (const std::string& archive : files.splits[static_cast<int>(split)].archives) {
      const std::string fp = PlanFingerprint(plan, PlanPath(archive));
      if (!fp.empty()) {
        OIV4KV_RETURN_IF_ERROR(
            PutProgress(batch, std::string(kInputPrefix) + ArchiveStem(archive), fp));
      }
    }
  }
  uint64_t orphans = 0;
  size_t index = 0;
  for (size_t k = 0; k < manifests.size(); ++k) {
    const UnitManifest& u = manifests[k];
    summary->images[static_cast<int>(plan.units[k].split)] += u.images;
    for (const Problem& p : u.image_problems) {
      OIV4KV_RETURN_IF_ERROR(PutProgress(batch, ProblemPrefix(plan.config) + p.where, p.reason));
    }
    if (annotations_done) continue;
    orphans += u.orphan_rows;
    for (const Problem& p : u.annotation_problems) {
      char number[24];
      std::snprintf(number, sizeof(number), "%012zu", index++);
      OIV4KV_RETURN_IF_ERROR(PutProgress(batch, std::string(kAnnotationProblemPrefix) + number,
                                         p.where + "\t" + p.reason));
    }
  }
  if (!annotations_done) {
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, kOrphanRowsKey, std::to_string(orphans)));
  }
  OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
  if (!annotations_done) {
    OIV4KV_RETURN_IF_ERROR(writer->CommitAnnotations(v.order, plan.splits));
    summary->annotations_written = true;
  }
  ConfigCommit commit;
  const uint32_t threads =
      r.threads > 0 ? r.threads : std::max(1u, std::thread::hardware_concurrency());
  commit.options = {plan.source, threads,
                    plan.skip_bad_inputs ? ErrorPolicy::kSkip : ErrorPolicy::kFail,
                    plan.max_pixels, plan.label_lists};
  OIV4KV_RETURN_IF_ERROR(ReadConversionReport(*writer, plan.config, &commit.report));
  OIV4KV_RETURN_IF_ERROR(CommitConfig(*writer, plan.config, commit));
  summary->report = commit.report;
  for (const std::string& p : ConfigRunPrefixes(plan.config)) {
    OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer, p));
  }
  std::error_code ec;
  fs::remove_all(staging, ec);
  return Status::OK();
}

}  // namespace oiv4kv
