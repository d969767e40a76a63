#include "oiv4kv/scan.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include "oiv4kv/store.h"

namespace oiv4kv {
namespace {

// The algorithm below is part of the on-disk contract of checkpoints: a
// change reorders every epoch (tests/scan_test.cc pins it).

uint64_t Mix64(uint64_t z) {  // splitmix64's finalizer
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// splitmix64 (Steele, Lea, Flood 2014), seeded from (seed, epoch).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t epoch)
      : state_(Mix64(seed) ^ Mix64(epoch ^ 0x6f69763473636e31ULL /* "oiv4scn1" */)) {}

  uint64_t Next() { return Mix64(state_ += 0x9e3779b97f4a7c15ULL); }

  // Uniform in [0, range), unbiased (Lemire 2019). REQUIRES: range > 0.
  uint64_t Bounded(uint64_t range) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(Next()) * range;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < range) {
      const uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<U128>(Next()) * range;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  uint64_t state_;
};

// Fisher-Yates (Durstenfeld): i from the end, j uniform in [0, i].
template <typename T>
void Permute(T* data, size_t n, Rng* rng) {
  for (size_t i = n; i > 1; --i) {
    std::swap(data[i - 1], data[rng->Bounded(i)]);
  }
}

std::vector<uint64_t> EpochOrder(uint64_t n, const ScanOptions& o) {
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), uint64_t{0});
  if (o.order == ScanOrder::kSequential || n == 0) return order;
  Rng rng(o.seed, o.epoch);
  if (o.order == ScanOrder::kShuffled) {
    Permute(order.data(), n, &rng);
    return order;
  }
  // kBlockShuffled: permute the blocks, lay them out, then permute the
  // examples inside each group of `window` consecutive landed blocks.
  const uint64_t b = o.block_size;
  const uint64_t num_blocks = (n + b - 1) / b;
  std::vector<uint64_t> blocks(num_blocks);
  std::iota(blocks.begin(), blocks.end(), uint64_t{0});
  Permute(blocks.data(), num_blocks, &rng);
  size_t pos = 0;
  for (uint64_t k = 0; k < num_blocks; k += o.window) {
    const size_t group_begin = pos;
    for (uint64_t g = k; g < std::min<uint64_t>(k + o.window, num_blocks); ++g) {
      const uint64_t first = blocks[g] * b;
      const uint64_t last = std::min(first + b, n);
      for (uint64_t i = first; i < last; ++i) order[pos++] = i;
    }
    Permute(order.data() + group_begin, pos - group_begin, &rng);
  }
  return order;
}

Status CheckOptions(const Store* store, const ScanOptions& o) {
  if (store == nullptr) return Status::InvalidArgument("scan: null store");
  if (o.num_shards == 0) return Status::InvalidArgument("scan: num_shards is 0");
  if (o.shard_index >= o.num_shards) {
    return Status::InvalidArgument("scan: shard_index " + std::to_string(o.shard_index) +
                                   " >= num_shards " + std::to_string(o.num_shards));
  }
  if (o.batch_size == 0) return Status::InvalidArgument("scan: batch_size is 0");
  if (o.block_size == 0) return Status::InvalidArgument("scan: block_size is 0");
  if (o.window == 0) return Status::InvalidArgument("scan: window is 0");
  switch (o.order) {
    case ScanOrder::kSequential:
    case ScanOrder::kShuffled:
    case ScanOrder::kBlockShuffled:
      return Status::OK();
  }
  return Status::InvalidArgument("scan: unknown order");
}

bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, 10);
  return ec == std::errc() && ptr == end;
}

constexpr std::string_view kPositionPrefix = "scan1:";

}  // namespace

std::string ScanPosition::Serialize() const {
  return std::string(kPositionPrefix) + std::to_string(epoch) + ":" + std::to_string(offset);
}

Status ScanPosition::Parse(std::string_view text, ScanPosition* out) {
  const Status bad = Status::InvalidArgument("scan position: cannot parse \"" +
                                             std::string(text.substr(0, 64)) + "\"");
  if (!text.starts_with(kPositionPrefix)) return bad;
  text.remove_prefix(kPositionPrefix.size());
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad;
  ScanPosition p;
  if (!ParseDecimal(text.substr(0, colon), &p.epoch) ||
      !ParseDecimal(text.substr(colon + 1), &p.offset)) {
    return bad;
  }
  *out = p;
  return Status::OK();
}

struct Scan::Batch {
  Status status;
  uint64_t count = 0;  // examples consumed from indices_
  std::vector<ExampleView> examples;
  std::vector<ImageView> images;
};

