// Scan: one epoch of a split, in sequential, shuffled or block-shuffled order,
// cut into disjoint shards (for ranks x data-loader workers), read in batches
// through Store::MultiAt and resumable from a position.
//
// The order is a pure function of (seed, epoch, split size, options): it uses
// its own PRNG (splitmix64), bounded draws (Lemire's method) and Fisher-Yates,
// never std::shuffle or <random> distributions, so every machine and standard
// library sees the same permutation.
//
// Thread safety: a Scan is not thread-safe; distinct Scans over one Store may
// be used concurrently. With prefetch_batches > 0 a Scan owns one background
// thread, joined when it is destroyed. REQUIRES: the Store outlives the Scan
// and every view it returned.
//
// Example (rank r of w, worker k of K: shard r * K + k of w * K):
//   oiv4kv::ScanOptions opts;
//   opts.seed = 42; opts.epoch = epoch;
//   opts.shard_index = r * K + k; opts.num_shards = w * K;
//   std::unique_ptr<oiv4kv::Scan> scan;
//   OIV4KV_RETURN_IF_ERROR(
//       oiv4kv::Scan::Open(store.get(), oiv4kv::Split::kTrain, opts, &scan));
//   std::vector<oiv4kv::ExampleView> batch;
//   do {
//     OIV4KV_RETURN_IF_ERROR(scan->Next(&batch, nullptr));
//     train(batch);
//     checkpoint(scan->position().Serialize());
//   } while (!batch.empty());
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/status.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

class Store;
class Sampler;  // oiv4kv/sampling.h

enum class ScanOrder {
  kSequential,     // 0, 1, ..., n-1 (key order)
  kShuffled,       // a uniform permutation
  kBlockShuffled,  // block permutation + windowed example shuffle (see below)
};
inline constexpr std::array<ScanOrder, 3> kAllScanOrders = {
    ScanOrder::kSequential, ScanOrder::kShuffled, ScanOrder::kBlockShuffled};

