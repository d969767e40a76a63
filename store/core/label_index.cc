#include "store/core/label_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"

namespace oiv4kv {
namespace {

constexpr uint8_t kMagic = 'L';
constexpr uint8_t kVersion = 2;
constexpr uint32_t kConfidenceLevels = 11;  // 0..10

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at *pos of `s`; false if it runs past the end or is too long.
bool GetVarint(std::string_view s, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *pos < s.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(s[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Elias-Fano: the low bits each of `count` ascending indices below
// `universe` keeps verbatim, floor(log2(universe / count)).
int LowBits(uint64_t universe, uint64_t count) {
  if (count == 0 || universe <= count) return 0;
  return std::bit_width(universe / count) - 1;
}

// The byte sizes of one class's region (label_index.h).
struct Region {
  int low = 0;
  uint64_t low_bytes = 0;   // count * low bits
  uint64_t high_bytes = 0;  // count + (universe - 1 >> low) + 1 bits
  uint64_t flag_bytes = 0;  // boxes: one bit an entry, when a count is over 1
  uint64_t confidence_bytes = 0;  // image-level: 4 bits an entry
};

Region RegionOf(uint64_t universe, uint64_t count, LabelList list) {
  Region r;
  if (count == 0) return r;
  r.low = LowBits(universe, count);
  r.low_bytes = (count * static_cast<uint64_t>(r.low) + 7) / 8;
  r.high_bytes = (count + ((universe - 1) >> r.low) + 1 + 7) / 8;
  if (list == LabelList::kBoxes) {
    r.flag_bytes = (count + 7) / 8;
  } else {
    r.confidence_bytes = (count + 1) / 2;
  }
  return r;
}

void SetBits(uint64_t bit, uint64_t value, int width, char* out) {
  for (int b = 0; b < width; ++b) {
    if ((value >> b & 1) != 0) out[(bit + b) / 8] |= static_cast<char>(1 << ((bit + b) % 8));
  }
}

uint64_t GetBits(const uint8_t* in, uint64_t bit, int width) {
  uint64_t value = 0;
  for (int got = 0; got < width;) {
    const uint64_t at = bit + static_cast<uint64_t>(got);
    const int offset = static_cast<int>(at % 8);
    const int take = std::min(8 - offset, width - got);
    value |= static_cast<uint64_t>((in[at / 8] >> offset) & ((1u << take) - 1)) << got;
    got += take;
  }
  return value;
}

}  // namespace

VocabKind LabelListVocab(LabelList list) {
  return list == LabelList::kBoxes ? VocabKind::kBoxable : VocabKind::kAll;
}

std::string LabelIndexKey(Split split, LabelList list) {
  return "labels/" + std::string(SplitName(split)) + "/" +
         std::string(VocabKindName(LabelListVocab(list)));
}

LabelIndexBuilder::LabelIndexBuilder(size_t num_boxable, size_t num_all)
    : boxes_(num_boxable), labels_(num_all) {
  box_count_.assign(num_boxable, 0);
  confidence_.assign(num_all, 0);
}

void LabelIndexBuilder::Append(Postings* p, uint64_t index, uint64_t value) {
  // Staged as varint(gap), varint(value); Finish knows the split's size,
  // which Elias-Fano needs, and re-encodes.
  PutVarint(index - static_cast<uint64_t>(p->last + 1), &p->bytes);
  PutVarint(value, &p->bytes);
  p->last = static_cast<int64_t>(index);
  ++p->entries;
}

Status LabelIndexBuilder::Add(uint64_t index, const fb::Example& example) {
  if (index != num_examples_) {
    return Status::InvalidArgument("label index: example " + std::to_string(index) +
                                   " added after " + std::to_string(num_examples_));
  }
  ++num_examples_;
  touched_.clear();
  if (const fb::Boxes* b = example.bobjects(); b != nullptr && b->label() != nullptr) {
    for (uint16_t label : *b->label()) {
      if (label >= boxes_.size()) {
        return Status::Corruption("box label " + std::to_string(label) + " is outside the " +
                                  std::to_string(boxes_.size()) + "-class boxable list");
      }
      if (box_count_[label]++ == 0) touched_.push_back(label);
    }
    std::sort(touched_.begin(), touched_.end());
    for (uint16_t label : touched_) {
      Append(&boxes_[label], index, box_count_[label]);
      box_count_[label] = 0;
    }
  }
  touched_.clear();
  if (const fb::ImageLabels* o = example.objects(); o != nullptr && o->label() != nullptr) {
    const auto* conf = o->confidence();
    if (conf == nullptr || conf->size() != o->label()->size()) {
      return Status::Corruption("objects: labels and confidences differ in length");
    }
    for (size_t i = 0; i < o->label()->size(); ++i) {
      const uint16_t label = o->label()->Get(i);
      const uint8_t c = conf->Get(i);
      if (label >= labels_.size()) {
        return Status::Corruption("image-level label " + std::to_string(label) +
                                  " is outside the " + std::to_string(labels_.size()) +
                                  "-class list");
      }
      if (c >= kConfidenceLevels) {
        return Status::Corruption("confidence " + std::to_string(c) + " is outside 0..10");
      }
      if (c == 0) continue;  // a verified negative
      if (confidence_[label] == 0) touched_.push_back(label);
      confidence_[label] = std::max(confidence_[label], c);
    }
    std::sort(touched_.begin(), touched_.end());
    for (uint16_t label : touched_) {
      Append(&labels_[label], index, confidence_[label]);
      confidence_[label] = 0;
    }
  }
  return Status::OK();
}

std::string LabelIndexBuilder::EncodeRegion(const Postings& p, LabelList list) const {
  if (p.entries == 0) return {};
  const Region r = RegionOf(num_examples_, p.entries, list);
  std::string lows(r.low_bytes, '\0'), highs(r.high_bytes, '\0');
  std::string flags(r.flag_bytes, '\0'), extra, confidences(r.confidence_bytes, '\0');
  const uint64_t low_mask = (uint64_t{1} << r.low) - 1;
  size_t pos = 0;
  uint64_t next = 0;
  for (uint64_t i = 0; i < p.entries; ++i) {
    uint64_t gap = 0, value = 0;
    GetVarint(p.bytes, &pos, &gap);  // written by Append: well formed
    GetVarint(p.bytes, &pos, &value);
    const uint64_t index = next + gap;
    next = index + 1;
    SetBits(i * static_cast<uint64_t>(r.low), index & low_mask, r.low, lows.data());
    SetBits((index >> r.low) + i, 1, 1, highs.data());
    if (list == LabelList::kBoxes) {
      if (value > 1) {
        SetBits(i, 1, 1, flags.data());
        PutVarint(value - 2, &extra);
      }
    } else {
      SetBits(i * 4, value - 1, 4, confidences.data());
    }
  }
  if (list == LabelList::kImageLevel) return lows + highs + confidences;
  return extra.empty() ? lows + highs : lows + highs + flags + extra;
}

std::string LabelIndexBuilder::Finish(LabelList list) const {
  const std::vector<Postings>& postings = list == LabelList::kBoxes ? boxes_ : labels_;
  std::string out;
  out.push_back(static_cast<char>(kMagic));
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(list));
  PutVarint(num_examples_, &out);
  PutVarint(postings.size(), &out);
  std::string regions;
  for (const Postings& p : postings) {
    const std::string region = EncodeRegion(p, list);
    PutVarint(p.entries, &out);
    if (p.entries > 0) PutVarint(region.size(), &out);  // none for an absent class
    regions += region;
  }
  return out + regions;
}

Status BuildLabelIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, Split split,
                       std::span<const uint64_t> ids, size_t num_boxable, size_t num_all,
                       const std::function<void(uint64_t)>& progress,
                       std::array<std::string, kNumLabelLists>* values) {
  LabelIndexBuilder builder(num_boxable, num_all);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, family));
  const Key first = EncodeKey(split, 0);
  it->Seek(rocksdb::Slice(first.data(), first.size()));
  std::vector<uint64_t> aligned;
  for (uint64_t index = 0; index < ids.size(); ++index, it->Next()) {
    Split key_split;
    uint64_t id = 0;
    if (!it->Valid() || !DecodeKey(it->key().ToStringView(), &key_split, &id) ||
        key_split != split || id != ids[index]) {
      OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), "annotations"));
      return Status::Corruption("annotations: " + std::string(SplitName(split)) +
                                " example " + std::to_string(index) + " (" +
                                ExampleName(split, ids[index]) +
                                ") has no record where the split's index puts it");
    }
    const rocksdb::Slice v = it->value();
    std::span<const uint8_t> record(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    if (!IsAligned(record.data())) {
      aligned.resize((v.size() + 7) / 8);
      std::memcpy(aligned.data(), v.data(), v.size());
      record = {reinterpret_cast<const uint8_t*>(aligned.data()), v.size()};
    }
    const fb::Example* example = nullptr;
    Status s = ParseExample(record, /*verify=*/true, &example);
    if (s.ok()) s = builder.Add(index, *example);
    OIV4KV_RETURN_IF_ERROR(s.WithContext("example " + ExampleName(split, ids[index])));
    if (progress && (index + 1) % 4096 == 0) progress(index + 1);
  }
  OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), "annotations"));
  if (progress) progress(ids.size());
  for (LabelList list : kAllLabelLists) (*values)[static_cast<int>(list)] = builder.Finish(list);
  return Status::OK();
}

