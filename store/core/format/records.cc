#include "store/core/format/records.h"

#include <cstring>
#include <memory>

#include "schema/image_info_generated.h"
#include "schema/manifest_generated.h"
#include "schema/vocabulary_generated.h"

static_assert(FLATBUFFERS_LITTLEENDIAN,
              "records are read in place: little-endian hosts only");

namespace oiv4kv {
namespace {

// Vectors are omitted when empty: the reader treats a missing vector as empty.
template <typename T>
flatbuffers::Offset<flatbuffers::Vector<T>> MaybeVector(
    flatbuffers::FlatBufferBuilder* fbb, const std::vector<T>& v) {
  if (v.empty()) return 0;
  return fbb->CreateVector(v.data(), v.size());
}

Status CheckLabels(const ExampleData::Labels& l, std::string_view what) {
  if (l.confidence.size() != l.label.size() || l.source.size() != l.label.size()) {
    return Status::InvalidArgument(std::string(what) +
                                   ": label, confidence and source lengths differ");
  }
  return Status::OK();
}

flatbuffers::Offset<fb::ImageLabels> BuildLabels(flatbuffers::FlatBufferBuilder* fbb,
                                                 const ExampleData::Labels& l) {
  if (l.label.empty()) return 0;
  auto label = MaybeVector(fbb, l.label);
  auto confidence = MaybeVector(fbb, l.confidence);
  auto source = MaybeVector(fbb, l.source);
  return fb::CreateImageLabels(*fbb, label, confidence, source);
}

template <typename T>
size_t Size(const flatbuffers::Vector<T>* v) {
  return v == nullptr ? 0 : v->size();
}

bool LabelsConsistent(const fb::ImageLabels* l) {
  if (l == nullptr) return true;
  const size_t n = Size(l->label());
  return Size(l->confidence()) == n && Size(l->source()) == n;
}

bool BoxesConsistent(const fb::Boxes* b) {
  if (b == nullptr) return true;
  const size_t n = Size(b->label());
  return Size(b->source()) == n && Size(b->bbox()) == 4 * n &&
         Size(b->is_occluded()) == n && Size(b->is_truncated()) == n &&
         Size(b->is_group_of()) == n && Size(b->is_depiction()) == n &&
         Size(b->is_inside()) == n;
}

// Copies `value` to an 8-aligned buffer when it is not aligned, so the
// verifier and accessors see aligned data. Returns the aligned view.
std::span<const uint8_t> AlignedCopy(std::string_view value,
                                     std::unique_ptr<uint64_t[]>* storage) {
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  if (IsAligned(p)) return {p, value.size()};
  storage->reset(new uint64_t[(value.size() + 7) / 8]);
  std::memcpy(storage->get(), value.data(), value.size());
  return {reinterpret_cast<const uint8_t*>(storage->get()), value.size()};
}

}  // namespace

Status BuildExample(const ExampleData& e, flatbuffers::FlatBufferBuilder* fbb) {
  OIV4KV_RETURN_IF_ERROR(CheckLabels(e.objects, "objects"));
  OIV4KV_RETURN_IF_ERROR(CheckLabels(e.objects_trainable, "objects_trainable"));
  const auto& b = e.bobjects;
  const size_t n = b.label.size();
  if (b.source.size() != n || b.bbox.size() != 4 * n || b.is_occluded.size() != n ||
      b.is_truncated.size() != n || b.is_group_of.size() != n ||
      b.is_depiction.size() != n || b.is_inside.size() != n) {
    return Status::InvalidArgument(
        "bobjects: label, source, bbox (4 per box) and flag lengths differ");
  }
  fbb->Clear();
  auto filename = fbb->CreateString(e.filename);
  auto objects = BuildLabels(fbb, e.objects);
  auto trainable = BuildLabels(fbb, e.objects_trainable);
  flatbuffers::Offset<fb::Boxes> boxes = 0;
  if (n > 0) {
    boxes = fb::CreateBoxes(*fbb, MaybeVector(fbb, b.label), MaybeVector(fbb, b.source),
                            MaybeVector(fbb, b.bbox), MaybeVector(fbb, b.is_occluded),
                            MaybeVector(fbb, b.is_truncated),
                            MaybeVector(fbb, b.is_group_of),
                            MaybeVector(fbb, b.is_depiction),
                            MaybeVector(fbb, b.is_inside));
  }
  fb::FinishExampleBuffer(*fbb, fb::CreateExample(*fbb, filename, objects, trainable, boxes));
  return Status::OK();
}

Status ParseExample(std::span<const uint8_t> record, bool verify,
                    const fb::Example** out) {
  if (verify) {
    flatbuffers::Verifier verifier(record.data(), record.size());
    if (!fb::VerifyExampleBuffer(verifier)) {
      return Status::Corruption("annotation record fails FlatBuffers verification");
    }
    const fb::Example* ex = fb::GetExample(record.data());
    if (!LabelsConsistent(ex->objects()) ||
        !LabelsConsistent(ex->objects_trainable()) ||
        !BoxesConsistent(ex->bobjects())) {
      return Status::Corruption("annotation record has arrays of unequal length");
    }
    *out = ex;
    return Status::OK();
  }
  if (record.size() < 8 || !fb::ExampleBufferHasIdentifier(record.data())) {
    return Status::Corruption("not an annotation record (identifier OIVE missing)");
  }
  *out = fb::GetExample(record.data());
  return Status::OK();
}

void AppendImageValue(std::span<const uint8_t> bytes, const ImageMeta& meta,
                      std::string* out) {
  flatbuffers::FlatBufferBuilder fbb(64);
  fb::FinishImageInfoBuffer(
      fbb, fb::CreateImageInfo(fbb, meta.width, meta.height,
                               static_cast<fb::ImageFormat>(meta.format)));
  const uint32_t n = fbb.GetSize();
  out->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  out->append(reinterpret_cast<const char*>(fbb.GetBufferPointer()), n);
  const char size_le[4] = {static_cast<char>(n), static_cast<char>(n >> 8),
                           static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
  out->append(size_le, 4);
}

Status ParseImageValue(std::span<const uint8_t> value,
                       std::span<const uint8_t>* bytes, ImageMeta* meta) {
  // The ImageInfo FlatBuffer is tiny; anything larger is not ours.
  constexpr uint32_t kMaxInfoBytes = 256;
  if (value.size() < 4) return Status::Corruption("image value shorter than its trailer");
  const uint8_t* end = value.data() + value.size();
  const uint32_t n = uint32_t{end[-4]} | uint32_t{end[-3]} << 8 |
                     uint32_t{end[-2]} << 16 | uint32_t{end[-1]} << 24;
  if (n > kMaxInfoBytes || n + 4 > value.size()) {
    return Status::Corruption("image value has a bad metadata size");
  }
  alignas(kRecordAlignment) uint8_t info_buf[kMaxInfoBytes];
  std::memcpy(info_buf, end - 4 - n, n);
  flatbuffers::Verifier verifier(info_buf, n);
  if (!fb::VerifyImageInfoBuffer(verifier)) {
    return Status::Corruption("image metadata fails FlatBuffers verification");
  }
  const fb::ImageInfo* info = fb::GetImageInfo(info_buf);
  meta->width = info->width();
  meta->height = info->height();
  meta->format = static_cast<ImageFormat>(info->format());
  *bytes = value.first(value.size() - 4 - n);
  return Status::OK();
}

std::string EncodeVocabulary(VocabKind kind, const std::vector<VocabEntry>& entries) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::VocabEntry>> offsets;
  offsets.reserve(entries.size());
  for (const VocabEntry& e : entries) {
    offsets.push_back(fb::CreateVocabEntry(fbb, fbb.CreateString(e.mid),
                                           fbb.CreateString(e.display_name)));
  }
  auto name = fbb.CreateString(VocabKindName(kind));
  fb::FinishVocabularyBuffer(fbb,
                             fb::CreateVocabulary(fbb, name, fbb.CreateVector(offsets)));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

Status DecodeVocabulary(std::string_view value, std::vector<VocabEntry>* entries) {
  std::unique_ptr<uint64_t[]> storage;
  auto buf = AlignedCopy(value, &storage);
  flatbuffers::Verifier verifier(buf.data(), buf.size());
  if (!fb::VerifyVocabularyBuffer(verifier)) {
    return Status::Corruption("vocabulary fails FlatBuffers verification");
  }
  const fb::Vocabulary* v = fb::GetVocabulary(buf.data());
  entries->clear();
  if (v->entries() == nullptr) return Status::OK();
  entries->reserve(v->entries()->size());
  for (const fb::VocabEntry* e : *v->entries()) {
    entries->push_back({e->mid() ? e->mid()->str() : std::string(),
                        e->display_name() ? e->display_name()->str() : std::string()});
  }
  return Status::OK();
}

namespace {

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::SplitCount>>>
BuildCounts(flatbuffers::FlatBufferBuilder* fbb,
            const std::array<std::optional<uint64_t>, kNumSplits>& counts) {
  std::vector<flatbuffers::Offset<fb::SplitCount>> v;
  for (int i = 0; i < kNumSplits; ++i) {
    if (counts[i]) v.push_back(fb::CreateSplitCount(*fbb, i, *counts[i]));
  }
  return fbb->CreateVector(v);
}

Status ReadCounts(const flatbuffers::Vector<flatbuffers::Offset<fb::SplitCount>>* v,
                  std::array<std::optional<uint64_t>, kNumSplits>* counts) {
  counts->fill(std::nullopt);
  if (v == nullptr) return Status::OK();
  for (const fb::SplitCount* c : *v) {
    if (c->split() >= kNumSplits) return Status::Corruption("manifest names an unknown split");
    (*counts)[c->split()] = c->num_examples();
  }
  return Status::OK();
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::ConfigInfo>> configs;
  for (const ConfigManifest& c : m.configs) {
    const ConversionOptions& o = c.options;
    const std::string_view on_error = o.on_error ? ErrorPolicyName(*o.on_error) : "";
    auto options = fb::CreateConvertOptions(fbb, fbb.CreateString(o.source), o.threads,
                                            fbb.CreateString(on_error), o.max_pixels,
                                            fbb.CreateString(o.label_lists));
    std::vector<flatbuffers::Offset<fb::Problem>> problems;
    for (const Problem& p : c.report.problems) {
      problems.push_back(fb::CreateProblem(fbb, fbb.CreateString(p.where),
                                           fbb.CreateString(p.reason)));
    }
    auto report = fb::CreateConvertReport(fbb, fbb.CreateVector(problems),
                                          c.report.orphan_annotation_rows);
    configs.push_back(fb::CreateConfigInfo(fbb, fbb.CreateString(ConfigName(c.config)),
                                           c.complete, BuildCounts(&fbb, c.num_images),
                                           options, report));
  }
  auto root = fb::CreateManifest(
      fbb, m.schema_version, fbb.CreateString(m.writer_version),
      static_cast<fb::LabelOrder>(m.label_order), m.annotations_complete,
      BuildCounts(&fbb, m.num_examples), fbb.CreateVector(configs),
      m.updated_unix_seconds);
  fb::FinishManifestBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

Status DecodeManifest(std::string_view value, Manifest* m) {
  std::unique_ptr<uint64_t[]> storage;
  auto buf = AlignedCopy(value, &storage);
  flatbuffers::Verifier verifier(buf.data(), buf.size());
  if (!fb::VerifyManifestBuffer(verifier)) {
    return Status::Corruption("manifest fails FlatBuffers verification");
  }
  const fb::Manifest* f = fb::GetManifest(buf.data());
  *m = Manifest();
  m->schema_version = f->schema_version();
  m->writer_version = Str(f->writer_version());
  m->label_order = static_cast<LabelOrder>(f->label_order());
  m->annotations_complete = f->annotations_complete();
  m->updated_unix_seconds = f->updated_unix_seconds();
  OIV4KV_RETURN_IF_ERROR(ReadCounts(f->splits(), &m->num_examples));
  if (f->configs() == nullptr) return Status::OK();
  for (const fb::ConfigInfo* c : *f->configs()) {
    ConfigManifest cm;
    auto config = ParseConfig(Str(c->name()));
    if (!config) return Status::Corruption("manifest names unknown config '" + Str(c->name()) + "'");
    cm.config = *config;
    cm.complete = c->complete();
    OIV4KV_RETURN_IF_ERROR(ReadCounts(c->num_images(), &cm.num_images));
    if (const fb::ConvertOptions* o = c->options()) {
      cm.options = {Str(o->source()), o->threads(), std::nullopt, o->max_pixels(),
                    Str(o->label_lists())};
      // Written as ErrorPolicyName's text; empty when not recorded.
      if (const std::string text = Str(o->on_error()); !text.empty()) {
        cm.options.on_error = ParseErrorPolicy(text);
        if (!cm.options.on_error) {
          return Status::Corruption("manifest: config " + Str(c->name()) +
                                    " records unknown on_error '" + text + "' (want " +
                                    JoinNames(ErrorPolicyNames()) + ")");
        }
      }
    }
    if (const fb::ConvertReport* r = c->report()) {
      cm.report.orphan_annotation_rows = r->orphan_annotation_rows();
      if (r->problems() != nullptr) {
        for (const fb::Problem* p : *r->problems()) {
          cm.report.problems.push_back({Str(p->where()), Str(p->reason())});
        }
      }
    }
    m->configs.push_back(std::move(cm));
  }
  return Status::OK();
}

std::string EncodeIndex(std::span<const uint64_t> ids) {
  std::string out(ids.size() * 8, '\0');
  // An empty split's span may hold a null pointer, which memcpy must not get.
  if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());  // little-endian host
  return out;
}

Status DecodeIndex(std::string_view value, std::vector<uint64_t>* ids) {
  if (value.size() % 8 != 0) return Status::Corruption("split index size is not a multiple of 8");
  ids->resize(value.size() / 8);
  if (!ids->empty()) std::memcpy(ids->data(), value.data(), value.size());
  for (size_t i = 1; i < ids->size(); ++i) {
    if ((*ids)[i - 1] >= (*ids)[i]) return Status::Corruption("split index is not strictly ascending");
  }
  return Status::OK();
}

}  // namespace oiv4kv
