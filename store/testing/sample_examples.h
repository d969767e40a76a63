// Realistic Open Images V4 annotations for tests and benchmarks, as
// ExampleData: the project's one annotation model, synth's (store/synth:
// the synthetic vocabulary of the real sizes, synth_vocab.h, and the rows
// AnnotationGenerator draws with the real train split's statistics, ~16
// human-verified and ~45 machine-generated image-level labels and ~8.4
// boxes per image, synth_annotations.h), numbered in TFDS's class lists.
// Deterministic for a seed. Not thread-safe: one generator per thread.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "oiv4kv/vocabulary.h"
#include "oiv4kv/writer.h"
#include "store/synth/synth_annotations.h"

namespace oiv4kv {

// Synth's class lists in TFDS's order (the same for every seed).
struct SampleVocabularies {
  std::vector<VocabEntry> all;        // 19,995 classes
  std::vector<VocabEntry> trainable;  // 7,186, a subset of all
  std::vector<VocabEntry> boxable;    // 601, a subset of all
  std::vector<VocabEntry> source;     // kSourceNames
  // For each class of `all`: its index in `trainable`, or -1.
  std::vector<int32_t> trainable_of_all;
};

class SampleExampleGenerator {
 public:
  explicit SampleExampleGenerator(uint64_t seed);

  const SampleVocabularies& vocabularies() const { return vocab_; }

  // One example of `split` with the given id and realistic annotations:
  // what a store converted from a synthetic download holds for the rows
  // synth's AnnotationGenerator draws for the image.
  ExampleData Next(Split split, uint64_t image_id);

  // `n` distinct random image ids, ascending.
  std::vector<uint64_t> ImageIds(size_t n);

  // Random bytes that start like a JPEG, `min`..`max` long.
  std::vector<uint8_t> ImageBytes(size_t min, size_t max);

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  synth::AnnotationGenerator annotations_;
  SampleVocabularies vocab_;
};

}  // namespace oiv4kv
