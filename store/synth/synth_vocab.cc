#include "store/synth/synth_vocab.h"

#include <algorithm>
#include <array>
#include <random>
#include <set>
#include <string_view>

namespace oiv4kv::synth {
namespace {

// Freebase MIDs: "/m/0" then digits, consonants and '_'.
constexpr std::string_view kMidAlphabet = "0123456789bcdfghjklmnpqrstvwxyz_";

// The pair the real download's boxable list has in the other order than
// TFDS's (tests/data/tfds_vocab/README.md).
constexpr std::string_view kSwappedA = "/m/09f20";
constexpr std::string_view kSwappedB = "/m/09f_2";

constexpr std::array<std::string_view, 96> kNouns = {
    "apple",    "bicycle",  "bird",     "boat",      "book",   "bottle",     "bowl",     "bread",
    "bridge",   "building", "bus",      "butterfly", "cake",   "camera",     "candle",   "car",
    "castle",   "cat",      "chair",    "cheese",    "clock",  "cloud",      "coffee",   "cookie",
    "cup",      "desk",     "dog",      "door",      "dress",  "drum",       "duck",     "engine",
    "fence",    "flower",   "fork",     "fountain",  "frog",   "garden",     "glove",    "guitar",
    "hammer",   "hat",      "helmet",   "horse",     "house",  "jacket",     "jar",      "kettle",
    "kite",     "knife",    "ladder",   "lamp",      "leaf",   "lighthouse", "lion",     "mirror",
    "mountain", "mug",      "necklace", "orange",    "owl",    "paddle",     "painting", "pen",
    "piano",    "pillow",   "plate",    "pumpkin",   "rabbit", "river",      "rocket",   "rose",
    "saddle",   "sandwich", "scarf",    "shelf",     "ship",   "shoe",       "skirt",    "sofa",
    "spoon",    "stadium",  "statue",   "street",    "table",  "tent",       "tower",    "train",
    "tree",     "truck",    "umbrella", "vase",      "violin", "wall",       "window",   "wheel"};
constexpr std::array<std::string_view, 40> kAdjectives = {
    "antique", "baby",     "black",   "blue",    "brass",   "ceramic", "classic",  "coastal",
    "cotton",  "electric", "folding", "garden",  "glass",   "golden",  "green",    "hand",
    "hot",     "iron",     "kitchen", "leather", "little",  "marine",  "mountain", "musical",
    "night",   "office",   "old",     "paper",   "plastic", "red",     "road",     "royal",
    "sea",     "silver",   "sports",  "steel",   "street",  "water",   "white",    "wooden"};
// Names with letters outside ASCII, as the real list has a few.
constexpr std::array<std::string_view, 6> kUtf8Names = {"Crème brûlée", "Jalapeño", "Café au lait",
                                                        "Smörgåsbord",  "Piñata",   "Pâté"};

std::string Capitalized(std::string_view word) {
  std::string s(word);
  if (!s.empty()) s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string DisplayName(std::mt19937_64& rng) {
  auto pick = [&](const auto& words) {
    return words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)];
  };
  const int form = std::uniform_int_distribution<int>(0, 99)(rng);
  if (form < 40) return Capitalized(pick(kNouns));
  if (form < 80) return Capitalized(pick(kAdjectives)) + " " + std::string(pick(kNouns));
  return Capitalized(pick(kNouns)) + " " + std::string(pick(kNouns));
}

std::string RandomMid(std::mt19937_64& rng) {
  static constexpr std::array<int, 5> kLengths = {3, 4, 5, 6, 7};
  static constexpr std::array<double, 5> kWeights = {10, 35, 30, 5, 20};
  std::discrete_distribution<int> length(kWeights.begin(), kWeights.end());
  const int n = kLengths[length(rng)];
  std::uniform_int_distribution<size_t> any(0, kMidAlphabet.size() - 1);
  std::uniform_int_distribution<size_t> no_underscore(0, kMidAlphabet.size() - 2);
  std::string mid = "/m/0";
  for (int i = 0; i < n; ++i) mid += kMidAlphabet[i == 0 ? no_underscore(rng) : any(rng)];
  return mid;
}

// TFDS's trainable and boxable lists are sorted as if '_' were absent.
bool TfdsLess(const std::string& a, const std::string& b) {
  auto strip = [](const std::string& s) {
    std::string t;
    for (char c : s) {
      if (c != '_') t += c;
    }
    return t;
  };
  const std::string sa = strip(a), sb = strip(b);
  return sa != sb ? sa < sb : a < b;
}

SynthClasses Build() {
  std::mt19937_64 rng(0x0A1B2C3D4E5F6071ULL);  // fixed: the vocabulary is not seeded
  std::set<std::string> mids = {std::string(kSwappedA), std::string(kSwappedB)};
  while (mids.size() < kNumAllClasses) mids.insert(RandomMid(rng));
  std::vector<std::string> order(mids.begin(), mids.end());
  std::sort(order.begin(), order.end(), TfdsLess);

  SynthClasses c;
  auto& all = c.lists.tfds_all;
  for (const std::string& mid : order) all.push_back({mid, DisplayName(rng)});
  // CSV quoting cases: commas, double quotes, both; and UTF-8 names.
  std::uniform_int_distribution<size_t> any_class(0, kNumAllClasses - 1);
  for (int i = 0; i < 200; ++i) {
    std::string& name = all[any_class(rng)].display_name;
    if (name.find_first_of(",\"") != std::string::npos) continue;
    switch (i % 4) {
      case 0:
      case 1:
        name += ", " + std::string(kNouns[i % kNouns.size()]);
        break;
      case 2:
        name += " \"" + std::string(kAdjectives[i % kAdjectives.size()]) + "\"";
        break;
      case 3:
        name = "\"" + name + "\", " + std::string(kNouns[i % kNouns.size()]);
        break;
    }
  }
  for (std::string_view name : kUtf8Names) all[any_class(rng)].display_name = name;
  c.lists.download_all = all;

  // Boxable classes are nearly all trainable, as in the real lists; both
  // halves of the swapped pair are boxable and trainable.
  std::vector<uint32_t> shuffled(kNumAllClasses);
  for (uint32_t i = 0; i < kNumAllClasses; ++i) shuffled[i] = i;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto index_of = [&](std::string_view mid) {
    for (uint32_t i = 0; i < kNumAllClasses; ++i) {
      if (all[i].mid == mid) return i;
    }
    return uint32_t{0};
  };
  const uint32_t swap_a = index_of(kSwappedA), swap_b = index_of(kSwappedB);
  std::vector<bool> is_trainable(kNumAllClasses), is_boxable(kNumAllClasses);
  is_trainable[swap_a] = is_trainable[swap_b] = true;
  is_boxable[swap_a] = is_boxable[swap_b] = true;
  size_t num_trainable = 2, num_boxable = 2;
  for (uint32_t i : shuffled) {
    if (num_trainable == kNumTrainableClasses) break;
    if (!is_trainable[i]) is_trainable[i] = true, ++num_trainable;
  }
  std::bernoulli_distribution mostly_trainable(0.9);
  for (uint32_t i : shuffled) {
    if (num_boxable == kNumBoxableClasses) break;
    if (!is_boxable[i] && is_trainable[i] == mostly_trainable(rng)) {
      is_boxable[i] = true, ++num_boxable;
    }
  }
  for (uint32_t i = 0; i < kNumAllClasses; ++i) {
    if (is_trainable[i]) c.trainable.push_back(i);
    if (is_boxable[i]) c.boxable.push_back(i);
  }

  // TFDS order for both; the download's boxable list swaps the pair, its
  // trainable list is in plain byte order of the MIDs.
  std::vector<uint32_t> tfds_trainable = c.trainable, tfds_boxable = c.boxable;
  std::vector<uint32_t> download_trainable = c.trainable;
  std::sort(download_trainable.begin(), download_trainable.end(),
            [&](uint32_t a, uint32_t b) { return all[a].mid < all[b].mid; });
  std::vector<uint32_t> download_boxable = tfds_boxable;
  std::iter_swap(std::find(download_boxable.begin(), download_boxable.end(), swap_a),
                 std::find(download_boxable.begin(), download_boxable.end(), swap_b));

  auto fill = [&](const std::vector<uint32_t>& list, std::vector<VocabEntry>* entries,
                  std::vector<int32_t>* index) {
    index->assign(kNumAllClasses, -1);
    for (uint32_t k : list) {
      (*index)[k] = static_cast<int32_t>(entries->size());
      entries->push_back(all[k]);
    }
  };
  fill(tfds_trainable, &c.lists.tfds_trainable, &c.trainable_tfds);
  fill(download_trainable, &c.lists.download_trainable, &c.trainable_download);
  fill(tfds_boxable, &c.lists.tfds_boxable, &c.boxable_tfds);
  fill(download_boxable, &c.lists.download_boxable, &c.boxable_download);
  return c;
}

}  // namespace

const SynthClasses& GetSynthClasses() {
  static const SynthClasses classes = Build();
  return classes;
}

std::string CsvField(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace oiv4kv::synth
