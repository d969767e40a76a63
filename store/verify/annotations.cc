// Annotation records: every record through the FlatBuffers verifier, then
// its values against the vocabularies (labels, objects_trainable,
// confidences, sources, boxes, flags, the filename).
#include <cstring>

#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/verify/phases.h"

namespace oiv4kv::verify {
namespace {

std::string RecordName(Split split, uint64_t id) { return "annotations " + ExampleName(split, id); }

// objects_trainable must be the objects whose class is in the trainable
// list, in order, relabelled (docs/SPEC.md). REQUIRES: labels in range.
void CheckTrainable(const Vocabularies& vocab, const fb::Example& ex,
                    std::vector<std::string>* issues) {
  struct Entry {
    uint16_t label;
    uint8_t confidence, source;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> expected, actual;
  if (const fb::ImageLabels* o = ex.objects(); o != nullptr && o->label() != nullptr) {
    for (size_t i = 0; i < o->label()->size(); ++i) {
      const int32_t t = vocab.trainable_of_all[o->label()->Get(i)];
      if (t >= 0) {
        expected.push_back(
            {static_cast<uint16_t>(t), o->confidence()->Get(i), o->source()->Get(i)});
      }
    }
  }
  if (const fb::ImageLabels* t = ex.objects_trainable(); t != nullptr && t->label() != nullptr) {
    for (size_t i = 0; i < t->label()->size(); ++i) {
      actual.push_back({t->label()->Get(i), t->confidence()->Get(i), t->source()->Get(i)});
    }
  }
  if (expected == actual) return;
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  issues->push_back("objects_trainable differs from the objects whose class is trainable (" +
                    std::to_string(actual.size()) + " entries, " + std::to_string(expected.size()) +
                    " expected; first difference at " + std::to_string(i) + ")");
}

// "" if the values of `ex` are in range, else the first that is not (and
// how many more).
std::string CheckExample(const Vocabularies& vocab, const fb::Example& ex, uint64_t id) {
  std::vector<std::string> issues;
  auto issue = [&](std::string s) { issues.push_back(std::move(s)); };
  const std::string filename = ImageIdHex(id) + ".jpg";
  if (ex.filename() == nullptr || ex.filename()->string_view() != filename) {
    issue("filename is \"" + (ex.filename() ? ex.filename()->str() : std::string()) + "\", not " +
          filename);
  }
  const auto n = [](const auto* v) -> size_t { return v == nullptr ? 0 : v->size(); };
  auto check_labels = [&](const fb::ImageLabels* l, const char* what, VocabKind kind) {
    if (l == nullptr) return;
    const auto& size = vocab.size[static_cast<int>(kind)];
    for (size_t i = 0; i < n(l->label()); ++i) {
      const std::string at = std::string(what) + "[" + std::to_string(i) + "]";
      if (size && l->label()->Get(i) >= *size) {
        issue(at + ": label " + std::to_string(l->label()->Get(i)) + " is not in the " +
              std::string(VocabKindName(kind)) + " list of " + std::to_string(*size));
      }
      if (l->confidence()->Get(i) > 10) {
        issue(at + ": confidence " + std::to_string(l->confidence()->Get(i)) + " is over 10");
      }
      if (l->source()->Get(i) >= kSourceNames.size()) {
        issue(at + ": source " + std::to_string(l->source()->Get(i)) + " is not one of the " +
              std::to_string(kSourceNames.size()));
      }
    }
  };
  check_labels(ex.objects(), "objects", VocabKind::kAll);
  check_labels(ex.objects_trainable(), "objects_trainable", VocabKind::kTrainable);
  if (!vocab.trainable_of_all.empty() && issues.empty()) CheckTrainable(vocab, ex, &issues);
  if (const fb::Boxes* b = ex.bobjects()) {
    const auto& size = vocab.size[static_cast<int>(VocabKind::kBoxable)];
    for (size_t i = 0; i < n(b->label()); ++i) {
      const std::string at = "bobjects[" + std::to_string(i) + "]";
      if (size && b->label()->Get(i) >= *size) {
        issue(at + ": label " + std::to_string(b->label()->Get(i)) +
              " is not in the boxable list of " + std::to_string(*size));
      }
      if (b->source()->Get(i) >= kSourceNames.size()) {
        issue(at + ": source " + std::to_string(b->source()->Get(i)) + " is not one of the " +
              std::to_string(kSourceNames.size()));
      }
      float box[4];
      for (int k = 0; k < 4; ++k) box[k] = b->bbox()->Get(4 * i + k);
      for (int k = 0; k < 4; ++k) {
        if (!(box[k] >= 0.0f && box[k] <= 1.0f)) {
          static const char* kNames[4] = {"ymin", "xmin", "ymax", "xmax"};
          issue(at + ": " + kNames[k] + " " + std::to_string(box[k]) + " is not in [0, 1]");
        }
      }
      if (box[0] > box[2]) issue(at + ": ymin is above ymax");
      if (box[1] > box[3]) issue(at + ": xmin is above xmax");
      const std::pair<const char*, const flatbuffers::Vector<int8_t>*> flags[] = {
          {"is_occluded", b->is_occluded()},
          {"is_truncated", b->is_truncated()},
          {"is_group_of", b->is_group_of()},
          {"is_depiction", b->is_depiction()},
          {"is_inside", b->is_inside()}};
      for (const auto& [name, v] : flags) {
        const int f = v->Get(i);
        if (f < -1 || f > 1) {
          issue(at + ": " + name + " " + std::to_string(f) + " is not 1, 0 or -1");
        }
      }
    }
  }
  if (issues.empty()) return "";
  std::string out = issues[0];
  if (issues.size() > 1) out += " (and " + std::to_string(issues.size() - 1) + " more)";
  return out;
}

}  // namespace

AnnotationKeys CheckAnnotations(Check* check, const Vocabularies& vocab) {
  AnnotationKeys keys;
  PhaseProgress phase(check->progress, "annotations", "records",
                      check->FamilyBytes(Family::kAnnotations));
  std::vector<uint64_t> aligned;
  const rocksdb::Status scan =
      ForEachEntry(check, Family::kAnnotations, &phase, &check->report->records,
                   [&](Split split, uint64_t id, std::string_view value) {
                     keys.ids[static_cast<int>(split)].push_back(id);
                     std::span<const uint8_t> record = Bytes(value);
                     if (!IsAligned(record.data())) {
                       aligned.resize((record.size() + 7) / 8);
                       std::memcpy(aligned.data(), record.data(), record.size());
                       record = {reinterpret_cast<const uint8_t*>(aligned.data()), record.size()};
                     }
                     const fb::Example* ex = nullptr;
                     if (Status s = ParseExample(record, /*verify=*/true, &ex); !s.ok()) {
                       check->AddProblem(RecordName(split, id), s.message());
                       return;
                     }
                     if (std::string why = CheckExample(vocab, *ex, id); !why.empty()) {
                       check->AddProblem(RecordName(split, id), why);
                     }
                   });
  if (!scan.ok()) {
    check->AddProblem("annotations",
                      scan.ToString() + " (counts, indexes and images not compared with the keys)");
    keys.complete = false;
  }
  return keys;
}

}  // namespace oiv4kv::verify
