// The per-example geometry the Loader (oiv4kv/loader.h) applies, as pure
// functions: the random draws (TransformRng), the transform each example gets
// (PlanTransform -> TransformRecord) and boxes through it (MapBox). Public so
// that predictions can be mapped back to the source image and so that the
// transforms can be checked on their own.
//
// Randomness: every draw of an example is a pure function of (seed, epoch,
// split index, repeat) through TransformRng, a counter-based generator, so a
// loader's batches are the same bytes for any number of threads and any
// prefetch depth. `repeat` is the ordinal of the example's occurrence in the
// epoch (Scan::RepeatOrdinal: 0 but for the second and later occurrences of
// an image a sampler repeats), so repeats get their own crops and flips.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/export.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

// --- Random draws -----------------------------------------------------------

// The generator of one example's draws. Stream `stream` of example
// (seed, epoch, index) and occurrence `repeat` yields, for k = 1, 2, ...:
//   base = Mix64(Mix64(Mix64(seed) ^ epoch) ^ index)
//   base = Mix64(base ^ Mix64(repeat))          only when repeat > 0
//   key  = base ^ Mix64(stream)
//   x_k  = Mix64(key + k * 0x9e3779b97f4a7c15)
// (repeat 0 leaves the key as it was before repeats had one of their own).
// where Mix64 is splitmix64's finalizer (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
// z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31). Uniform() is
// (x_k >> 11) * 2^-53 in [0, 1); Below(n) is floor(Uniform() * n).
// Streams: kCropStream (RandomResizedCrop, jitter and crop offsets),
// kFlipStream (the flip: Uniform() < flip_probability).
class OIV4KV_EXPORT TransformRng {
 public:
  static constexpr uint64_t kCropStream = 1;
  static constexpr uint64_t kFlipStream = 2;

  TransformRng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream,
               uint64_t repeat = 0);
  uint64_t Next();
  double Uniform();                          // [0, 1)
  double Uniform(double low, double high);   // low + (high - low) * Uniform()
  uint64_t Below(uint64_t n);                // [0, n), REQUIRES n > 0

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

// --- Transforms -------------------------------------------------------------

enum class TransformKind : uint8_t {
  // torchvision RandomResizedCrop(size, scale, ratio): up to 10 draws of
  // area fraction ~ U(scale) and log aspect ratio ~ U(log ratio),
  // w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (round half
  // to even, as Python), accepted when 0 < w <= width and 0 < h <= height,
  // then top ~ Below(height - h + 1), left ~ Below(width - w + 1); after 10
  // failures the center crop of the whole image clamped to the ratio range.
  // The crop is resized to the output size.
  kRandomResizedCrop,
  // torchvision Resize(resize_shorter) + CenterCrop(size): the shorter side
  // becomes resize_shorter (the longer int(resize_shorter * long / short)),
  // then the center crop of the output size (top = round((H' - h) / 2)).
  kCenterCrop,
  // The whole image resized to the output size (aspect ratio not kept).
  kResize,
  // Detection: scale s0 = min(W / width, H / height) (the longest side fits)
  // times a jitter j ~ U(jitter_min, jitter_max) (1 when both are 1); the
  // scaled image is placed centred on the W x H canvas where it is smaller,
  // and where it is larger a W (or H) wide window of it is cut at an offset
  // drawn uniformly from the offsets whose window covers the boxes' extent
  // along that axis (when the extent fits, else those inside the extent;
  // any offset when there are no boxes). The rest is pad_value.
  kLetterbox,
};
inline constexpr std::array<TransformKind, 4> kAllTransformKinds = {
    TransformKind::kRandomResizedCrop, TransformKind::kCenterCrop, TransformKind::kResize,
    TransformKind::kLetterbox};
// "random_resized_crop", "center_crop", "resize", "letterbox" (the same
// style as SplitName/ParseSplit/SplitNames in dataset.h).
OIV4KV_EXPORT std::string_view TransformKindName(TransformKind kind);
OIV4KV_EXPORT std::optional<TransformKind> ParseTransformKind(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> TransformKindNames();

struct TransformOptions {
  TransformKind kind = TransformKind::kRandomResizedCrop;
  // Output size in pixels. Default 224 x 224.
  uint32_t width = 224, height = 224;
  // kRandomResizedCrop: area fraction and aspect-ratio (w / h) ranges.
  std::array<double, 2> scale = {0.08, 1.0};
  std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0};
  // kCenterCrop: the shorter side before the crop; 0: round(min(W, H) * 256 / 224).
  uint32_t resize_shorter = 0;
  // kLetterbox: scale jitter range (1, 1: none) and the padding's value.
  double jitter_min = 1.0, jitter_max = 1.0;
  uint8_t pad_value = 114;
  // Horizontal flip with this probability (kFlipStream). Default 0.5.
  double flip_probability = 0.5;
  // A box is dropped when less than this fraction of its area stays inside
  // the output content after clipping. Default 0.25.
  double min_box_area_kept = 0.25;
};

// The transform applied to one example: output pixel (ox, oy) of the
// content, 0 <= ox - pad_x < content_width, samples the source at
//   x = crop_x + (ox - pad_x + 0.5) * crop_width / content_width - 0.5
// (the same for y), then the whole W x H output is mirrored (ox -> W-1-ox)
// when `flip`. Pixels outside the content hold pad_value.
struct TransformRecord {
  uint32_t source_width = 0, source_height = 0;
  double crop_x = 0, crop_y = 0, crop_width = 0, crop_height = 0;  // source pixels
  uint32_t content_width = 0, content_height = 0;                 // output pixels
  int32_t pad_x = 0, pad_y = 0;  // where the content starts in the output
  uint32_t width = 0, height = 0;  // the output
  bool flip = false;

  double scale_x() const { return content_width / crop_width; }
  double scale_y() const { return content_height / crop_height; }
  bool operator==(const TransformRecord&) const = default;
};

// The boxes (ymin, xmin, ymax, xmax normalised to the source) of an example,
// for kLetterbox's box-keeping crop; may be empty.
// InvalidArgument for a zero source size or invalid options (a zero output
// size, scale/ratio ranges empty or not positive, jitter not positive).
// `repeat`: the occurrence's ordinal in the epoch (TransformRng).
OIV4KV_EXPORT Status PlanTransform(const TransformOptions& options, uint32_t source_width,
                                   uint32_t source_height, std::span<const float> boxes,
                                   uint64_t seed, uint64_t epoch, uint64_t index,
                                   uint64_t repeat, TransformRecord* out);
// The first occurrence (repeat 0).
inline Status PlanTransform(const TransformOptions& options, uint32_t source_width,
                            uint32_t source_height, std::span<const float> boxes, uint64_t seed,
                            uint64_t epoch, uint64_t index, TransformRecord* out) {
  return PlanTransform(options, source_width, source_height, boxes, seed, epoch, index, 0, out);
}

// One box (ymin, xmin, ymax, xmax, normalised to the source) through a
// record: to output pixels through crop, scale and pad, clipped to the
// content, mirrored when flipped, normalised to the output. `kept_fraction`:
// the clipped area over the unclipped (1 for a zero-area box inside the
// content, 0 outside). kept = kept_fraction >= min_box_area_kept.
struct MappedBox {
  std::array<float, 4> box{};  // ymin, xmin, ymax, xmax of the output
  double kept_fraction = 0;
  bool kept = false;
};
OIV4KV_EXPORT MappedBox MapBox(const TransformRecord& record, std::span<const float, 4> box,
                               double min_box_area_kept);

}  // namespace oiv4kv
