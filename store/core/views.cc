#include "oiv4kv/views.h"

#include <cstring>

#include "store/core/format/keys.h"
#include "store/core/format/records.h"
#include "store/core/format/view_factory.h"

namespace oiv4kv {
namespace {

template <typename T>
std::span<const T> Span(const flatbuffers::Vector<T>* v) {
  if (v == nullptr) return {};
  return {v->data(), v->size()};
}

LabelsView Labels(const fb::ImageLabels* l) {
  if (l == nullptr) return {};
  return {Span(l->label()), Span(l->confidence()), Span(l->source())};
}

const fb::Example* Root(const void* record) {
  return static_cast<const fb::Example*>(record);
}

}  // namespace

ExampleView::ExampleView() = default;
ExampleView::~ExampleView() = default;
ExampleView::ExampleView(ExampleView&&) noexcept = default;
ExampleView& ExampleView::operator=(ExampleView&&) noexcept = default;

std::string_view ExampleView::filename() const {
  const flatbuffers::String* s = Root(record_)->filename();
  return s == nullptr ? std::string_view() : s->string_view();
}

LabelsView ExampleView::objects() const { return Labels(Root(record_)->objects()); }

LabelsView ExampleView::objects_trainable() const {
  return Labels(Root(record_)->objects_trainable());
}

BoxesView ExampleView::bobjects() const {
  const fb::Boxes* b = Root(record_)->bobjects();
  if (b == nullptr) return {};
  return {Span(b->label()),        Span(b->source()),       Span(b->bbox()),
          Span(b->is_occluded()),  Span(b->is_truncated()), Span(b->is_group_of()),
          Span(b->is_depiction()), Span(b->is_inside())};
}

std::span<const uint8_t> ExampleView::record() const { return bytes_; }

ImageView::ImageView() = default;
ImageView::~ImageView() = default;
ImageView::ImageView(ImageView&&) noexcept = default;
ImageView& ImageView::operator=(ImageView&&) noexcept = default;

Status ViewFactory::MakeExample(std::unique_ptr<internal::PinnedValue> pin,
                                std::span<const uint8_t> value, Split split,
                                uint64_t image_id, bool verify, ExampleView* out) {
  ExampleView view;
  if (IsAligned(value.data())) {
    view.bytes_ = value;
  } else {
    // One allocation, no initialization: the copy overwrites it.
    view.aligned_.reset(new uint64_t[(value.size() + 7) / 8]);
    std::memcpy(view.aligned_.get(), value.data(), value.size());
    view.bytes_ = {reinterpret_cast<const uint8_t*>(view.aligned_.get()), value.size()};
  }
  view.pin_ = std::move(pin);
  const fb::Example* root = nullptr;
  Status s = ParseExample(view.bytes_, verify, &root);
  if (!s.ok()) return s.WithContext(ExampleName(split, image_id));
  view.record_ = root;
  view.split_ = split;
  view.image_id_ = image_id;
  *out = std::move(view);
  return Status::OK();
}

Status ViewFactory::MakeImage(std::unique_ptr<internal::PinnedValue> pin, Config config,
                              Split split, uint64_t image_id, ImageView* out) {
  const rocksdb::PinnableSlice& v = pin->slice;
  std::span<const uint8_t> value(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  std::span<const uint8_t> bytes;
  ImageMeta meta;
  Status s = ParseImageValue(value, &bytes, &meta);
  if (!s.ok()) {
    return s.WithContext(std::string(ConfigName(config)) + " image " +
                         ExampleName(split, image_id));
  }
  ImageView view;
  view.pin_ = std::move(pin);
  view.bytes_ = bytes;
  view.width_ = meta.width;
  view.height_ = meta.height;
  view.format_ = meta.format;
  view.config_ = config;
  view.split_ = split;
  view.image_id_ = image_id;
  *out = std::move(view);
  return Status::OK();
}

}  // namespace oiv4kv
