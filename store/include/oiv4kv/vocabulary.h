// Vocabulary: one class list (or the source list) of a store, held in memory:
// index <-> MID <-> display name. Thread-safe: immutable once built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oiv4kv/export.h"

namespace oiv4kv {

// One entry as a writer supplies it. For the source list, `mid` is the
// source name and `display_name` is empty.
struct VocabEntry {
  std::string mid;
  std::string display_name;
};

class OIV4KV_EXPORT Vocabulary {
 public:
  Vocabulary() = default;
  explicit Vocabulary(std::vector<VocabEntry> entries);
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;
  Vocabulary(Vocabulary&&) = default;
  Vocabulary& operator=(Vocabulary&&) = default;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // REQUIRES: index < size().
  std::string_view mid(size_t index) const { return entries_[index].mid; }
  std::string_view display_name(size_t index) const {
    return entries_[index].display_name;
  }
  const std::vector<VocabEntry>& entries() const { return entries_; }

  // The index of `mid`, or nullopt if it is not in the list.
  std::optional<uint32_t> Find(std::string_view mid) const;

 private:
  std::vector<VocabEntry> entries_;
  // Keys view entries_' strings; std::string moves keep their heap buffers,
  // but short (SSO) strings would move, so keys are owned copies.
  std::unordered_map<std::string, uint32_t> index_;
};

}  // namespace oiv4kv
