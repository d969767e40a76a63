#include "store/core/label_index.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"

namespace oiv4kv {
namespace {

constexpr uint8_t kMagic = 'L';
constexpr uint8_t kVersion = 1;
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

void LabelIndexBuilder::Append(Postings* p, uint64_t index, uint64_t value, LabelList list) {
  const uint64_t gap = index - static_cast<uint64_t>(p->last + 1);
  if (list == LabelList::kBoxes) {
    PutVarint(gap << 1 | (value > 1 ? 1 : 0), &p->bytes);
    if (value > 1) PutVarint(value - 2, &p->bytes);
  } else {
    PutVarint(gap * kConfidenceLevels + value, &p->bytes);
  }
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
      Append(&boxes_[label], index, box_count_[label], LabelList::kBoxes);
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
      Append(&labels_[label], index, confidence_[label], LabelList::kImageLevel);
      confidence_[label] = 0;
    }
  }
  return Status::OK();
}

std::string LabelIndexBuilder::Finish(LabelList list) const {
  const std::vector<Postings>& postings = list == LabelList::kBoxes ? boxes_ : labels_;
  std::string out;
  out.push_back(static_cast<char>(kMagic));
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(list));
  PutVarint(num_examples_, &out);
  PutVarint(postings.size(), &out);
  size_t total = 0;
  for (const Postings& p : postings) {
    PutVarint(p.entries, &out);
    if (p.entries > 0) PutVarint(p.bytes.size(), &out);  // none for an absent class
    total += p.bytes.size();
  }
  out.reserve(out.size() + total);
  for (const Postings& p : postings) out += p.bytes;
  return out;
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
    return bad("version " + std::to_string(static_cast<uint8_t>(value[1])) +
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
  const std::string_view bytes =
      data_.substr(offsets_[label], offsets_[label + 1] - offsets_[label]);
  size_t pos = 0;
  uint64_t next = 0;  // the smallest index the next entry may have
  for (uint64_t e = 0; e < counts_[label]; ++e) {
    uint64_t v = 0;
    if (!GetVarint(bytes, &pos, &v)) {
      return Status::Corruption("label index: postings of label " + std::to_string(label) +
                                " are truncated");
    }
    uint64_t gap;
    uint64_t value;
    if (list_ == LabelList::kBoxes) {
      gap = v >> 1;
      value = 1;
      if ((v & 1) != 0) {
        if (!GetVarint(bytes, &pos, &value)) {
          return Status::Corruption("label index: postings of label " + std::to_string(label) +
                                    " are truncated");
        }
        value += 2;
      }
    } else {
      gap = v / kConfidenceLevels;
      value = v % kConfidenceLevels;
    }
    const uint64_t index = next + gap;
    if (index >= num_examples_ || index < next || value > UINT32_MAX) {
      return Status::Corruption("label index: label " + std::to_string(label) +
                                " lists example " + std::to_string(index) + " of " +
                                std::to_string(num_examples_));
    }
    fn(index, static_cast<uint32_t>(value));
    next = index + 1;
  }
  if (pos != bytes.size()) {
    return Status::Corruption("label index: postings of label " + std::to_string(label) +
                              " hold bytes past their entries");
  }
  return Status::OK();
}

Status LabelPostings::Decode(size_t label, uint32_t min_value,
                             std::vector<uint64_t>* indices) const {
  return ForEach(label, [&](uint64_t index, uint32_t value) {
    if (value >= min_value) indices->push_back(index);
  });
}

}  // namespace oiv4kv