// Reads batches from `offset` on, in order, on its own thread, keeping at
// most `depth` of them ready. It stops at the end of the shard or after the
// first batch that failed (which it still hands over).
class Scan::ReadAhead {
 public:
  ReadAhead(const Scan* scan, uint64_t offset, uint32_t depth)
      : scan_(scan), next_offset_(offset), depth_(depth), thread_([this] { Run(); }) {}

  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // The next batch in order; false once the shard is done.
  bool Pop(Batch* out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !ready_.empty() || finished_; });
    if (ready_.empty()) return false;
    *out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  // Brings each image's bytes into memory on this thread: a cold store's
  // page faults (disk reads) happen here instead of in the caller, and the
  // bytes wait in the shared CPU cache. Two batches of 300k images are
  // ~3 MB.
  static void PrefetchImages(const Batch& batch) {
    for (const ImageView& image : batch.images) {
      const std::span<const uint8_t> b = image.bytes();
      // A prefetch instruction never faults a page in; a load does.
      for (size_t at = 0; at < b.size(); at += 4096) {
        (void)*static_cast<const volatile uint8_t*>(b.data() + at);
      }
      for (size_t at = 0; at < b.size(); at += 64) __builtin_prefetch(b.data() + at);
    }
  }

  void Run() {
    for (;;) {
      uint64_t offset;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
        if (stop_ || next_offset_ >= scan_->size()) break;
        offset = next_offset_;
      }
      Batch batch = scan_->ReadBatch(offset);
      const bool failed = !batch.status.ok();
      if (!failed) PrefetchImages(batch);
      std::lock_guard<std::mutex> lock(mu_);
      next_offset_ += batch.count;
      ready_.push_back(std::move(batch));
      cv_.notify_all();
      if (failed) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }

  const Scan* scan_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  uint64_t next_offset_;
  const uint32_t depth_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

Scan::Scan(const Store* store, Split split, const ScanOptions& options,
           std::vector<uint64_t> indices)
    : store_(store),
      split_(split),
      options_(options),
      epoch_(options.epoch),
      indices_(std::move(indices)) {}

Scan::~Scan() = default;

Status Scan::Open(const Store* store, Split split, const ScanOptions& options,
                  std::unique_ptr<Scan>* out) {
  OIV4KV_RETURN_IF_ERROR(CheckOptions(store, options));
  const uint64_t n = store->NumExamples(split);
  std::vector<uint64_t> order = EpochOrder(n, options);
  // Shard k of S: the first n % S shards hold n / S + 1, the rest n / S.
  const uint64_t s = options.num_shards, k = options.shard_index;
  const uint64_t begin = k * (n / s) + std::min(k, n % s);
  const uint64_t len = n / s + (k < n % s ? 1 : 0);
  std::vector<uint64_t> mine(order.begin() + begin, order.begin() + begin + len);
  out->reset(new Scan(store, split, options, std::move(mine)));
  return Status::OK();
}

Status Scan::Resume(const Store* store, Split split, const ScanOptions& options,
                    const ScanPosition& position, std::unique_ptr<Scan>* out) {
  ScanOptions at = options;
  at.epoch = position.epoch;
  std::unique_ptr<Scan> scan;
  OIV4KV_RETURN_IF_ERROR(Open(store, split, at, &scan));
  if (position.offset > scan->size()) {
    return Status::InvalidArgument("scan: position " + position.Serialize() +
                                   " is past the end of a shard of " +
                                   std::to_string(scan->size()) + " examples");
  }
  scan->offset_ = position.offset;
  *out = std::move(scan);
  return Status::OK();
}

Status Scan::Next(std::vector<ExampleView>* examples, std::vector<ImageView>* images) {
  if (examples == nullptr) return Status::InvalidArgument("scan: null examples");
  if (options_.with_images && images == nullptr) {
    return Status::InvalidArgument("scan: with_images needs an images vector");
  }
  Batch batch;
  if (offset_ >= indices_.size()) {
    // The shard is done: nothing to read.
  } else if (options_.prefetch_batches == 0) {
    batch = ReadBatch(offset_);
  } else {
    if (read_ahead_ == nullptr) {
      read_ahead_ = std::make_unique<ReadAhead>(this, offset_, options_.prefetch_batches);
    }
    if (!read_ahead_->Pop(&batch)) batch = Batch();
  }
  if (!batch.status.ok()) {
    read_ahead_.reset();  // a retry reads from offset_ again
    return batch.status;
  }
  *examples = std::move(batch.examples);
  if (images != nullptr) *images = std::move(batch.images);
  offset_ += batch.count;
  return Status::OK();
}

Scan::Batch Scan::ReadBatch(uint64_t offset) const {
  Batch batch;
  batch.count = std::min<uint64_t>(options_.batch_size, indices_.size() - offset);
  const std::span<const uint64_t> indices(indices_.data() + offset, batch.count);
  std::vector<Status> statuses;
  store_->MultiAt(split_, indices, &batch.examples, &statuses);
  for (Status& s : statuses) {
    if (!s.ok()) return {std::move(s), 0, {}, {}};
  }
  if (options_.with_images) {
    std::vector<uint64_t> ids;
    ids.reserve(batch.examples.size());
    for (const ExampleView& ex : batch.examples) ids.push_back(ex.image_id());
    store_->MultiGetImages(options_.config, split_, ids, &batch.images, &statuses);
    for (Status& s : statuses) {
      if (!s.ok()) return {std::move(s), 0, {}, {}};
    }
  }
  return batch;
}

}  // namespace oiv4kv
