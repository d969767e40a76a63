#include "oiv4kv/vocabulary.h"

namespace oiv4kv {

Vocabulary::Vocabulary(std::vector<VocabEntry> entries) : entries_(std::move(entries)) {
  index_.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    index_.emplace(entries_[i].mid, static_cast<uint32_t>(i));  // first wins
  }
}

std::optional<uint32_t> Vocabulary::Find(std::string_view mid) const {
  auto it = index_.find(std::string(mid));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace oiv4kv
