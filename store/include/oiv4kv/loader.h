// Loader: augmented training batches of one split, decoded, cropped, resized
// and flipped in native worker threads straight into a ring of preallocated
// batches (issue 14). This header also declares the per-example geometry the
// loader applies (PlanTransform, MapBox): pure functions, public so that
// predictions can be mapped back and so that the transforms can be checked.
//
// Example (one epoch of rank r of w):
//   oiv4kv::LoaderOptions o;
//   o.scan.batch_size = 256; o.scan.seed = 42; o.scan.epoch = epoch;
//   o.scan.shard_index = r; o.scan.num_shards = w;
//   o.transform.kind = oiv4kv::TransformKind::kRandomResizedCrop;  // 224x224
//   std::unique_ptr<oiv4kv::Loader> loader;
//   OIV4KV_RETURN_IF_ERROR(oiv4kv::Loader::Open(store.get(), oiv4kv::Split::kTrain,
//                                               o, &loader));
//   const oiv4kv::LoaderBatch* b;
//   while (loader->Next(&b).ok() && b != nullptr)
//     train(b->images, b->valid, b->bobjects), save(loader->position());
//
// Thread safety: a Loader is used from one thread; it owns `threads` worker
// threads, joined when it is destroyed. REQUIRES: the Store outlives it.
//
// Randomness: every draw of an example is a pure function of (seed, epoch,
// split index) through TransformRng (below): a counter-based generator, so
// the batches are the same bytes for any number of threads and any prefetch
// depth.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/decode.h"
#include "oiv4kv/export.h"
#include "oiv4kv/scan.h"
#include "oiv4kv/status.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

class Store;

// --- Random draws -----------------------------------------------------------

// The generator of one example's draws. Stream `stream` of example
// (seed, epoch, index) yields, for k = 1, 2, ...:
//   key  = Mix64(Mix64(Mix64(seed) ^ epoch) ^ index) ^ Mix64(stream)
//   x_k  = Mix64(key + k * 0x9e3779b97f4a7c15)
// where Mix64 is splitmix64's finalizer (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
// z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31). Uniform() is
// (x_k >> 11) * 2^-53 in [0, 1); Below(n) is floor(Uniform() * n).
// Streams: kCropStream (RandomResizedCrop, jitter and crop offsets),
// kFlipStream (the flip: Uniform() < flip_probability).
class OIV4KV_EXPORT TransformRng {
 public:
  static constexpr uint64_t kCropStream = 1;
  static constexpr uint64_t kFlipStream = 2;

  TransformRng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream);
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
OIV4KV_EXPORT Status PlanTransform(const TransformOptions& options, uint32_t source_width,
                                   uint32_t source_height, std::span<const float> boxes,
                                   uint64_t seed, uint64_t epoch, uint64_t index,
                                   TransformRecord* out);

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

// --- Fused decode -----------------------------------------------------------

enum class ImageLayout : uint8_t { kHWC, kCHW };
enum class ImageDType : uint8_t { kUint8, kFloat32, kFloat16 };
inline constexpr std::array<ImageLayout, 2> kAllImageLayouts = {ImageLayout::kHWC,
                                                                ImageLayout::kCHW};
inline constexpr std::array<ImageDType, 3> kAllImageDTypes = {
    ImageDType::kUint8, ImageDType::kFloat32, ImageDType::kFloat16};