// "sequential", "shuffled", "block_shuffled" (as in ScanPosition::Serialize
// and the Python binding); the same style as SplitName/ParseSplit/SplitNames
// in dataset.h.
OIV4KV_EXPORT std::string_view ScanOrderName(ScanOrder order);
OIV4KV_EXPORT std::optional<ScanOrder> ParseScanOrder(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ScanOrderNames();

struct ScanOptions {
  // Default: kShuffled.
  ScanOrder order = ScanOrder::kShuffled;

  // The permutation of an epoch is a pure function of (seed, epoch, the
  // split's size, order, block_size, window). Default: 0.
  uint64_t seed = 0;
  // Default: 0.
  uint64_t epoch = 0;

  // This scan reads shard `shard_index` of `num_shards`: contiguous slices of
  // the epoch's order, disjoint, covering it exactly once, sizes differing by
  // at most 1 (the first n % num_shards shards hold one more).
  // REQUIRES: shard_index < num_shards. Default: 0 of 1.
  uint32_t shard_index = 0;
  uint32_t num_shards = 1;

  // kBlockShuffled: the split is cut into runs of `block_size` consecutive
  // examples (the last may be shorter), the runs are permuted as units, then
  // the permuted sequence is cut into groups of `window` consecutive blocks
  // and the examples of each group are permuted. Reads touch at most `window`
  // blocks at a time. Exact bound: an example's final position differs from
  // the position where its block's first example landed by less than
  // window * block_size (the group it stays in spans at most that many).
  // REQUIRES: block_size > 0 (all orders). Default: 256.
  uint32_t block_size = 256;
  // REQUIRES: window > 0 (all orders). Default: 16.
  uint32_t window = 16;

  // Examples per Next (one MultiAt). REQUIRES: > 0. Default: 64.
  uint32_t batch_size = 64;

  // Batches read ahead on a background thread while the caller works on the
  // current one: the thread looks them up and brings their images' bytes
  // into memory, so that reads (page faults of a cold store) overlap the
  // caller's work. 0 reads each batch inside Next. Default: 2.
  uint32_t prefetch_batches = 2;

  // Also fetch each example's image of `config` in Next. Default: false.
  bool with_images = false;
  // Default: Config::k300k.
  Config config = Config::k300k;

  // A subset of the split: split indices, strictly ascending (e.g. what
  // Store::Select returns). The epoch is then a permutation of the subset
  // instead of the split, with the same orders and guarantees: `order`
  // permutes positions 0..m-1 of the subset (blocks are runs of `block_size`
  // consecutive subset entries) and each position stands for subset[pos];
  // shards are contiguous slices of that sequence. A position records the
  // subset's size and fingerprint (SubsetFingerprint), so a position of one
  // subset is refused by a scan of another subset or of the whole split.
  // Shared: the Scan keeps a reference. InvalidArgument if not strictly
  // ascending or an index is >= the split's size. Default: null (the split).
  std::shared_ptr<const std::vector<uint64_t>> subset;

  // Class-balanced sampling (oiv4kv/sampling.h): the epoch is the sampler's
  // multiset of split indices for (seed, epoch), repeats included,
  // permuted by `order` as a subset is (a sampler's sequence is ascending,
  // so block_shuffled keeps its read locality), then extended by its own
  // first (num_shards - len % num_shards) % num_shards entries so that
  // every shard holds the same number of examples. The sampler must have
  // been built on this split; a position records its fingerprint. Not
  // together with `subset` (build the sampler on the subset instead).
  // Default: null.
  std::shared_ptr<const Sampler> sampler;
};

// A 64-bit fingerprint of a subset's indices (FNV-1a over their
// little-endian bytes, then Mix64): what a ScanPosition records of it.
OIV4KV_EXPORT uint64_t SubsetFingerprint(std::span<const uint64_t> indices);

// Which scan a position belongs to: everything that decides the sequence of
// examples a shard's epoch holds, except the epoch itself.
struct ScanIdentity {
  Split split = Split::kTrain;
  uint64_t num_examples = 0;  // the split's size in the store
  ScanOrder order = ScanOrder::kShuffled;
  uint64_t seed = 0;
  uint32_t block_size = 0;
  uint32_t window = 0;
  uint32_t shard_index = 0;
  uint32_t num_shards = 0;
  // A subset's size and fingerprint (ScanOptions::subset); both 0 without.
  uint64_t subset_size = 0;
  uint64_t subset_fingerprint = 0;
  // The sampler's Sampler::Name() (e.g. "repeat_factor:1f0c...") ; empty
  // without one.
  std::string sampler;

  bool operator==(const ScanIdentity&) const = default;
};

// Where a scan stands: `offset` examples of this shard's `epoch` consumed.
// Scan::position() also records the scan (`scan`), so that Resume can refuse
// a position of another scan; a position built by hand without it is taken
// as given.
struct OIV4KV_EXPORT ScanPosition {
  uint64_t epoch = 0;
  uint64_t offset = 0;
  std::optional<ScanIdentity> scan;

  // Version 2, self-describing, fields in this order:
  //   "scan2:split=train,examples=894,order=shuffled,seed=1,block_size=256,
  //    window=16,shard=0/2,epoch=3,offset=128"
  // (one line; without `scan` only "scan2:epoch=3,offset=128"). A scan of a
  // subset adds ",subset=<size>:<16 hex digits>" after the shard, one with a
  // sampler ",sampler=<its Name()>"; positions without them read as before.
  std::string Serialize() const;
  // Parses Serialize's output into *out; InvalidArgument on anything else,
  // including version-1 states ("scan1:<epoch>:<offset>", which do not say
  // which scan they belong to: refused, with that reason). Unlike the enum
  // parsers (ParseSplit, ParseScanOrder, ...: std::optional, since a name
  // either is one or is not), this returns a Status: a state is refused for
  // one of many reasons, and the message names which field is wrong.
  static Status Parse(std::string_view text, ScanPosition* out);

  bool operator==(const ScanPosition&) const = default;
};

class OIV4KV_EXPORT Scan {
 public:
  // Starts shard options.shard_index of epoch options.epoch of `split`.
  // InvalidArgument for invalid options (see ScanOptions) or a null store.
  // The Scan keeps `store`; it does not own it.
  static Status Open(const Store* store, Split split, const ScanOptions& options,
                     std::unique_ptr<Scan>* out);
  // As Open, but for epoch position.epoch (it replaces options.epoch), with
  // the first position.offset examples of the shard already consumed.
  // InvalidArgument if position.offset > size(), or if position.scan is set
  // and differs from this scan's (split, the split's size, order, seed,
  // block_size, window, shard): the message names the field and both values.
  static Status Resume(const Store* store, Split split, const ScanOptions& options,
                       const ScanPosition& position, std::unique_ptr<Scan>* out);

  ~Scan();
  Scan(const Scan&) = delete;
  Scan& operator=(const Scan&) = delete;

  // Replaces *examples with the next batch (up to batch_size views, in scan
  // order; empty once the shard's epoch is done) and, when with_images,
  // *images with their images (images[i] is examples[i]'s). The views pin
  // their values until destroyed (oiv4kv/views.h). `images` may be null
  // unless with_images; otherwise it is cleared.
  // Any error of the store (naming the example) is returned and the position
  // does not move, so Next may be retried (it reads the batch again).
  Status Next(std::vector<ExampleView>* examples, std::vector<ImageView>* images);

  // Where Next would continue (with this scan's identity).
  ScanPosition position() const { return {epoch_, offset_, identity()}; }
  // What a position of this scan records besides epoch and offset.
  ScanIdentity identity() const;
  // Examples in this shard's epoch.
  uint64_t size() const { return indices_.size(); }
  // Examples in the epoch over all shards: the split's size, the subset's,
  // or the sampler's epoch length (padded to a multiple of num_shards).
  uint64_t epoch_size() const { return epoch_size_; }
  // The example indices (positions in the split, as Store::At takes) of this
  // shard's epoch, in scan order. Valid as long as the Scan.
  const std::vector<uint64_t>& indices() const { return indices_; }
  // How many entries of the epoch's whole sequence (all shards, in scan
  // order, padding included) before indices()[i] hold the same index: 0 for
  // an image's first occurrence, 1 for its second, ... Always 0 without a
  // sampler. The Loader's draws for an example include it (transform.h).
  // REQUIRES: i < size().
  uint32_t RepeatOrdinal(uint64_t i) const { return repeats_.empty() ? 0 : repeats_[i]; }

 private:
  struct Batch;
  class ReadAhead;  // the prefetch thread and its queue (store/core/scan.cc)

  Scan(const Store* store, Split split, const ScanOptions& options, uint64_t num_examples,
       uint64_t epoch_size, std::vector<uint64_t> indices);
  // Reads the batch that starts at `offset` of indices_. Thread-safe.
  Batch ReadBatch(uint64_t offset) const;

  const Store* store_;
  Split split_;
  ScanOptions options_;
  uint64_t epoch_;
  uint64_t offset_ = 0;
  uint64_t num_examples_;  // the split's
  uint64_t epoch_size_;    // all shards'
  uint64_t subset_fingerprint_ = 0;
  std::vector<uint64_t> indices_;
  std::vector<uint32_t> repeats_;  // RepeatOrdinal per entry; empty: all 0
  std::unique_ptr<ReadAhead> read_ahead_;  // null until Next needs it
};

}  // namespace oiv4kv
