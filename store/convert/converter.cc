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

// The driver: checks the request against the store and the download, then
// runs the annotation pass (staging), the image pass, the examples, and
// commits the config with its report.
class Conversion {
 public:
  Conversion(const ConvertRequest& r, ProgressMeter* meter, ConvertSummary* summary)
      : r_(r), meter_(meter), summary_(summary),
        threads_(r.threads > 0 ? r.threads : std::max(1u, std::thread::hardware_concurrency())) {}

  Status Run() {
    OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
    OIV4KV_RETURN_IF_ERROR(OpenConvertWriter(r_, &writer_));
    const Manifest& m = writer_->manifest();
    const bool annotations_done = m.annotations_complete;
    const std::string staging_path = (fs::path(r_.store) / "convert-staging").string();
    if (r_.restart) OIV4KV_RETURN_IF_ERROR(Restart(m, staging_path));
    OIV4KV_RETURN_IF_ERROR(CheckAgainstStore(m));
    if (const ConfigManifest* c = m.FindConfig(r_.config); c != nullptr && c->complete) {
      summary_->already_complete = true;
      summary_->report = c->report;
      // A run killed between its commit and its clean-up left these.
      return ClearRun(staging_path);
    }
    OIV4KV_RETURN_IF_ERROR(FindSourceFiles(r_.source, splits_, &files_));
    OIV4KV_RETURN_IF_ERROR(CheckArchives(annotations_done));
    AnnotationPass annotations(r_, files_, splits_, writer_.get(), meter_, summary_);
    if (!annotations_done) OIV4KV_RETURN_IF_ERROR(annotations.Stage(staging_path));
    OIV4KV_RETURN_IF_ERROR(writer_->BeginConfig(r_.config));
    ImagePass images(r_, files_, threads_, writer_.get(), meter_);
    for (Split split : splits_) OIV4KV_RETURN_IF_ERROR(images.ConvertArchives(split));
    for (Split split : splits_) summary_->images[static_cast<int>(split)] = images.images(split);
    if (!annotations_done) {
      OIV4KV_RETURN_IF_ERROR(annotations.WriteExamples(r_.config));
      summary_->annotations_written = true;
    }
    OIV4KV_RETURN_IF_ERROR(Commit());
    annotations.Close();
    return ClearRun(staging_path);
  }

 private:
  // --restart: forgets this config's unfinished conversion.
  Status Restart(const Manifest& m, const std::string& staging_path) {
    if (const ConfigManifest* c = m.FindConfig(r_.config); c != nullptr && c->complete) {
      summary_->refused = true;
      return Status::InvalidArgument(
          r_.store + ": config " + std::string(ConfigName(r_.config)) +
          " is complete; --restart discards only an unfinished conversion (convert into a new "
          "store to convert it again)");
    }
    std::vector<std::string> prefixes = ConfigRunPrefixes(r_.config);
    if (!m.annotations_complete) {
      // Nothing of the download is committed yet: forget all of it.
      prefixes.push_back(std::string(kInputPrefix));
      prefixes.push_back("annotations/");
      std::error_code ec;
      fs::remove_all(staging_path, ec);
      if (ec) return Status::IOError(staging_path + ": cannot be removed: " + ec.message());
    }
    OIV4KV_RETURN_IF_ERROR(writer_->DiscardUnfinished(r_.config));
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
        const bool started =
            GetProgress(*writer_, ArchiveProgressKey(r_.config, stem), &progress).ok();
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
              change + "): convert config " + std::string(ConfigName(r_.config)) +
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
  // progress keys hold, then drops the run's own keys.
  Status Commit() {
    ConfigCommit commit;
    commit.options = {r_.source, threads_,
                      r_.skip_bad_inputs ? ErrorPolicy::kSkip : ErrorPolicy::kFail,
                      r_.max_pixels, r_.label_lists};
    OIV4KV_RETURN_IF_ERROR(ReadConversionReport(*writer_, r_.config, &commit.report));
    OIV4KV_RETURN_IF_ERROR(CommitConfig(*writer_, r_.config, commit));
    KillPoint("config_commit");
    summary_->report = commit.report;
    return Status::OK();
  }

  // Once the config is complete: drops the run's own progress keys and the
  // staged annotations (committed, so no later config reads them).
  Status ClearRun(const std::string& staging_path) {
    for (const std::string& p : ConfigRunPrefixes(r_.config)) {
      OIV4KV_RETURN_IF_ERROR(ClearProgress(*writer_, p));
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

Status Convert(const ConvertRequest& request, ProgressMeter* meter, ConvertSummary* summary) {
  *summary = ConvertSummary();
  Status s = Conversion(request, meter, summary).Run();
  if (request.skip_bad_inputs) summary->skip_cannot_help = true;
  if (IsNoSpace(s) && !s.message().starts_with("No space left on device")) {
    return Status::IOError("No space left on device: " + request.store + " (" + s.message() + ")");
  }
  return s;
}

}  // namespace oiv4kv
