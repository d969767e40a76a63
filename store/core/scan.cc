#include "oiv4kv/scan.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include "oiv4kv/sampling.h"
#include "oiv4kv/store.h"
#include "store/core/splitmix.h"

namespace oiv4kv {
namespace {

// The algorithm below is part of the on-disk contract of checkpoints: a
// change reorders every epoch (tests/core/scan_test.cc pins it).

// splitmix64 seeded from (seed, epoch).
SplitMix64 EpochRng(uint64_t seed, uint64_t epoch) {
  return SplitMix64(Mix64(seed) ^ Mix64(epoch ^ 0x6f69763473636e31ULL /* "oiv4scn1" */));
}

// Fisher-Yates (Durstenfeld): i from the end, j uniform in [0, i].
template <typename T>
void Permute(T* data, size_t n, SplitMix64* rng) {
  for (size_t i = n; i > 1; --i) {
    std::swap(data[i - 1], data[rng->Bounded(i)]);
  }
}

// The RepeatOrdinal of entries [begin, begin + len) of `order`, the epoch's
// sequence of positions into `population` (a sampler's epoch: ascending, an
// image's copies adjacent): how many earlier entries of `order` stand for
// the same split index.
std::vector<uint32_t> RepeatOrdinals(const std::vector<uint64_t>& population,
                                     const std::vector<uint64_t>& order, uint64_t begin,
                                     uint64_t len) {
  // first[p]: the first position holding population[p], where that index's
  // occurrences are counted.
  std::vector<uint64_t> first(population.size());
  for (uint64_t p = 0; p < population.size(); ++p) {
    first[p] = p > 0 && population[p] == population[p - 1] ? first[p - 1] : p;
  }
  std::vector<uint32_t> seen(population.size(), 0);
  std::vector<uint32_t> out(len);
  for (uint64_t q = 0; q < begin + len; ++q) {
    const uint32_t ordinal = seen[first[order[q]]]++;
    if (q >= begin) out[q - begin] = ordinal;
  }
  return out;
}

std::vector<uint64_t> EpochOrder(uint64_t n, const ScanOptions& o) {
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), uint64_t{0});
  if (o.order == ScanOrder::kSequential || n == 0) return order;
  SplitMix64 rng = EpochRng(o.seed, o.epoch);
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

Status CheckPopulation(const Store* store, Split split, const ScanOptions& o) {
  const uint64_t n = store->NumExamples(split);
  if (o.subset != nullptr && o.sampler != nullptr) {
    return Status::InvalidArgument(
        "scan: both a subset and a sampler: build the sampler on the subset instead");
  }
  if (o.subset != nullptr) {
    const std::vector<uint64_t>& v = *o.subset;
    for (size_t j = 0; j < v.size(); ++j) {
      if (v[j] >= n) {
        return Status::InvalidArgument("scan: subset index " + std::to_string(v[j]) +
                                       " (entry " + std::to_string(j) +
                                       ") is past the end of " + std::string(SplitName(split)) +
                                       " (" + std::to_string(n) + " examples)");
      }
      if (j > 0 && v[j] <= v[j - 1]) {
        return Status::InvalidArgument(
            "scan: the subset is not strictly ascending: entry " + std::to_string(j) + " (" +
            std::to_string(v[j]) + ") after " + std::to_string(v[j - 1]));
      }
    }
  }
  if (o.sampler != nullptr) {
    if (o.sampler->split() != split) {
      return Status::InvalidArgument("scan: the sampler was built on " +
                                     std::string(SplitName(o.sampler->split())) +
                                     ", not on " + std::string(SplitName(split)));
    }
    const std::vector<uint64_t>& v = o.sampler->indices();
    if (!v.empty() && v.back() >= n) {
      return Status::InvalidArgument("scan: the sampler's population reaches index " +
                                     std::to_string(v.back()) + ", past the end of " +
                                     std::string(SplitName(split)) + " (" + std::to_string(n) +
                                     " examples): another store?");
    }
  }
  return Status::OK();
}

// Digits as Serialize writes them: no sign, no leading zero but in "0".
bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, 10);
  return ec == std::errc() && ptr == end;
}

