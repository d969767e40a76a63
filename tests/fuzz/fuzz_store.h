// The small store loader_state_fuzz resumes loaders on, and fuzz_seeds
// takes real loader states from: 40 train, 12 validation and 8 test
// examples from the sample generator, and an `original` config whose images
// are the generator's random bytes (Loader::Resume reads no image).
#pragma once

#include <memory>
#include <string>

#include "oiv4kv/loader.h"
#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/testing/sample_examples.h"

namespace oiv4kv::fuzz {

inline Status WriteFuzzStore(const std::string& path) {
  SampleExampleGenerator gen(1);
  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(path, WriterOptions(), &writer));
  const SampleVocabularies& v = gen.vocabularies();
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kAll, v.all));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kTrainable, v.trainable));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kBoxable, v.boxable));
  OIV4KV_RETURN_IF_ERROR(writer->PutVocabulary(VocabKind::kSource, v.source));
  OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(Config::kOriginal));
  Batch batch;
  const size_t counts[] = {40, 12, 8};
  for (Split split : kAllSplits) {
    for (uint64_t id : gen.ImageIds(counts[static_cast<int>(split)])) {
      OIV4KV_RETURN_IF_ERROR(batch.AddExample(gen.Next(split, id)));
      OIV4KV_RETURN_IF_ERROR(batch.AddImage(Config::kOriginal, split, id, gen.ImageBytes(16, 64),
                                            ImageMeta{8, 8, ImageFormat::kJpeg}));
    }
  }
  OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
  OIV4KV_RETURN_IF_ERROR(writer->CommitAnnotations(LabelOrder::kTfds, kAllSplits));
  return writer->CommitConfig(Config::kOriginal);
}

// The loader options the fuzz target resumes with (batches of 4, shuffled).
inline LoaderOptions FuzzLoaderOptions() {
  LoaderOptions o;
  o.scan.config = Config::kOriginal;
  o.scan.batch_size = 4;
  o.scan.seed = 7;
  o.scan.block_size = 8;
  o.transform.width = o.transform.height = 32;
  o.threads = 1;
  return o;
}

}  // namespace oiv4kv::fuzz
