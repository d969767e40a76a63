// Loader: augmented training batches of one split, decoded, cropped, resized
// and flipped in native worker threads straight into a ring of preallocated
// batches. The per-example geometry it applies is in oiv4kv/transform.h, the
// fused decode in oiv4kv/transform_decoder.h.
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
// split index, repeat ordinal) (TransformRng), so the batches are the same
// bytes for any number of threads and any prefetch depth. The repeat ordinal
// (Scan::RepeatOrdinal) counts the earlier occurrences of the same image in
// the epoch's sequence over all shards: always 0 without a sampler, so such
// scans draw as before; with a sampler an image repeated in an epoch gets a
// crop and flip of its own per occurrence.
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
#include "oiv4kv/transform.h"
#include "oiv4kv/transform_decoder.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

class Store;

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
  // block_size, window, batch_size, image config, subset and sampler
  // (Scan's meaning; n below is Scan::epoch_size(): the split's, the
  // subset's or the sampler's epoch length); prefetch_batches and
  // with_images are not used.
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
