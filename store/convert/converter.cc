#include "store/convert/converter.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "oiv4kv/writer.h"
#include "store/convert/annotation_pass.h"
#include "store/convert/fault_injection.h"
#include "store/convert/image_chunks.h"
#include "store/convert/image_pass.h"
#include "store/convert/input_fingerprint.h"
#include "store/convert/resume_keys.h"
#include "store/convert/source_files.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

std::string JoinConfigs(const std::vector<Config>& configs) {
  std::string out;
  for (Config c : configs) out += (out.empty() ? "" : ",") + std::string(ConfigName(c));
  return out;
}

// The driver: checks the request against the store and the download, then
// runs the annotation pass (staging), the image pass, the examples, and
// commits the config with its report.
class Conversion {
 public:
  Conversion(const ConvertRequest& r, ProgressMeter* meter, ConvertSummary* summary)
      : r_(r), meter_(meter), summary_(summary),
        threads_(r.threads > 0 ? r.threads : std::max(1u, std::thread::hardware_concurrency())),
        configs_(RequestedConfigs(r)) {}

  Status Run() {
    for (Config c : configs_) summary_->configs.push_back(ConfigSummary{c, {}, {}, false});
    OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
    OIV4KV_RETURN_IF_ERROR(OpenConvertWriter(r_, &writer_));
    const Manifest& m = writer_->manifest();
    const bool annotations_done = m.annotations_complete;
    const std::string staging_path = (fs::path(r_.store) / "convert-staging").string();
    if (r_.restart) OIV4KV_RETURN_IF_ERROR(Restart(m, staging_path));
    OIV4KV_RETURN_IF_ERROR(CheckAgainstStore(m));
    // A complete config is skipped; the others are converted in one pass.
    for (ConfigSummary& cs : summary_->configs) {
      if (const ConfigManifest* c = m.FindConfig(cs.config); c != nullptr && c->complete) {
        cs.already_complete = true;
        cs.report = c->report;
      } else {
        pending_.push_back(cs.config);
      }
    }
    if (pending_.empty()) {
      summary_->already_complete = true;
      summary_->report = summary_->configs.front().report;
      // A run killed between its commit and its clean-up left these.
      return ClearRun(staging_path);
    }
    OIV4KV_RETURN_IF_ERROR(FindSourceFiles(r_.source, splits_, &files_));
    if (!r_.archive_stems.empty()) {
      for (SplitSources& s : files_.splits) {
        std::erase_if(s.archives, [&](const std::string& a) {
          return std::find(r_.archive_stems.begin(), r_.archive_stems.end(), ArchiveStem(a)) ==
                 r_.archive_stems.end();
        });
      }
    }
    OIV4KV_RETURN_IF_ERROR(CheckArchives(annotations_done));
    AnnotationPass annotations(r_, files_, splits_, writer_.get(), meter_, summary_);
    if (!annotations_done) OIV4KV_RETURN_IF_ERROR(annotations.Stage(staging_path));
    for (Config c : pending_) OIV4KV_RETURN_IF_ERROR(writer_->BeginConfig(c));
    ImagePass images(r_, pending_, files_, threads_, writer_.get(), meter_);
    for (Split split : splits_) OIV4KV_RETURN_IF_ERROR(images.ConvertArchives(split));
    for (ConfigSummary& cs : summary_->configs) {
      for (Split split : splits_) {
        cs.images[static_cast<int>(split)] = images.images(cs.config, split);
      }
    }
    summary_->images = summary_->configs.front().images;
    if (!annotations_done) {
      // Every config stores the same images (CommitConfig checks it).
      OIV4KV_RETURN_IF_ERROR(annotations.WriteExamples(pending_.front()));
      summary_->annotations_written = true;
    }
    for (ConfigSummary& cs : summary_->configs) {
      if (!cs.already_complete) OIV4KV_RETURN_IF_ERROR(Commit(cs.config, &cs.report));
    }
    summary_->report = summary_->configs.front().report;
    annotations.Close();
    return ClearRun(staging_path);
  }

