// Zero-copy views of stored records, returned by Store.
//
// A view points into the store's mmap'ed files (annotation records found by
// the store's index, image values pinned by RocksDB), or owns RocksDB's pinned
// value, so nothing is copied between the store and the caller; the one
// exception is an annotation record whose address is not 8-byte aligned,
// which FlatBuffers needs: the view owns an aligned copy of it. Views are
// move-only; moving a view keeps every span valid because the bytes it points
// into do not move.
//
// REQUIRES: the Store outlives every view it returned.
// Lifetime: spans are valid until the view is destroyed or assigned to.
// Thread safety: not thread-safe; distinct views may be used concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"

namespace oiv4kv {

namespace internal {
// pimpl: the pinned RocksDB value a view owns (store/core/format/view_factory.h).
struct PinnedValue;
}  // namespace internal

// Image-level labels (`objects` or `objects_trainable`): parallel arrays.
struct LabelsView {
  std::span<const uint16_t> label;      // index in the all or trainable list
  std::span<const uint8_t> confidence;  // int(Confidence * 10): 0..10
  std::span<const uint8_t> source;      // index in kSourceNames

  size_t size() const { return label.size(); }
};

// Bounding boxes (`bobjects`): parallel arrays; bbox is N x 4 row-major
// (ymin, xmin, ymax, xmax), normalized.
struct BoxesView {
  std::span<const uint16_t> label;  // index in the boxable list
  std::span<const uint8_t> source;
  std::span<const float> bbox;      // 4 * size() floats
  std::span<const int8_t> is_occluded;  // 1, 0, or -1 (unknown)
  std::span<const int8_t> is_truncated;
  std::span<const int8_t> is_group_of;
  std::span<const int8_t> is_depiction;
  std::span<const int8_t> is_inside;

  size_t size() const { return label.size(); }
  // The i-th box. REQUIRES: i < size().
  std::span<const float, 4> box(size_t i) const {
    return std::span<const float, 4>(bbox.data() + 4 * i, 4);
  }
};

// The annotations of one example.
class OIV4KV_EXPORT ExampleView {
 public:
  ExampleView();
  ~ExampleView();
  ExampleView(ExampleView&&) noexcept;
  ExampleView& operator=(ExampleView&&) noexcept;
  ExampleView(const ExampleView&) = delete;
  ExampleView& operator=(const ExampleView&) = delete;

  // False for a default-constructed or moved-from view.
  bool valid() const { return record_ != nullptr; }

  Split split() const { return split_; }
  uint64_t image_id() const { return image_id_; }
  // "<16 hex digits>.jpg"
  std::string_view filename() const;
  LabelsView objects() const;
  LabelsView objects_trainable() const;
  BoxesView bobjects() const;

  // The serialized FlatBuffers record (schema/example.fbs), 8-byte aligned.
  std::span<const uint8_t> record() const;

 private:
  // store/core/format/view_factory.h: Store builds views only through it.
  friend struct ViewFactory;

  std::unique_ptr<internal::PinnedValue> pin_;  // null when bytes_ is in the store
  std::unique_ptr<uint64_t[]> aligned_;         // the copy of a misaligned record
  std::span<const uint8_t> bytes_;              // the record, 8-aligned
  const void* record_ = nullptr;                // const fb::Example*
  Split split_ = Split::kTrain;
  uint64_t image_id_ = 0;
};

// One stored image of one config: the encoded bytes and their metadata.
class OIV4KV_EXPORT ImageView {
 public:
  ImageView();
  ~ImageView();
  ImageView(ImageView&&) noexcept;
  ImageView& operator=(ImageView&&) noexcept;
  ImageView(const ImageView&) = delete;
  ImageView& operator=(const ImageView&) = delete;

  bool valid() const { return pin_ != nullptr; }

  Split split() const { return split_; }
  uint64_t image_id() const { return image_id_; }
  Config config() const { return config_; }
  // The encoded image (JPEG, or for `original` whatever the archive held),
  // zero-copy: any alignment.
  std::span<const uint8_t> bytes() const { return bytes_; }
  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }
  ImageFormat format() const { return format_; }

 private:
  // store/core/format/view_factory.h: Store builds views only through it.
  friend struct ViewFactory;

  std::unique_ptr<internal::PinnedValue> pin_;
  std::span<const uint8_t> bytes_;
  uint32_t width_ = 0;
  uint32_t height_ = 0;
  ImageFormat format_ = ImageFormat::kUnknown;
  Config config_ = Config::kOriginal;
  Split split_ = Split::kTrain;
  uint64_t image_id_ = 0;
};

}  // namespace oiv4kv