Status LabelPostings::Parse(std::string_view value, LabelList list, LabelPostings* out) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption("label index (" +
                              std::string(VocabKindName(LabelListVocab(list))) + "): " + why);
  };
  if (value.size() < 3 || static_cast<uint8_t>(value[0]) != kMagic) return bad("not a label index");
  if (static_cast<uint8_t>(value[1]) != kVersion) {
    // Not damage: an index in another format. Store::LabelIndex says to rebuild it.
    return Status::NotSupported(
        "label index (" + std::string(VocabKindName(LabelListVocab(list))) +
        ") is in format version " + std::to_string(static_cast<uint8_t>(value[1])) +
        ", this library reads version " + std::to_string(kVersion));
  }
  if (static_cast<uint8_t>(value[2]) != static_cast<uint8_t>(list)) return bad("of another kind");
  size_t pos = 3;
  uint64_t num_labels = 0;
  if (!GetVarint(value, &pos, &out->num_examples_) || !GetVarint(value, &pos, &num_labels) ||
      num_labels > value.size()) {
    return bad("truncated header");
  }
  out->list_ = list;
  out->counts_.assign(num_labels, 0);
  out->offsets_.assign(num_labels + 1, 0);
  for (uint64_t l = 0; l < num_labels; ++l) {
    uint64_t bytes = 0;
    if (!GetVarint(value, &pos, &out->counts_[l]) ||
        (out->counts_[l] > 0 && !GetVarint(value, &pos, &bytes)) || bytes > value.size()) {
      return bad("truncated directory");
    }
    if (out->counts_[l] > out->num_examples_) {
      return bad("class " + std::to_string(l) + " lists " + std::to_string(out->counts_[l]) +
                 " examples of " + std::to_string(out->num_examples_));
    }
    const Region r = RegionOf(out->num_examples_, out->counts_[l], list);
    const uint64_t indices = r.low_bytes + r.high_bytes;
    const bool fits = list == LabelList::kImageLevel
                          ? bytes == indices + r.confidence_bytes
                          : bytes == indices || bytes > indices + r.flag_bytes;
    if (!fits) {
      return bad("class " + std::to_string(l) + " has " + std::to_string(bytes) +
                 " bytes for " + std::to_string(out->counts_[l]) + " entries");
    }
    out->offsets_[l + 1] = out->offsets_[l] + bytes;
  }
  if (value.size() - pos != out->offsets_[num_labels]) {
    return bad("holds " + std::to_string(value.size() - pos) + " bytes of postings, its directory " +
               std::to_string(out->offsets_[num_labels]));
  }
  out->data_ = value.substr(pos);
  return Status::OK();
}