constexpr std::string_view kPositionPrefix = "scan2:";

bool ParseU32(std::string_view text, uint32_t* out) {
  uint64_t v;
  if (!ParseDecimal(text, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// "a=1,b=2" split at `,` into (key, value) pairs, in order.
bool SplitFields(std::string_view text,
                 std::vector<std::pair<std::string_view, std::string_view>>* fields) {
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view field = text.substr(0, comma);
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) return false;
    fields->emplace_back(field.substr(0, eq), field.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return false;  // a trailing comma
  }
  return true;
}

std::string Hex16(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 15];
  return out;
}

bool ParseHex16(std::string_view text, uint64_t* out) {
  if (text.size() != 16) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// The first field of identity where `state` and `want` differ, as
// "name=<state's> in the state, name=<want's> here"; empty if none.
std::string FirstDifference(const ScanIdentity& state, const ScanIdentity& want) {
  auto differ = [](std::string_view name, const auto& a, const auto& b) {
    return std::string(name) + " is " + a + " in the state but " + b + " here";
  };
  using std::to_string;
  if (state.split != want.split) {
    return differ("split", std::string(SplitName(state.split)), std::string(SplitName(want.split)));
  }
  if (state.num_examples != want.num_examples) {
    return differ("the split's example count", to_string(state.num_examples),
                  to_string(want.num_examples) + " (another store?)");
  }
  if (state.order != want.order) {
    return differ("order", std::string(ScanOrderName(state.order)),
                  std::string(ScanOrderName(want.order)));
  }
  if (state.seed != want.seed) return differ("seed", to_string(state.seed), to_string(want.seed));
  if (state.block_size != want.block_size) {
    return differ("block_size", to_string(state.block_size), to_string(want.block_size));
  }
  if (state.window != want.window) {
    return differ("window", to_string(state.window), to_string(want.window));
  }
  if (state.num_shards != want.num_shards) {
    return differ("num_shards", to_string(state.num_shards), to_string(want.num_shards));
  }
  if (state.shard_index != want.shard_index) {
    return differ("shard_index", to_string(state.shard_index), to_string(want.shard_index));
  }
  auto subset = [](const ScanIdentity& s) {
    return s.subset_size == 0 && s.subset_fingerprint == 0
               ? std::string("none (the whole split)")
               : to_string(s.subset_size) + " examples, fingerprint " + Hex16(s.subset_fingerprint);
  };
  if (state.subset_size != want.subset_size ||
      state.subset_fingerprint != want.subset_fingerprint) {
    return differ("the subset", subset(state), subset(want));
  }
  if (state.sampler != want.sampler) {
    return differ("the sampler", state.sampler.empty() ? std::string("none") : state.sampler,
                  want.sampler.empty() ? std::string("none") : want.sampler);
  }
  return "";
}

}  // namespace

std::string_view ScanOrderName(ScanOrder order) {
  switch (order) {
    case ScanOrder::kSequential:
      return "sequential";
    case ScanOrder::kShuffled:
      return "shuffled";
    case ScanOrder::kBlockShuffled:
      return "block_shuffled";
  }
  return "?";
}

std::optional<ScanOrder> ParseScanOrder(std::string_view name) {
  for (ScanOrder o : kAllScanOrders) {
    if (name == ScanOrderName(o)) return o;
  }
  return std::nullopt;
}

std::vector<std::string> ScanOrderNames() {
  std::vector<std::string> names;
  for (ScanOrder o : kAllScanOrders) names.emplace_back(ScanOrderName(o));
  return names;
}

std::string ScanPosition::Serialize() const {
  std::string out(kPositionPrefix);
  if (scan) {
    const ScanIdentity& s = *scan;
    out += "split=" + std::string(SplitName(s.split)) +
           ",examples=" + std::to_string(s.num_examples) +
           ",order=" + std::string(ScanOrderName(s.order)) + ",seed=" + std::to_string(s.seed) +
           ",block_size=" + std::to_string(s.block_size) +
           ",window=" + std::to_string(s.window) + ",shard=" + std::to_string(s.shard_index) +
           "/" + std::to_string(s.num_shards) + ",";
    if (s.subset_size != 0 || s.subset_fingerprint != 0) {
      out += "subset=" + std::to_string(s.subset_size) + ":" + Hex16(s.subset_fingerprint) + ",";
    }
    if (!s.sampler.empty()) out += "sampler=" + s.sampler + ",";
  }
  return out + "epoch=" + std::to_string(epoch) + ",offset=" + std::to_string(offset);
}

Status ScanPosition::Parse(std::string_view text, ScanPosition* out) {
  const std::string quoted = "\"" + std::string(text.substr(0, 200)) + "\"";
  const Status bad = Status::InvalidArgument("scan position: cannot parse " + quoted);
  if (text.starts_with("scan1:")) {
    return Status::InvalidArgument(
        "scan position: " + quoted +
        " is a version-1 state, which does not record the scan it belongs to (split, order, "
        "seed, shard, ...), so resuming from it could continue another sequence: take a new "
        "state with this version (ScanIterator.state() / Scan::position().Serialize()) or "
        "restart the epoch");
  }
  if (!text.starts_with(kPositionPrefix)) return bad;
  text.remove_prefix(kPositionPrefix.size());
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  if (!SplitFields(text, &fields)) return bad;
  ScanPosition p;
  size_t i = 0;
  auto next = [&](std::string_view key) -> std::optional<std::string_view> {
    if (i >= fields.size() || fields[i].first != key) return std::nullopt;
    return fields[i++].second;
  };
  if (!fields.empty() && fields[0].first == "split") {
    ScanIdentity s;
    std::optional<std::string_view> v;
    std::optional<Split> split;
    std::optional<ScanOrder> order;
    if (!(v = next("split")) || !(split = ParseSplit(*v))) return bad;
    s.split = *split;
    if (!(v = next("examples")) || !ParseDecimal(*v, &s.num_examples)) return bad;
    if (!(v = next("order")) || !(order = ParseScanOrder(*v))) return bad;
    s.order = *order;
    if (!(v = next("seed")) || !ParseDecimal(*v, &s.seed)) return bad;
    if (!(v = next("block_size")) || !ParseU32(*v, &s.block_size)) return bad;
    if (!(v = next("window")) || !ParseU32(*v, &s.window)) return bad;
    if (!(v = next("shard"))) return bad;
    const size_t slash = v->find('/');
    if (slash == std::string_view::npos || !ParseU32(v->substr(0, slash), &s.shard_index) ||
        !ParseU32(v->substr(slash + 1), &s.num_shards) || s.shard_index >= s.num_shards) {
      return bad;  // no scan has shard i of n with i >= n (or 0 shards)
    }
    if (i < fields.size() && fields[i].first == "subset") {
      v = next("subset");
      const size_t colon = v->find(':');
      if (colon == std::string_view::npos || !ParseDecimal(v->substr(0, colon), &s.subset_size) ||
          !ParseHex16(v->substr(colon + 1), &s.subset_fingerprint)) {
        return bad;
      }
    }
    if (i < fields.size() && fields[i].first == "sampler") {
      v = next("sampler");
      if (v->empty()) return bad;
      s.sampler = std::string(*v);
    }
    p.scan = s;
  }
  std::optional<std::string_view> v;
  if (!(v = next("epoch")) || !ParseDecimal(*v, &p.epoch)) return bad;
  if (!(v = next("offset")) || !ParseDecimal(*v, &p.offset)) return bad;
  if (i != fields.size()) return bad;
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

Scan::Scan(const Store* store, Split split, const ScanOptions& options, uint64_t num_examples,
           uint64_t epoch_size, std::vector<uint64_t> indices)
    : store_(store),
      split_(split),
      options_(options),
      epoch_(options.epoch),
      num_examples_(num_examples),
      epoch_size_(epoch_size),
      indices_(std::move(indices)) {
  if (options_.subset != nullptr) subset_fingerprint_ = SubsetFingerprint(*options_.subset);
}

ScanIdentity Scan::identity() const {
  ScanIdentity id;
  id.split = split_;
  id.num_examples = num_examples_;
  id.order = options_.order;
  id.seed = options_.seed;
  id.block_size = options_.block_size;
  id.window = options_.window;
  id.shard_index = options_.shard_index;
  id.num_shards = options_.num_shards;
  if (options_.subset != nullptr) {
    id.subset_size = options_.subset->size();
    id.subset_fingerprint = subset_fingerprint_;
  }
  if (options_.sampler != nullptr) id.sampler = options_.sampler->Name();
  return id;
}

uint64_t SubsetFingerprint(std::span<const uint64_t> indices) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t v : indices) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  }
  return Mix64(h ^ indices.size());
}

