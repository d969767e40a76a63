// The label index (store/core/label_index.h) against the records: each
// split's lists are rebuilt from its annotation records and compared with
// the stored ones; a difference names the split, the list and the first
// class whose examples differ. A store without an index (converted before
// it existed) gets a note, not a problem: it is complete without one.
#include <map>

#include "oiv4kv/image_id.h"

#include "store/core/format/records.h"
#include "store/core/label_index.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {
namespace {

struct Entries {
  std::vector<uint64_t> index;
  std::vector<uint32_t> value;
  bool operator==(const Entries&) const = default;
};

Status Decode(const LabelPostings& p, size_t label, Entries* out) {
  return p.ForEach(label, [&](uint64_t i, uint32_t v) {
    out->index.push_back(i);
    out->value.push_back(v);
  });
}

}  // namespace

void CheckLabelIndex(Check* check, const Manifest& manifest, const AnnotationKeys& keys,
                     const Vocabularies& vocab) {
  if (!keys.complete) return;
  std::array<std::vector<VocabEntry>, kNumVocabKinds> names;
  for (VocabKind kind : {VocabKind::kBoxable, VocabKind::kAll}) {
    std::string value;
    if (!vocab.size[static_cast<int>(kind)] ||
        !check->Get(Family::kVocab, VocabKindName(kind), &value).ok() ||
        !DecodeVocabulary(value, &names[static_cast<int>(kind)]).ok()) {
      return;  // a problem already: nothing to compare the index with
    }
  }
  std::vector<std::string> unindexed;
  for (Split split : kAllSplits) {
    if (!manifest.num_examples[static_cast<int>(split)]) continue;
    std::array<std::string, kNumLabelLists> stored;
    std::array<bool, kNumLabelLists> present{};
    for (LabelList list : kAllLabelLists) {
      const Status s = check->Get(Family::kMeta, LabelIndexKey(split, list),
                                  &stored[static_cast<int>(list)]);
      present[static_cast<int>(list)] = s.ok();
      if (!s.ok() && !s.IsNotFound()) {
        check->AddProblem("meta/" + LabelIndexKey(split, list), s.message());
      }
    }
    if (!present[0] && !present[1]) {
      unindexed.emplace_back(SplitName(split));
      continue;
    }
    std::array<std::string, kNumLabelLists> built;
    const Status s = BuildLabelIndex(
        check->db.db.get(), check->db.family(Family::kAnnotations), split,
        keys.ids[static_cast<int>(split)], names[static_cast<int>(VocabKind::kBoxable)].size(),
        names[static_cast<int>(VocabKind::kAll)].size(), {}, &built);
    if (!s.ok()) {
      check->report->notes.push_back("the label index of " + std::string(SplitName(split)) +
                                     " was not checked: its records cannot be read (" +
                                     s.message() + ")");
      continue;
    }
    for (LabelList list : kAllLabelLists) {
      const int l = static_cast<int>(list);
      const std::string where = "meta/" + LabelIndexKey(split, list);
      if (!present[l]) {
        check->AddProblem(where, "missing, while the split's other list is there (run `oiv4-kv "
                                 "index " + check->path + "`)");
        continue;
      }
      if (stored[l] == built[l]) continue;
      LabelPostings want, have;
      if (Status p = LabelPostings::Parse(stored[l], list, &have); !p.ok()) {
        if (p.IsNotSupported()) {  // an older format: not damage, but readers refuse it
          check->report->notes.push_back(where + ": " + p.message() + ": run `oiv4-kv index " +
                                         check->path + "` to rebuild it");
        } else {
          check->AddProblem(where, p.message());
        }
        continue;
      }
      if (!LabelPostings::Parse(built[l], list, &want).ok()) continue;  // cannot happen
      if (have.num_examples() != want.num_examples() || have.num_labels() != want.num_labels()) {
        check->AddProblem(where, "indexes " + std::to_string(have.num_examples()) +
                                     " examples and " + std::to_string(have.num_labels()) +
                                     " classes; the split has " +
                                     std::to_string(want.num_examples()) + " and the list " +
                                     std::to_string(want.num_labels()));
        continue;
      }
      const std::vector<VocabEntry>& classes = names[static_cast<int>(LabelListVocab(list))];
      bool found = false;
      for (size_t label = 0; label < want.num_labels() && !found; ++label) {
        Entries a, b;
        const Status da = Decode(have, label, &a);
        (void)Decode(want, label, &b);
        if (da.ok() && a == b) continue;
        found = true;
        std::string reason = std::string(SplitName(split)) + " split, " +
                             std::string(VocabKindName(LabelListVocab(list))) + " class " +
                             std::to_string(label) + " '" + classes[label].display_name + "' (" +
                             classes[label].mid + "): ";
        if (!da.ok()) {
          reason += da.message();
        } else {
          reason += "the index lists " + std::to_string(a.index.size()) +
                    " examples, the records " + std::to_string(b.index.size());
          size_t k = 0;
          while (k < a.index.size() && k < b.index.size() && a.index[k] == b.index[k] &&
                 a.value[k] == b.value[k]) {
            ++k;
          }
          const bool in_index = k < a.index.size() && (k >= b.index.size() || a.index[k] <= b.index[k]);
          const uint64_t at = in_index ? a.index[k] : b.index[k];
          reason += "; first difference at example " + std::to_string(at) + " (" +
                    ImageIdHex(keys.ids[static_cast<int>(split)][at]) + ")";
        }
        check->AddProblem(where, reason + " (run `oiv4-kv index " + check->path + "` to rebuild it)");
      }
      if (!found) check->AddProblem(where, "its bytes differ from the index of the records");
    }
  }
  if (!unindexed.empty()) {
    check->report->notes.push_back("no label index for " + JoinNames(unindexed) +
                                   " (converted before queries existed): run `oiv4-kv index " +
                                   check->path + "` to build it");
  }
}

}  // namespace oiv4kv::verify
