// AnnotationIndex: where each example's annotation record lies in the
// store's mmap'ed annotation tables, found once at open by a walk with a
// pinned RocksDB iterator, so that a lookup is an array access instead of a
// RocksDB Get (the Get path costs ~1 us of bookkeeping per call; figures in
// store/core/format/layout.cc).
//
// The walk reads every block once (verifying its checksum when asked) and
// checks that the keys are exactly the splits' id lists, in order. The
// iterator is kept open with ReadOptions::pin_data, whose contract keeps every
// value it returned valid while it lives; the annotation tables are
// uncompressed and read without a block cache, so the pinned values are the
// mmap'ed file pages themselves (shared page cache, no private copy).
//
// Thread-safe after Build: lookups are const reads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <rocksdb/db.h>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

class AnnotationIndex {
 public:
  // Walks `family` of `db`, whose keys must be exactly ids[s] for each split
  // s in key order. Corruption names the first key that differs or the block
  // whose checksum fails. `ids` must outlive the index.
  static Status Build(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                      const std::array<std::vector<uint64_t>, kNumSplits>& ids,
                      bool verify_checksums, std::unique_ptr<AnnotationIndex>* out);

  ~AnnotationIndex();

  // The record of example `index` of `split`. REQUIRES: index < the split's
  // count. Valid as long as the index.
  std::span<const uint8_t> Record(Split split, uint64_t index) const {
    const Entry& e = entries_[static_cast<int>(split)][index];
    return {e.data, e.size};
  }

 private:
  AnnotationIndex() = default;

  struct Entry {  // one cache line holds four: a lookup misses once
    const uint8_t* data;
    uint32_t size;
  };
  std::unique_ptr<rocksdb::Iterator> pinned_;  // owns every pinned block
  std::array<std::vector<Entry>, kNumSplits> entries_;
};

// Finds an image id's position in a split's ascending id list: a directory
// on the id's top bits narrows the binary search to one bucket of ~8 ids (ids
// are hashes, so they spread evenly; any spread stays correct, only slower).
// Thread-safe after construction.
class IdLookup {
 public:
  IdLookup() = default;
  // `ids` ascending, fewer than 2^32; must outlive the lookup.
  explicit IdLookup(std::span<const uint64_t> ids);

  // The index of `id`, or false if absent.
  bool Find(uint64_t id, uint64_t* index) const;

 private:
  std::span<const uint64_t> ids_;
  int shift_ = 64;                      // bucket of id: id >> shift_
  std::vector<uint32_t> bucket_start_;  // 2^(64 - shift_) + 1 entries
};

}  // namespace oiv4kv