Scan::~Scan() = default;

Status Scan::Open(const Store* store, Split split, const ScanOptions& options,
                  std::unique_ptr<Scan>* out) {
  OIV4KV_RETURN_IF_ERROR(CheckOptions(store, options));
  OIV4KV_RETURN_IF_ERROR(CheckPopulation(store, split, options));
  const uint64_t split_size = store->NumExamples(split);
  // The epoch's population: the split (positions are indices), a subset or
  // the sampler's multiset (positions stand for its entries).
  std::vector<uint64_t> population;
  const std::vector<uint64_t>* base = nullptr;
  if (options.subset != nullptr) {
    base = options.subset.get();
  } else if (options.sampler != nullptr) {
    population = options.sampler->Epoch(options.seed, options.epoch);
    base = &population;
  }
  const uint64_t population_size = base != nullptr ? base->size() : split_size;
  std::vector<uint64_t> order = EpochOrder(population_size, options);
  if (options.sampler != nullptr && !order.empty()) {
    // Equal shares: the first entries again, up to a multiple of the shards.
    const uint64_t extra = (options.num_shards - order.size() % options.num_shards) %
                           options.num_shards;
    for (uint64_t j = 0; j < extra; ++j) order.push_back(order[j % population_size]);
  }
  const uint64_t n = order.size();
  // Shard k of S: the first n % S shards hold n / S + 1, the rest n / S.
  const uint64_t s = options.num_shards, k = options.shard_index;
  const uint64_t begin = k * (n / s) + std::min(k, n % s);
  const uint64_t len = n / s + (k < n % s ? 1 : 0);
  std::vector<uint32_t> repeats;
  if (options.sampler != nullptr) repeats = RepeatOrdinals(population, order, begin, len);
  if (base != nullptr) {
    for (uint64_t& p : order) p = (*base)[p];
  }
  std::vector<uint64_t> mine(order.begin() + begin, order.begin() + begin + len);
  out->reset(new Scan(store, split, options, split_size, n, std::move(mine)));
  (*out)->repeats_ = std::move(repeats);
  return Status::OK();
}

Status Scan::Resume(const Store* store, Split split, const ScanOptions& options,
                    const ScanPosition& position, std::unique_ptr<Scan>* out) {
  ScanOptions at = options;
  at.epoch = position.epoch;
  std::unique_ptr<Scan> scan;
  OIV4KV_RETURN_IF_ERROR(Open(store, split, at, &scan));
  if (position.scan) {
    const std::string difference = FirstDifference(*position.scan, scan->identity());
    if (!difference.empty()) {
      return Status::InvalidArgument("scan: cannot resume from " + position.Serialize() +
                                     ": it belongs to another scan (" + difference + ")");
    }
  }
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