 private:
  // --restart: forgets the unfinished conversion of the configs asked for.
  Status Restart(const Manifest& m, const std::string& staging_path) {
    std::vector<std::string> prefixes;
    for (Config config : configs_) {
      if (const ConfigManifest* c = m.FindConfig(config); c != nullptr && c->complete) {
        summary_->refused = true;
        return Status::InvalidArgument(
            r_.store + ": config " + std::string(ConfigName(config)) +
            " is complete; --restart discards only an unfinished conversion (convert into a new "
            "store to convert it again" +
            (configs_.size() > 1 ? ", or leave it out of --config" : "") + ")");
      }
      for (std::string& p : ConfigRunPrefixes(config)) prefixes.push_back(std::move(p));
    }
    if (!m.annotations_complete) {
      // Nothing of the download is committed yet: forget all of it.
      prefixes.push_back(std::string(kInputPrefix));
      prefixes.push_back("annotations/");
      std::error_code ec;
      fs::remove_all(staging_path, ec);
      if (ec) return Status::IOError(staging_path + ": cannot be removed: " + ec.message());
    }
    for (Config c : configs_) OIV4KV_RETURN_IF_ERROR(writer_->DiscardUnfinished(c));
    for (const std::string& p : prefixes) OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer_, p));
    return Status::OK();
  }

  // Every archive must be the one the store's images were read from: the
  // archives of a conversion in progress, and all of them once the examples
  // are committed. Refuses (naming the file) before anything is written.
  Status CheckArchives(bool annotations_done) {
    Batch batch;
    for (Split split : splits_) {
      for (const std::string& archive : files_.splits[static_cast<int>(split)].archives) {
        const std::string stem = ArchiveStem(archive);
        InputFingerprint now, then;
        OIV4KV_RETURN_IF_ERROR(FingerprintInput(archive, &now));
        std::string recorded, progress;
        const bool known =
            GetProgress(*writer_, std::string(kInputPrefix) + stem, &recorded).ok() &&
            InputFingerprint::Decode(recorded, &then);
        bool started = false;
        for (Config c : pending_) {
          started = started || GetProgress(*writer_, ArchiveProgressKey(c, stem), &progress).ok();
        }
        if (known && (started || annotations_done) && !then.SameContent(now)) {
          const std::string change = DescribeChange(then, now);
          summary_->refused = true;
          if (started) {
            return Status::InvalidArgument(
                "input changed since this conversion started: " + archive +
                " (" + change + ") -- rerun with the original download, or start over with "
                "`oiv4-kv convert ... --restart`");
          }
          return Status::InvalidArgument(
              archive + " is not the archive this store's examples were converted from (" +
              change + "): convert config " + JoinConfigs(pending_) +
              " from the original download, or convert this download into a new store");
        }
        if (!known || (!started && !annotations_done && !(then == now))) {
          OIV4KV_RETURN_IF_ERROR(
              PutProgress(batch, std::string(kInputPrefix) + stem, now.Encode()));
        }
      }
    }
    OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
    KillPoint("progress");
    return Status::OK();
  }

  // A later run must agree with what the store already holds.
  Status CheckAgainstStore(const Manifest& m) {
    splits_ = r_.splits;
    if (!m.annotations_complete) return Status::OK();
    const LabelOrder want = r_.label_lists.empty() ? LabelOrder::kDownload : LabelOrder::kTfds;
    if (want != m.label_order) {
      return Status::InvalidArgument(
          r_.store + ": the store's labels are numbered by " +
          std::string(LabelOrderName(m.label_order)) + " order; " +
          (m.label_order == LabelOrder::kTfds ? "pass the same --label-lists"
                                              : "convert without --label-lists"));
    }
    std::vector<Split> held;
    for (Split s : kAllSplits) {
      if (m.num_examples[static_cast<int>(s)]) held.push_back(s);
    }
    std::vector<Split> asked = r_.splits;
    std::sort(asked.begin(), asked.end());
    if (asked != held) {
      return Status::InvalidArgument(
          r_.store + ": the store holds other splits than --splits asks for; "
                     "every config converts the store's splits");
    }
    return Status::OK();
  }

  // Commits the config with the options of this run and the report the
  // progress keys hold.
  Status Commit(Config config, ConversionReport* report) {
    ConfigCommit commit;
    commit.options = {r_.source, threads_,
                      r_.skip_bad_inputs ? ErrorPolicy::kSkip : ErrorPolicy::kFail,
                      r_.max_pixels, r_.label_lists};
    OIV4KV_RETURN_IF_ERROR(ReadConversionReport(*writer_, config, &commit.report));
    OIV4KV_RETURN_IF_ERROR(CommitConfig(*writer_, config, commit));
    KillPoint("config_commit");
    *report = commit.report;
    return Status::OK();
  }

  // Once every config asked for is complete: drops the runs' own progress
  // keys and the staged annotations (committed, so no later config reads
  // them).
  Status ClearRun(const std::string& staging_path) {
    for (Config c : configs_) {
      for (const std::string& p : ConfigRunPrefixes(c)) {
        OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer_, p));
      }
    }
    KillPoint("progress");
    std::error_code ec;
    if (writer_->manifest().annotations_complete) fs::remove_all(staging_path, ec);
    return Status::OK();
  }

  const ConvertRequest& r_;
  ProgressMeter* meter_;
  ConvertSummary* summary_;
  uint32_t threads_;
  const std::vector<Config> configs_;  // asked for
  std::vector<Config> pending_;        // not complete: converted by this run
  std::vector<Split> splits_;
  SourceFiles files_;
  std::unique_ptr<Writer> writer_;
};

}  // namespace

