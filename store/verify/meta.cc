// Manifest and vocabularies: the records of the meta and vocab families that
// the later phases check the store against.
#include "oiv4kv/version.h"
#include "oiv4kv/vocabulary.h"
#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {

bool ReadManifest(Check* check, Manifest* manifest) {
  std::string value;
  const std::string where = "meta/" + std::string(kManifestKey);
  Status s = check->Get(Family::kMeta, kManifestKey, &value);
  if (s.IsNotFound()) {
    check->AddProblem(where, "missing: no conversion ever committed");
  } else if (!s.ok()) {
    check->AddProblem(where, s.message());
  } else if (Status d = DecodeManifest(value, manifest); !d.ok()) {
    check->AddProblem(where, d.message());
    *manifest = Manifest();
  } else if (manifest->schema_version != kSchemaVersion) {
    check->AddProblem(where, "schema version " + std::to_string(manifest->schema_version) +
                                 ", this library reads version " + std::to_string(kSchemaVersion) +
                                 ": records not checked");
    return false;
  } else if (!manifest->annotations_complete) {
    check->AddProblem(where,
                      "the annotations were never committed (conversion interrupted? run "
                      "`oiv4-kv convert` again to resume)");
  }
  for (const ConfigManifest& c : manifest->configs) {
    if (!c.complete) {
      check->report->notes.push_back(
          "config " + std::string(ConfigName(c.config)) +
          " is being converted (not complete): its images are not checked");
    }
  }
  return true;
}

Vocabularies ReadVocabularies(Check* check) {
  Vocabularies vocab;
  std::array<std::vector<VocabEntry>, kNumVocabKinds> entries;
  for (int k = 0; k < kNumVocabKinds; ++k) {
    const auto kind = static_cast<VocabKind>(k);
    const std::string where = "vocab/" + std::string(VocabKindName(kind));
    std::string value;
    Status s = check->Get(Family::kVocab, VocabKindName(kind), &value);
    if (s.IsNotFound()) {
      check->AddProblem(where, "missing");
      continue;
    }
    if (s.ok()) s = DecodeVocabulary(value, &entries[k]);
    if (!s.ok()) {
      check->AddProblem(where, s.message());
      continue;
    }
    if (kind == VocabKind::kSource) {
      bool same = entries[k].size() == kSourceNames.size();
      for (size_t i = 0; same && i < entries[k].size(); ++i) {
        same = entries[k][i].mid == kSourceNames[i];
      }
      if (!same) check->AddProblem(where, "is not TFDS's six sources in order");
    }
    vocab.size[k] = entries[k].size();
  }
  if (vocab.size[0] && vocab.size[1]) {
    const Vocabulary trainable(std::move(entries[1]));
    vocab.trainable_of_all.assign(entries[0].size(), -1);
    for (size_t i = 0; i < entries[0].size(); ++i) {
      if (auto t = trainable.Find(entries[0][i].mid)) {
        vocab.trainable_of_all[i] = static_cast<int32_t>(*t);
      }
    }
  }
  return vocab;
}

}  // namespace oiv4kv::verify
