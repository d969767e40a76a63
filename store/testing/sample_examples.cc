#include "store/testing/sample_examples.h"

#include <algorithm>
#include <set>

#include "store/core/format/keys.h"
#include "store/synth/synth_vocab.h"

namespace oiv4kv {

SampleExampleGenerator::SampleExampleGenerator(uint64_t seed)
    : rng_(seed), annotations_(seed ^ 0xA11075A3F1E5ULL) {
  const synth::SynthClasses& c = synth::GetSynthClasses();
  vocab_.all = c.lists.tfds_all;
  vocab_.trainable = c.lists.tfds_trainable;
  vocab_.boxable = c.lists.tfds_boxable;
  vocab_.trainable_of_all = c.trainable_tfds;
  for (std::string_view s : kSourceNames) vocab_.source.push_back({std::string(s), ""});
}

ExampleData SampleExampleGenerator::Next(Split split, uint64_t image_id) {
  ExampleData e;
  e.split = split;
  e.image_id = image_id;
  e.filename = ImageIdHex(image_id) + ".jpg";
  synth::SplitRows rows;
  annotations_.AddImage(image_id, &rows);
  // Human rows before machine rows, as a converted store holds them.
  for (const synth::LabelRow& r : rows.human) {
    synth::AppendLabelRow(r, synth::ClassLists::kTfds, &e);
  }
  for (const synth::LabelRow& r : rows.machine) {
    synth::AppendLabelRow(r, synth::ClassLists::kTfds, &e);
  }
  for (const synth::BoxRow& r : rows.boxes) synth::AppendBoxRow(r, synth::ClassLists::kTfds, &e);
  return e;
}

std::vector<uint64_t> SampleExampleGenerator::ImageIds(size_t n) {
  std::set<uint64_t> ids;
  while (ids.size() < n) ids.insert(rng_());
  return {ids.begin(), ids.end()};
}

std::vector<uint8_t> SampleExampleGenerator::ImageBytes(size_t min, size_t max) {
  const size_t n = std::uniform_int_distribution<size_t>(std::max<size_t>(min, 4), max)(rng_);
  std::vector<uint8_t> bytes(n);
  for (auto& x : bytes) x = static_cast<uint8_t>(rng_());
  bytes[0] = 0xFF;  // SOI, then a marker's first byte: what a JPEG starts with
  bytes[1] = 0xD8;
  bytes[2] = 0xFF;
  bytes[n - 2] = 0xFF;
  bytes[n - 1] = 0xD9;
  return bytes;
}

}  // namespace oiv4kv