bool IsNoSpace(const Status& s) {
  return !s.ok() && s.code() == Status::Code::kIOError &&
         (s.message().find("No space left on device") != std::string::npos ||
          s.message().find("No space available") != std::string::npos);
}

Status CheckFreeSpace(const std::string& path, uint64_t min_free_bytes) {
  fs::path at = fs::absolute(path);
  std::error_code ec;
  while (!fs::exists(at, ec) && at.has_parent_path() && at.parent_path() != at) at = at.parent_path();
  struct statvfs st;
  if (::statvfs(at.c_str(), &st) != 0) return Status::OK();  // unknown: RocksDB will tell
  const uint64_t free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free >= min_free_bytes) return Status::OK();
  return Status::IOError("No space left on device: " + path + " (" + std::to_string(free >> 20) +
                         " MiB free, the conversion needs at least " +
                         std::to_string(min_free_bytes >> 20) + " MiB)");
}

std::string ConvertFailureAdvice(const Status& s, const ConvertSummary& summary) {
  if (summary.refused) return "";
  if (IsNoSpace(s)) {
    return "(everything written before this point is kept; free space on the store's disk and "
           "run the same command again to resume)";
  }
  if (s.code() != Status::Code::kInvalidArgument && s.code() != Status::Code::kCorruption) {
    return "(everything written before this point is kept; run the same command again to resume "
           "once the cause is fixed)";
  }
  if (summary.skip_cannot_help) {
    return "(everything written before this point is kept; fix the input and run the same "
           "command again to resume)";
  }
  return "(everything written before this point is kept; fix the input, or pass "
         "--on-error skip, and run the same command again to resume)";
}

std::vector<Config> RequestedConfigs(const ConvertRequest& request) {
  std::vector<Config> out;
  for (Config c : request.configs) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  if (out.empty()) out.push_back(request.config);
  return out;
}

Status Convert(const ConvertRequest& request, ProgressMeter* meter, ConvertSummary* summary) {
  *summary = ConvertSummary();
  // The store and the annotation staging write through one file system.
  ConvertRequest resolved = request;
  Status s = ResolveConvertFileSystem(request, &resolved.file_system);
  if (s.ok()) s = Conversion(resolved, meter, summary).Run();
  if (request.skip_bad_inputs) summary->skip_cannot_help = true;
  if (IsNoSpace(s) && !s.message().starts_with("No space left on device")) {
    return Status::IOError("No space left on device: " + request.store + " (" + s.message() + ")");
  }
  return s;
}

}  // namespace oiv4kv
