// The annotation half of a conversion: the class lists become the store's
// vocabularies, the annotation CSVs are staged per image, and once the images
// are stored, the examples of the stored images are written and committed
// with the annotations' report. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"
#include "oiv4kv/writer.h"
#include "store/convert/annotation_staging.h"
#include "store/convert/converter.h"
#include "store/convert/source_files.h"
#include "store/convert/vocab_files.h"

namespace oiv4kv {

class AnnotationPass {
 public:
  // Reads `files` of `splits` as `request` says, into `writer`; `meter` may
  // be null. Sets summary->skip_cannot_help for errors skipping cannot help.
  AnnotationPass(const ConvertRequest& request, const SourceFiles& files,
                 const std::vector<Split>& splits, Writer* writer, ProgressMeter* meter,
                 ConvertSummary* summary);

  // Writes the vocabularies (when they changed) and the label order, and
  // stages every annotation CSV in the scratch database at `staging_path`.
  Status Stage(const std::string& staging_path);

  // Writes the example of every image stored in `config`, the annotations'
  // report, and commits the annotations. REQUIRES: Stage.
  Status WriteExamples(Config config);

  // Closes the scratch database (before the caller removes it).
  void Close() { staging_.reset(); }

 private:
  Status WriteVocabularies(const Vocabularies& v);

  const ConvertRequest& r_;
  const SourceFiles& files_;
  const std::vector<Split>& splits_;
  Writer* writer_;
  ProgressMeter* meter_;
  ConvertSummary* summary_;
  std::unique_ptr<AnnotationStaging> staging_;
  Vocabulary all_, boxable_;
  std::vector<int32_t> trainable_of_all_;
  LabelOrder label_order_ = LabelOrder::kDownload;
};

}  // namespace oiv4kv
