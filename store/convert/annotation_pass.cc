#include "store/convert/annotation_pass.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "store/convert/input_fingerprint.h"
#include "store/convert/resume_keys.h"
#include "store/convert/vocab_files.h"
#include "store/core/format/records.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

constexpr size_t kExamplesPerBatch = 2000;

std::string Fnv64Hex(std::string_view bytes) {
  uint64_t h = kFnv1a64Basis;
  Fnv1a64Mix(&h, bytes.data(), bytes.size());
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace

AnnotationPass::AnnotationPass(const ConvertRequest& request, const SourceFiles& files,
                               const std::vector<Split>& splits, Writer* writer,
                               ProgressMeter* meter, ConvertSummary* summary)
    : r_(request), files_(files), splits_(splits), writer_(writer), meter_(meter),
      summary_(summary) {}

// A resumed run writes the vocabularies only when they differ from the ones
// the store holds (each rewrite would leave another table file).
Status AnnotationPass::WriteVocabularies(const Vocabularies& v) {
  const std::pair<VocabKind, const std::vector<VocabEntry>*> vocabs[] = {
      {VocabKind::kAll, &v.all}, {VocabKind::kTrainable, &v.trainable},
      {VocabKind::kBoxable, &v.boxable}, {VocabKind::kSource, &v.source}};
  std::string written;
  for (const auto& [kind, entries] : vocabs) {
    const std::string encoded = EncodeVocabulary(kind, *entries);
    written += std::to_string(encoded.size()) + ":" + Fnv64Hex(encoded) + " ";
  }
  std::string stored;
  if (!GetProgress(*writer_, kVocabulariesKey, &stored).ok() || stored != written) {
    for (const auto& [kind, entries] : vocabs) {
      OIV4KV_RETURN_IF_ERROR(writer_->PutVocabulary(kind, *entries));
    }
    Batch batch;
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, kVocabulariesKey, written));
    OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
    KillPoint("progress");
  }
  // Recorded now, so that `info` on an unfinished store tells it.
  return writer_->SetLabelOrder(v.order);
}

Status AnnotationPass::Stage(const std::string& staging_path) {
  OIV4KV_RETURN_IF_ERROR(AnnotationStaging::Open(staging_path, &staging_, r_.file_system));
  staging_->SetIdDigitFilter(r_.annotation_digit, r_.report_bad_rows);
  Vocabularies v;
  if (Status s = LoadVocabularies(files_.class_descriptions, files_.boxable_descriptions,
                                  files_.trainable_list, r_.label_lists, &v);
      !s.ok()) {
    summary_->skip_cannot_help = true;  // class lists are read whole in either mode
    return s;
  }
  OIV4KV_RETURN_IF_ERROR(WriteVocabularies(v));
  label_order_ = v.order;
  // An interrupted run may have staged rows under other label numbers
  // (another --label-lists): they are staged again.
  uint64_t signature = kFnv1a64Basis;
  for (const auto* list : {&v.all, &v.boxable}) {
    for (const VocabEntry& e : *list) {
      Fnv1a64Mix(&signature, e.mid.data(), e.mid.size());
      Fnv1a64Mix(&signature, "\n", 1);
    }
  }
  OIV4KV_RETURN_IF_ERROR(staging_->UseVocabulary(signature));
  const Vocabulary trainable(v.trainable);
  all_ = Vocabulary(std::move(v.all));
  boxable_ = Vocabulary(std::move(v.boxable));
  trainable_of_all_.assign(all_.size(), -1);
  for (size_t i = 0; i < all_.size(); ++i) {
    if (auto t = trainable.Find(all_.mid(i))) trainable_of_all_[i] = static_cast<int32_t>(*t);
  }
  for (Split split : splits_) {
    const SplitSources& s = files_.splits[static_cast<int>(split)];
    for (auto [file, path] : {std::pair{RowFile::kHuman, s.human_csv},
                              std::pair{RowFile::kMachine, s.machine_csv},
                              std::pair{RowFile::kBoxes, s.bbox_csv}}) {
      const std::string name = fs::path(path).filename().string();
      OIV4KV_RETURN_IF_ERROR(CheckFreeSpace(r_.store, r_.min_free_bytes));
      InputFingerprint fingerprint;
      OIV4KV_RETURN_IF_ERROR(FingerprintInput(path, &fingerprint));
      std::error_code ec;
      if (meter_) meter_->Start("staging " + name, "rows", fs::file_size(path, ec));
      const Status staged = staging_->StageFile(
          split, file, path, fingerprint.Encode(), all_, boxable_, r_.skip_bad_inputs,
          [&](uint64_t rows, uint64_t bytes, uint64_t) {
            if (meter_) meter_->Update(rows, bytes, name);
          });
      if (IsFileEndingError(staged)) summary_->skip_cannot_help = true;
      OIV4KV_RETURN_IF_ERROR(staged);
      if (meter_) meter_->Finish();
    }
  }
  return Status::OK();
}

Status AnnotationPass::WriteExamples(Config config) {
  uint64_t orphans = 0;
  for (Split split : splits_) {
    std::vector<uint64_t> ids;
    OIV4KV_RETURN_IF_ERROR(PresentIds(*writer_, config, split, &ids));
    if (meter_) meter_->Start("examples " + std::string(SplitName(split)), "examples", 0);
    Batch batch;
    uint64_t done = 0, split_orphans = 0;
    OIV4KV_RETURN_IF_ERROR(staging_->Assemble(
        split, ids, trainable_of_all_,
        [&](const ExampleData& e) -> Status {
          OIV4KV_RETURN_IF_ERROR(batch.AddExample(e));
          ++done;
          if (batch.Count() >= kExamplesPerBatch) {
            OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
            batch.Clear();
            if (meter_) meter_->Update(done, 0, "");
          }
          return Status::OK();
        },
        &split_orphans));
    orphans += split_orphans;
    OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
    if (meter_) {
      meter_->Update(done, 0, "");
      meter_->Finish();
    }
  }
  // The annotation report is kept for the configs converted later.
  std::vector<Problem> problems;
  OIV4KV_RETURN_IF_ERROR(staging_->Problems(&problems));
  Batch batch;
  OIV4KV_RETURN_IF_ERROR(PutProgress(batch, kOrphanRowsKey, std::to_string(orphans)));
  for (size_t i = 0; i < problems.size(); ++i) {
    char index[24];
    std::snprintf(index, sizeof(index), "%012zu", i);
    OIV4KV_RETURN_IF_ERROR(PutProgress(batch, std::string(kAnnotationProblemPrefix) + index,
                                       problems[i].where + "\t" + problems[i].reason));
  }
  OIV4KV_RETURN_IF_ERROR(writer_->Write(batch));
  KillPoint("progress");
  return writer_->CommitAnnotations(label_order_, splits_);
}

}  // namespace oiv4kv
