#include "store/core/annotation_index.h"

#include <algorithm>
#include <bit>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"

namespace oiv4kv {

Status AnnotationIndex::Build(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                              const std::array<std::vector<uint64_t>, kNumSplits>& ids,
                              bool verify_checksums, std::unique_ptr<AnnotationIndex>* out) {
  std::unique_ptr<AnnotationIndex> index(new AnnotationIndex());
  rocksdb::ReadOptions read_options;
  // "Keep the blocks loaded by the iterator pinned in memory as long as the
  // iterator is not deleted" (rocksdb/options.h): the values live in them.
  read_options.pin_data = true;
  read_options.verify_checksums = verify_checksums;
  read_options.fill_cache = false;
  index->pinned_.reset(db->NewIterator(read_options, family));
  rocksdb::Iterator* it = index->pinned_.get();
  it->SeekToFirst();
  for (Split split : kAllSplits) {
    const std::vector<uint64_t>& want = ids[static_cast<int>(split)];
    std::vector<Entry>& entries = index->entries_[static_cast<int>(split)];
    entries.resize(want.size());
    for (size_t i = 0; i < want.size(); ++i, it->Next()) {
      const std::string expected = ExampleName(split, want[i]);
      if (!it->Valid()) {
        OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), "annotations near " + expected));
        return Status::Corruption("annotations: no record for " + expected +
                                  ", which the split's index lists");
      }
      const Key key = EncodeKey(split, want[i]);
      if (it->key() != rocksdb::Slice(key.data(), key.size())) {
        Split got_split;
        uint64_t got_id;
        const std::string got = DecodeKey(it->key().ToStringView(), &got_split, &got_id)
                                    ? ExampleName(got_split, got_id)
                                    : "a malformed key";
        return Status::Corruption("annotations: found " + got + " where the split's index lists " +
                                  expected);
      }
      const rocksdb::Slice v = it->value();
      entries[i] = {reinterpret_cast<const uint8_t*>(v.data()), static_cast<uint32_t>(v.size())};
    }
  }
  if (it->Valid()) {
    Split split;
    uint64_t id;
    const std::string extra = DecodeKey(it->key().ToStringView(), &split, &id)
                                  ? ExampleName(split, id)
                                  : "a malformed key";
    return Status::Corruption("annotations: record " + extra + " is in no split's index");
  }
  OIV4KV_RETURN_IF_ERROR(FromRocks(it->status(), "annotations"));
  *out = std::move(index);
  return Status::OK();
}

AnnotationIndex::~AnnotationIndex() = default;

IdLookup::IdLookup(std::span<const uint64_t> ids) : ids_(ids) {
  // ~8 ids a bucket: bits = floor(log2(n / 8)), at least 0.
  const int bits = ids.size() < 16 ? 0 : std::bit_width(ids.size() / 8) - 1;
  shift_ = 64 - bits;
  const uint64_t buckets = uint64_t{1} << bits;
  bucket_start_.resize(buckets + 1);
  uint32_t i = 0;
  for (uint64_t b = 0; b < buckets; ++b) {
    bucket_start_[b] = i;
    while (i < ids.size() && (bits == 0 ? 0 : ids[i] >> shift_) == b) ++i;
  }
  bucket_start_[buckets] = static_cast<uint32_t>(ids.size());
}

bool IdLookup::Find(uint64_t id, uint64_t* index) const {
  const uint64_t b = shift_ == 64 ? 0 : id >> shift_;
  const uint64_t* first = ids_.data() + bucket_start_[b];
  const uint64_t* last = ids_.data() + bucket_start_[b + 1];
  const uint64_t* p = std::lower_bound(first, last, id);
  if (p == last || *p != id) return false;
  *index = static_cast<uint64_t>(p - ids_.data());
  return true;
}

}  // namespace oiv4kv