Status LabelPostings::ForEach(size_t label,
                              const std::function<void(uint64_t, uint32_t)>& fn) const {
  const uint64_t count = counts_[label];
  if (count == 0) return Status::OK();
  auto damaged = [&](const std::string& why) {
    return Status::Corruption("label index: postings of label " + std::to_string(label) + " " +
                              why);
  };
  // Parse checked the region's size against its count: no read runs past it.
  const auto* region = reinterpret_cast<const uint8_t*>(data_.data() + offsets_[label]);
  const uint64_t size = offsets_[label + 1] - offsets_[label];
  const Region r = RegionOf(num_examples_, count, list_);
  const uint8_t* lows = region;
  const uint8_t* highs = lows + r.low_bytes;
  const uint8_t* values = highs + r.high_bytes;  // flags or confidences
  const bool counts_over_1 = list_ == LabelList::kBoxes && size > r.low_bytes + r.high_bytes;
  const std::string_view extra =
      counts_over_1 ? std::string_view(reinterpret_cast<const char*>(values) + r.flag_bytes,
                                       size - r.low_bytes - r.high_bytes - r.flag_bytes)
                    : std::string_view();
  const uint64_t max_value = list_ == LabelList::kBoxes ? UINT32_MAX : kConfidenceLevels - 1;
  size_t extra_pos = 0;
  uint64_t i = 0;
  uint64_t next = 0;  // the smallest index the next entry may have
  for (uint64_t byte = 0; byte < r.high_bytes; ++byte) {
    for (unsigned bits = highs[byte]; bits != 0; bits &= bits - 1) {
      if (i == count) return damaged("hold more entries than their count");
      // The i-th set bit sits at high + i.
      const uint64_t high = byte * 8 + static_cast<uint64_t>(std::countr_zero(bits)) - i;
      const uint64_t index =
          high << r.low | GetBits(lows, i * static_cast<uint64_t>(r.low), r.low);
      uint64_t value = 1;
      if (list_ == LabelList::kImageLevel) {
        value = GetBits(values, i * 4, 4) + 1;
      } else if (counts_over_1 && GetBits(values, i, 1) != 0) {
        if (!GetVarint(extra, &extra_pos, &value) || value > UINT32_MAX - 2) {
          return damaged("are truncated");
        }
        value += 2;
      }
      if (index >= num_examples_ || index < next || value > max_value) {
        return damaged("list example " + std::to_string(index) + " of " +
                       std::to_string(num_examples_) + " (value " + std::to_string(value) + ")");
      }
      fn(index, static_cast<uint32_t>(value));
      next = index + 1;
      ++i;
    }
  }
  if (i != count) {
    return damaged("hold " + std::to_string(i) + " entries, their count " + std::to_string(count));
  }
  if (extra_pos != extra.size()) return damaged("hold bytes past their entries");
  return Status::OK();
}

Status LabelPostings::Decode(size_t label, uint32_t min_value,
                             std::vector<uint64_t>* indices) const {
  return ForEach(label, [&](uint64_t index, uint32_t value) {
    if (value >= min_value) indices->push_back(index);
  });
}

}  // namespace oiv4kv