// "hwc", "chw"; "uint8", "float32", "float16".
OIV4KV_EXPORT std::string_view ImageLayoutName(ImageLayout layout);
OIV4KV_EXPORT std::optional<ImageLayout> ParseImageLayout(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ImageLayoutNames();
OIV4KV_EXPORT std::string_view ImageDTypeName(ImageDType dtype);
OIV4KV_EXPORT std::optional<ImageDType> ParseImageDType(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ImageDTypeNames();

// How an output image is written. uint8: the resampled value rounded to
// 0..255. Float: (v / 255 - mean[c]) / std[c] of that rounded value v
// (torchvision's ToTensor + Normalize), float16 rounded to nearest even.
// Pad pixels hold pad_value through the same formula.
struct ImageOutputOptions {
  ImageLayout layout = ImageLayout::kHWC;
  ImageDType dtype = ImageDType::kUint8;
  std::array<float, 3> mean = {0, 0, 0};
  std::array<float, 3> std = {1, 1, 1};
};
// Bytes of one width x height x 3 image in `options`' dtype.
OIV4KV_EXPORT size_t ImageBytes(uint32_t width, uint32_t height,
                                const ImageOutputOptions& options);

// What DecodeTransformed did.
struct TransformDecodeInfo {
  // The DCT scaling denominator (1, 2, 4, 8): the largest whose scaled crop
  // is at least twice the content size on both axes (at 1x, just covering
  // it, the result measured 2.8 dB below torchvision's against the ideal;
  // at 2x within 0.1 dB); 1 for PNG and the full-decode fallback.
  uint32_t scale_denom = 1;
  // Pixels decoded (at that scale): only the crop's rows and its columns
  // widened to iMCU boundaries on the JPEG fast path; the whole image on the
  // fallback (PNG, progressive or CMYK/YCCK JPEG).
  uint32_t decoded_width = 0, decoded_height = 0;
  bool cropped = false;  // the fast path (jpeg_skip_scanlines + jpeg_crop_scanline)
};

// Decodes the part of an image a TransformRecord needs and resamples it into
// a caller's buffer (thread-compatible: one per thread, like Decoder).
// JPEG (baseline, YCbCr or gray): libjpeg's DCT scaling by 1/scale_denom,
// jpeg_skip_scanlines over the rows above and below the crop (the rows below
// are still entropy-decoded, so damage anywhere in the file is found, as
// Decoder finds it), jpeg_crop_scanline to the crop's columns. Otherwise the
// public Decoder decodes the whole image. Then an antialiased bilinear
// resample (torchvision's antialias=True, PIL's: a triangle filter widened
// by the scale factor when shrinking, taps clipped to the crop) of the exact
// crop, the flip applied while writing. Damaged data is Corruption (as
// Decoder's TruncatedPolicy::kError); an image whose size differs from
// record.source_width/height is Corruption. No EXIF orientation.
class OIV4KV_EXPORT TransformDecoder {
 public:
  TransformDecoder();
  ~TransformDecoder();
  TransformDecoder(const TransformDecoder&) = delete;
  TransformDecoder& operator=(const TransformDecoder&) = delete;

  // dst: exactly ImageBytes(record.width, record.height, output) bytes
  // (InvalidArgument otherwise). info may be null. `max_scale_denom` (1, 2,
  // 4 or 8) caps the DCT scaling: 1 decodes the crop at full size.
  Status DecodeTransformed(std::span<const uint8_t> bytes, const TransformRecord& record,
                           uint8_t pad_value, const ImageOutputOptions& output,
                           std::span<uint8_t> dst, TransformDecodeInfo* info,
                           uint32_t max_scale_denom = 8);
  // The same for a stored image: errors name it ("300k image train/<id>: ").
  Status DecodeTransformed(const ImageView& view, const TransformRecord& record,
                           uint8_t pad_value, const ImageOutputOptions& output,
                           std::span<uint8_t> dst, TransformDecodeInfo* info,
                           uint32_t max_scale_denom = 8);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Loader -----------------------------------------------------------------

// What a batch does with an image that fails to decode.
enum class BadImagePolicy : uint8_t {
  kError,  // Next returns the decoder's Status naming the image; the
           // position does not move and calling Next again returns it again
  kSkip,   // the slot is zeros, valid[i] = 0, and counted in skipped
};
// How a shard's epoch ends when batch_size does not divide it; either way
// every shard of the epoch gets the same number of batches.
enum class Remainder : uint8_t {
  kPad,   // ceil(ceil(n / shards) / batch_size) batches; slots past the
          // shard's end are zeros with valid[i] = 0 (not counted as skipped)
  kDrop,  // floor(floor(n / shards) / batch_size) batches, all full
};
inline constexpr std::array<BadImagePolicy, 2> kAllBadImagePolicies = {BadImagePolicy::kError,
                                                                       BadImagePolicy::kSkip};
inline constexpr std::array<Remainder, 2> kAllRemainders = {Remainder::kPad, Remainder::kDrop};
// "error", "skip"; "pad", "drop".
OIV4KV_EXPORT std::string_view BadImagePolicyName(BadImagePolicy policy);
OIV4KV_EXPORT std::optional<BadImagePolicy> ParseBadImagePolicy(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> BadImagePolicyNames();
OIV4KV_EXPORT std::string_view RemainderName(Remainder remainder);
OIV4KV_EXPORT std::optional<Remainder> ParseRemainder(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> RemainderNames();

struct LoaderOptions {
  // The split's order, seed, epoch, shard (shard_index of num_shards),
  // block_size, window, batch_size and image config (Scan's meaning);
  // prefetch_batches and with_images are not used.
  ScanOptions scan;
  TransformOptions transform;
  ImageOutputOptions output;
  // Worker threads that read, decode and transform examples straight into
  // their slots. 0: std::thread::hardware_concurrency(). Default: 0.
  uint32_t threads = 0;
  // Batches filled ahead while the caller holds one: the ring holds
  // prefetch + 1 batches. 0: a batch is filled when Next asks for it.
  // Default: 2.
  uint32_t prefetch = 2;
  BadImagePolicy bad_image = BadImagePolicy::kError;
  Remainder remainder = Remainder::kPad;
  // The memory of each ring batch's images (bytes, 64-byte aligned), and its
  // release: both or neither (default: aligned operator new[] / delete[]),
  // e.g. pinned or shared memory handed in by Python.
  std::function<void*(size_t bytes)> allocate;
  std::function<void(void* memory)> deallocate;
  // Caps the DCT scaling (TransformDecoder). Default: 8.
  uint32_t max_scale_denom = 8;
};

// Image-level labels of a batch, ragged: example i's are
// [offsets[i], offsets[i + 1]) of the value arrays.
struct RaggedLabels {
  std::vector<uint64_t> offsets;  // size + 1
  std::vector<uint16_t> label;
  std::vector<uint8_t> confidence;
  std::vector<uint8_t> source;
};
// Boxes of a batch, ragged, transformed by each example's record (MapBox).
struct RaggedBoxes {
  std::vector<uint64_t> offsets;  // size + 1
  std::vector<uint16_t> label;
  std::vector<uint8_t> source;
  std::vector<float> bbox;        // 4 per box: ymin, xmin, ymax, xmax of the output
  std::vector<uint8_t> kept;      // 1 if kept (kept_fraction >= min_box_area_kept)
  std::vector<int8_t> is_occluded, is_truncated, is_group_of, is_depiction, is_inside;
};

// One batch: `size` (= batch_size) slots, slot i an example where valid[i].
// Valid until the next call of Next (or the Loader's destruction).
struct LoaderBatch {
  uint64_t batch_index = 0;  // in the shard's epoch
  uint32_t size = 0;
  uint32_t width = 0, height = 0;
  ImageOutputOptions output;
  // size images of ImageBytes(width, height, output) bytes each, contiguous
  // (uint8 HWC: size x height x width x 3).
  std::span<uint8_t> images;
  std::vector<uint64_t> image_ids;  // 0 for a padding slot
  std::vector<uint64_t> indices;    // positions in the split; 0 for padding
  std::vector<uint8_t> valid;       // 0: padding or a skipped bad image
  std::vector<TransformRecord> transforms;  // default for invalid slots
  // Annotations of the valid slots (invalid slots have none).
  RaggedLabels objects, objects_trainable;
  RaggedBoxes bobjects;
  uint32_t skipped = 0;  // bad images skipped in this batch
};

class OIV4KV_EXPORT Loader {
 public:
  // One shard's epoch of `split` (options.scan.epoch). InvalidArgument for
  // invalid options (Scan's, PlanTransform's, allocate without deallocate),
  // NotSupported if the store has no complete options.scan.config.
  static Status Open(const Store* store, Split split, const LoaderOptions& options,
                     std::unique_ptr<Loader>* out);
  // As Open, at the position `state` (position()'s string) records: its
  // epoch replaces options.scan.epoch, and Next continues with the batch
  // after the last one delivered. InvalidArgument, naming the field and
  // both values, for the state of another loader (batch_size, remainder,
  // transform, size, or the scan's split, size, order, seed, block_size,
  // window, shard) or text that is not a state.
  static Status Resume(const Store* store, Split split, const LoaderOptions& options,
                       std::string_view state, std::unique_ptr<Loader>* out);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in scan order in *batch, or nullptr once the epoch is
  // done. Releases the batch the previous call returned. Errors: a store
  // error, or a bad image under BadImagePolicy::kError (the batch is not
  // delivered; calling again returns the same error).
  Status Next(const LoaderBatch** batch);

  // Batches in this shard's epoch, and delivered so far.
  uint64_t size() const { return num_batches_; }
  uint64_t delivered() const { return delivered_; }
  // Bad images skipped so far (BadImagePolicy::kSkip).
  uint64_t skipped() const { return skipped_; }
  // Where the loader stands, one line:
  //   "loader1:batch_size=32,remainder=pad,transform=random_resized_crop,
  //    size=224x224,batches=3;" + the ScanPosition (epoch, the examples of
  //   those batches, the scan's identity) Serialize()d.
  std::string position() const;

 private:
  struct Impl;
  explicit Loader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t num_batches_ = 0;
  uint64_t delivered_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace oiv4kv
