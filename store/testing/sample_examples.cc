#include "store/testing/sample_examples.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "store/core/format/keys.h"

namespace oiv4kv {
namespace {

constexpr size_t kNumAll = 19'995;
constexpr size_t kNumTrainable = 7'186;
constexpr size_t kNumBoxable = 601;

std::string Mid(size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "/m/0%05zx", i * 7 + 11);
  return buf;
}

// `n` distinct indices of [0, total), in the order drawn.
std::vector<size_t> Choose(std::mt19937_64& rng, size_t total, size_t n) {
  std::vector<size_t> all(total);
  for (size_t i = 0; i < total; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(n);
  return all;
}

int Poisson(std::mt19937_64& rng, double mean) {
  return std::poisson_distribution<int>(mean)(rng);
}

}  // namespace

SampleExampleGenerator::SampleExampleGenerator(uint64_t seed) : rng_(seed) {
  for (size_t i = 0; i < kNumAll; ++i) {
    vocab_.all.push_back({Mid(i), "Class " + std::to_string(i)});
  }
  vocab_.trainable_of_all.assign(kNumAll, -1);
  for (size_t i : Choose(rng_, kNumAll, kNumTrainable)) {
    vocab_.trainable_of_all[i] = static_cast<int32_t>(vocab_.trainable.size());
    vocab_.trainable.push_back(vocab_.all[i]);
  }
  for (size_t i : Choose(rng_, kNumAll, kNumBoxable)) {
    vocab_.boxable.push_back(vocab_.all[i]);
  }
  for (std::string_view s : kSourceNames) vocab_.source.push_back({std::string(s), ""});
}

ExampleData SampleExampleGenerator::Next(Split split, uint64_t image_id) {
  ExampleData e;
  e.split = split;
  e.image_id = image_id;
  e.filename = ImageIdHex(image_id) + ".jpg";
  std::uniform_int_distribution<size_t> any_class(0, kNumAll - 1);
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> machine_conf(5, 10);
  auto add = [&](uint16_t label, uint8_t confidence, uint8_t source) {
    e.objects.label.push_back(label);
    e.objects.confidence.push_back(confidence);
    e.objects.source.push_back(source);
    const int32_t t = vocab_.trainable_of_all[label];
    if (t >= 0) {
      e.objects_trainable.label.push_back(static_cast<uint16_t>(t));
      e.objects_trainable.confidence.push_back(confidence);
      e.objects_trainable.source.push_back(source);
    }
  };
  // Human-verified: sources verification / crowdsource-verification,
  // confidence 0 or 1 (stored as 0 or 10).
  for (int i = Poisson(rng_, 16.0); i > 0; --i) {
    add(static_cast<uint16_t>(any_class(rng_)), coin(rng_) ? 10 : 0,
        static_cast<uint8_t>(coin(rng_)));
  }
  // Machine-generated: source machine, confidence 0.5..1.0.
  for (int i = Poisson(rng_, 45.0); i > 0; --i) {
    add(static_cast<uint16_t>(any_class(rng_)),
        static_cast<uint8_t>(machine_conf(rng_)), 2);
  }
  std::uniform_int_distribution<size_t> any_boxable(0, kNumBoxable - 1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_int_distribution<int> flag(-1, 1);
  auto& b = e.bobjects;
  for (int i = Poisson(rng_, 8.4); i > 0; --i) {
    b.label.push_back(static_cast<uint16_t>(any_boxable(rng_)));
    b.source.push_back(coin(rng_) ? 4 : 5);  // xclick or activemil
    float x0 = unit(rng_), x1 = unit(rng_), y0 = unit(rng_), y1 = unit(rng_);
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    b.bbox.insert(b.bbox.end(), {y0, x0, y1, x1});
    b.is_occluded.push_back(static_cast<int8_t>(flag(rng_)));
    b.is_truncated.push_back(static_cast<int8_t>(flag(rng_)));
    b.is_group_of.push_back(static_cast<int8_t>(flag(rng_)));
    b.is_depiction.push_back(static_cast<int8_t>(flag(rng_)));
    b.is_inside.push_back(static_cast<int8_t>(flag(rng_)));
  }
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
