// The stored values' parsers (store/core/format/records.h) on any bytes. The
// first input byte picks which:
//  - 0..3 (mostly): an annotation record through the verifier
//    (ViewFactory::MakeExample with verify, as Store reads it; the rest of
//    the input is placed at an odd address half of the time, to take the
//    copy for alignment), then a full traversal of the view: the file name
//    and every element of every array of objects, objects_trainable and
//    bobjects, whose parallel arrays must agree in length;
//  - 4: an image value (ParseImageValue): the bytes it returns lie inside
//    the value;
//  - 5: a vocabulary (DecodeVocabulary), which must encode back to the
//    same entries;
//  - 6: a manifest (DecodeManifest); 7: a split index (DecodeIndex).
#include <cstring>
#include <memory>
#include <vector>

#include "oiv4kv/image_id.h"
#include "store/core/format/records.h"
#include "store/core/format/view_factory.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using oiv4kv::Status;

volatile uint64_t g_sink;  // keeps the traversal's reads

template <typename T>
uint64_t Sum(std::span<const T> s) {
  uint64_t sum = 0;
  for (const T& v : s) {
    T copy;
    std::memcpy(&copy, &v, sizeof(T));
    sum += static_cast<uint64_t>(copy);
  }
  return sum;
}

void Labels(const oiv4kv::LabelsView& l) {
  FUZZ_CHECK(l.confidence.size() == l.size() && l.source.size() == l.size(),
             "labels %zu, confidences %zu, sources %zu", l.size(), l.confidence.size(),
             l.source.size());
  g_sink = g_sink + Sum(l.label) + Sum(l.confidence) + Sum(l.source);
}

void Example(std::span<const uint8_t> value) {
  oiv4kv::ExampleView view;
  const Status s = oiv4kv::ViewFactory::MakeExample(nullptr, value, oiv4kv::Split::kTrain,
                                                    0x0123456789abcdef, true, &view);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
    FUZZ_CHECK(s.ToString().find(oiv4kv::ExampleName(oiv4kv::Split::kTrain,
                                                     0x0123456789abcdef)) != std::string::npos,
               "the error names no example: %s", s.ToString().c_str());
    return;
  }
  FUZZ_CHECK(view.valid() && view.record().size() == value.size(), "view of %zu bytes",
             view.record().size());
  const std::string_view name = view.filename();
  uint64_t sum = 0;
  for (char c : name) sum += static_cast<uint8_t>(c);
  Labels(view.objects());
  Labels(view.objects_trainable());
  const oiv4kv::BoxesView b = view.bobjects();
  const size_t n = b.size();
  FUZZ_CHECK(b.source.size() == n && b.bbox.size() == 4 * n && b.is_occluded.size() == n &&
                 b.is_truncated.size() == n && b.is_group_of.size() == n &&
                 b.is_depiction.size() == n && b.is_inside.size() == n,
             "boxes of unequal arrays (%zu labels, %zu coordinates)", n, b.bbox.size());
  for (size_t i = 0; i < n; ++i) {
    for (float v : b.box(i)) sum += static_cast<uint64_t>(v == v);
  }
  sum += Sum(b.label) + Sum(b.source) + Sum(b.is_occluded) + Sum(b.is_truncated) +
         Sum(b.is_group_of) + Sum(b.is_depiction) + Sum(b.is_inside);
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oiv4kv::fuzz::Input in(data, size);
  const uint8_t mode = in.Byte();
  const std::span<const uint8_t> rest = in.rest();
  // An 8-aligned copy, or one at an odd address (bit 3 of the mode).
  std::unique_ptr<uint64_t[]> storage(new uint64_t[rest.size() / 8 + 2]);
  uint8_t* at = reinterpret_cast<uint8_t*>(storage.get()) + ((mode & 8) ? 1 : 0);
  if (!rest.empty()) std::memcpy(at, rest.data(), rest.size());
  const std::span<const uint8_t> value(at, rest.size());
  const std::string_view text(reinterpret_cast<const char*>(at), rest.size());

  switch (mode & 7) {
    case 4: {
      std::span<const uint8_t> bytes;
      oiv4kv::ImageMeta meta;
      const Status s = oiv4kv::ParseImageValue(value, &bytes, &meta);
      if (!s.ok()) {
        FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
        break;
      }
      FUZZ_CHECK(bytes.data() == value.data() && bytes.size() + 4 <= value.size(),
                 "image bytes outside the value");
      g_sink = g_sink + Sum(bytes) + meta.width + meta.height;
      break;
    }
    case 5: {
      std::vector<oiv4kv::VocabEntry> entries;
      const Status s = oiv4kv::DecodeVocabulary(text, &entries);
      if (!s.ok()) {
        FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
        break;
      }
      std::vector<oiv4kv::VocabEntry> again;
      const Status r = oiv4kv::DecodeVocabulary(
          oiv4kv::EncodeVocabulary(oiv4kv::VocabKind::kAll, entries), &again);
      FUZZ_CHECK(r.ok() && again.size() == entries.size(), "re-encoded vocabulary: %s",
                 r.ToString().c_str());
      for (size_t i = 0; i < entries.size(); ++i) {
        FUZZ_CHECK(again[i].mid == entries[i].mid &&
                       again[i].display_name == entries[i].display_name,
                   "entry %zu differs once re-encoded", i);
      }
      break;
    }
    case 6: {
      oiv4kv::Manifest manifest;
      const Status s = oiv4kv::DecodeManifest(text, &manifest);
      if (!s.ok()) {
        FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
        break;
      }
      oiv4kv::Manifest again;
      const Status r = oiv4kv::DecodeManifest(oiv4kv::EncodeManifest(manifest), &again);
      FUZZ_CHECK(r.ok(), "re-encoded manifest: %s", r.ToString().c_str());
      FUZZ_CHECK(oiv4kv::EncodeManifest(again) == oiv4kv::EncodeManifest(manifest),
                 "the manifest changes once re-encoded");
      break;
    }
    case 7: {
      std::vector<uint64_t> ids;
      const Status s = oiv4kv::DecodeIndex(text, &ids);
      if (!s.ok()) {
        FUZZ_CHECK(s.IsCorruption(), "%s", s.ToString().c_str());
        break;
      }
      FUZZ_CHECK(oiv4kv::EncodeIndex(ids) == text, "the index changes once re-encoded");
      break;
    }
    default:
      Example(value);
  }
  return 0;
}
