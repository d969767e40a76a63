// Counts and split indexes: each split's example count in the manifest and
// its index in the meta family against the annotation keys, exactly.
#include <algorithm>

#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {

void CheckIndexes(Check* check, const Manifest& manifest, const AnnotationKeys& keys) {
  if (!keys.complete) return;  // the keys are not all known
  for (Split split : kAllSplits) {
    const auto& count = manifest.num_examples[static_cast<int>(split)];
    const std::vector<uint64_t>& ids = keys.ids[static_cast<int>(split)];
    const std::string name(SplitName(split));
    const std::string where = "meta/" + IndexKey(split);
    std::string value;
    Status s = check->Get(Family::kMeta, IndexKey(split), &value);
    if (!count) {
      if (!ids.empty()) {
        check->AddProblem("annotations", "holds " + std::to_string(ids.size()) + " " + name +
                                             " examples, a split the manifest does not list");
      }
      if (s.ok()) check->AddProblem(where, "present, but the manifest lists no " + name + " split");
      continue;
    }
    if (*count != ids.size()) {
      check->AddProblem("meta/manifest", "counts " + std::to_string(*count) + " " + name +
                                             " examples, the annotations family holds " +
                                             std::to_string(ids.size()));
    }
    if (s.IsNotFound()) {
      check->AddProblem(where, "missing");
      continue;
    }
    std::vector<uint64_t> index;
    if (s.ok()) s = DecodeIndex(value, &index);
    if (!s.ok()) {
      check->AddProblem(where, s.message());
      continue;
    }
    if (index == ids) continue;
    auto [a, b] = std::mismatch(index.begin(), index.end(), ids.begin(), ids.end());
    std::string first;
    if (a != index.end() && (b == ids.end() || *a < *b)) {
      first = "it lists " + ImageIdHex(*a) + ", which has no record";
    } else {
      first = "it lacks " + ImageIdHex(*b) + ", which has a record";
    }
    check->AddProblem(where, "holds " + std::to_string(index.size()) + " ids, the annotations " +
                                 std::to_string(ids.size()) + " " + name + " examples; " + first);
  }
}

}  // namespace oiv4kv::verify
