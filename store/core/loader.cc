// Loader (oiv4kv/loader.h): worker threads, the ring of preallocated
// batches, delivery in scan order, the bad-image and remainder policies,
// and the serialised position.
//
// Work items are the slots of the epoch's batches in order (batch b, slot s
// = item b * batch_size + s). Batch b lives in ring entry b % R (R =
// prefetch + 1); workers take items of batch b only while b < released + R,
// where `released` counts the batches the caller has given back (by calling
// Next again), so a ring entry is never refilled while the caller holds it.
// Every slot's pixels and records depend only on (seed, epoch, split index,
// the occurrence's repeat ordinal) and the stored bytes, so the batches do
// not depend on threads or prefetch.
#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>

#include "oiv4kv/loader.h"
#include "oiv4kv/store.h"

namespace oiv4kv {
namespace {

constexpr size_t kAlignment = 64;
constexpr std::string_view kStatePrefix = "loader1:";

// One example's slot: what its worker found, written by that worker only.
struct Slot {
  Status status;
  bool bad_image = false;  // status is the image's decode error
  bool valid = false;
  uint64_t image_id = 0, index = 0;
  TransformRecord record;
  std::vector<uint16_t> o_label, t_label, b_label;
  std::vector<uint8_t> o_conf, o_src, t_conf, t_src, b_src, b_kept;
  std::vector<float> b_box;
  std::vector<int8_t> b_flags[5];

  // Empties the slot for its next example, keeping the vectors' capacity
  // (a slot is refilled once per batch: no allocation once warm).
  void Reset() {
    status = Status::OK();
    bad_image = valid = false;
    image_id = index = 0;
    record = TransformRecord();
    for (auto* v : {&o_label, &t_label, &b_label}) v->clear();
    for (auto* v : {&o_conf, &o_src, &t_conf, &t_src, &b_src, &b_kept}) v->clear();
    b_box.clear();
    for (auto& v : b_flags) v.clear();
  }
};

struct Entry {
  uint8_t* memory = nullptr;
  std::vector<Slot> slots;
  uint64_t batch = ~uint64_t{0};  // the batch it holds (or is being filled with)
  uint32_t done = 0;              // slots finished
  bool assembled = false;         // `out` built from the slots
  LoaderBatch out;
};

template <typename T>
void Append(std::vector<T>* to, const std::vector<T>& from) {
  to->insert(to->end(), from.begin(), from.end());
}

}  // namespace

struct Loader::Impl {
  const Store* store = nullptr;
  Split split = Split::kTrain;
  LoaderOptions options;
  std::unique_ptr<Scan> scan;  // the shard's order (indices()) and identity
  uint64_t epoch = 0;
  uint64_t num_batches = 0;
  size_t image_bytes = 0;

  std::vector<Entry> ring;
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable work_cv;  // workers wait for items
  std::condition_variable done_cv;  // Next waits for a batch
  uint64_t next_item = 0;           // under mu
  uint64_t released = 0;            // under mu
  bool stop = false;                // under mu
  bool holding = false;             // the caller holds batch delivered - 1

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    work_cv.notify_all();
    for (std::thread& t : workers) t.join();
    for (Entry& e : ring) {
      if (e.memory == nullptr) continue;
      if (options.deallocate) {
        options.deallocate(e.memory);
      } else {
        ::operator delete[](e.memory, std::align_val_t(kAlignment));
      }
    }
  }

  uint32_t batch_size() const { return options.scan.batch_size; }

  void Work() {
    TransformDecoder decoder;
    std::unique_lock<std::mutex> lock(mu);
    const uint64_t total = num_batches * batch_size();
    for (;;) {
      work_cv.wait(lock, [&] {
        return stop || (next_item < total && next_item / batch_size() < released + ring.size());
      });
      if (stop) return;
      const uint64_t item = next_item++;
      const uint64_t b = item / batch_size();
      const uint32_t s = static_cast<uint32_t>(item % batch_size());
      Entry& e = ring[b % ring.size()];
      if (s == 0) {  // the first item of a batch is always taken first
        e.batch = b;
        e.done = 0;
        e.assembled = false;
      }
      lock.unlock();
      Fill(&decoder, e, b, s);
      lock.lock();
      if (++e.done == batch_size()) done_cv.notify_all();
    }
  }

  void Fill(TransformDecoder* decoder, Entry& e, uint64_t b, uint32_t s) {
    Slot& slot = e.slots[s];
    slot.Reset();
    uint8_t* pixels = e.memory + size_t{s} * image_bytes;
    const uint64_t pos = b * batch_size() + s;
    const std::vector<uint64_t>& order = scan->indices();
    if (pos >= order.size()) {  // padding
      std::memset(pixels, 0, image_bytes);
      return;
    }
    slot.index = order[pos];
    ExampleView ex;
    ImageView img;
    slot.status = store->At(split, slot.index, &ex);
    if (slot.status.ok()) {
      slot.image_id = ex.image_id();
      slot.status = store->ImageAt(options.scan.config, split, slot.index, &img);
    }
    if (!slot.status.ok()) {
      std::memset(pixels, 0, image_bytes);
      return;
    }
    const BoxesView boxes = ex.bobjects();
    TransformRecord r;
    slot.status = PlanTransform(options.transform, img.width(), img.height(), boxes.bbox,
                                options.scan.seed, epoch, slot.index, scan->RepeatOrdinal(pos),
                                &r);
    if (slot.status.ok()) {
      slot.status = decoder->DecodeTransformed(img, r, options.transform.pad_value,
                                               options.output,
                                               std::span<uint8_t>(pixels, image_bytes), nullptr,
                                               options.max_scale_denom);
      slot.bad_image = !slot.status.ok();
    }
    if (!slot.status.ok()) {
      std::memset(pixels, 0, image_bytes);
      return;
    }
    slot.valid = true;
    slot.record = r;
    const LabelsView o = ex.objects(), t = ex.objects_trainable();
    slot.o_label.assign(o.label.begin(), o.label.end());
    slot.o_conf.assign(o.confidence.begin(), o.confidence.end());
    slot.o_src.assign(o.source.begin(), o.source.end());
    slot.t_label.assign(t.label.begin(), t.label.end());
    slot.t_conf.assign(t.confidence.begin(), t.confidence.end());
    slot.t_src.assign(t.source.begin(), t.source.end());
    slot.b_label.assign(boxes.label.begin(), boxes.label.end());
    slot.b_src.assign(boxes.source.begin(), boxes.source.end());
    const std::span<const int8_t> flags[5] = {boxes.is_occluded, boxes.is_truncated,
                                              boxes.is_group_of, boxes.is_depiction,
                                              boxes.is_inside};
    for (int f = 0; f < 5; ++f) slot.b_flags[f].assign(flags[f].begin(), flags[f].end());
    for (size_t i = 0; i < boxes.size(); ++i) {
      const MappedBox m = MapBox(r, boxes.box(i), options.transform.min_box_area_kept);
      slot.b_box.insert(slot.b_box.end(), m.box.begin(), m.box.end());
      slot.b_kept.push_back(m.kept ? 1 : 0);
    }
  }

  // Builds e.out from the slots (once). Returns the first error the policy
  // does not skip.
  Status Assemble(Entry& e) {
    for (const Slot& slot : e.slots) {
      if (slot.status.ok()) continue;
      if (!(slot.bad_image && options.bad_image == BadImagePolicy::kSkip)) return slot.status;
    }
    if (e.assembled) return Status::OK();
    LoaderBatch& out = e.out;
    out = LoaderBatch();
    out.batch_index = e.batch;
    out.size = batch_size();
    out.width = options.transform.width;
    out.height = options.transform.height;
    out.output = options.output;
    out.images = std::span<uint8_t>(e.memory, image_bytes * batch_size());
    out.objects.offsets.push_back(0);
    out.objects_trainable.offsets.push_back(0);
    out.bobjects.offsets.push_back(0);
    for (const Slot& slot : e.slots) {
      out.image_ids.push_back(slot.image_id);
      out.indices.push_back(slot.index);
      out.valid.push_back(slot.valid ? 1 : 0);
      out.transforms.push_back(slot.record);
      out.skipped += slot.bad_image ? 1 : 0;
      Append(&out.objects.label, slot.o_label);
      Append(&out.objects.confidence, slot.o_conf);
      Append(&out.objects.source, slot.o_src);
      out.objects.offsets.push_back(out.objects.label.size());
      Append(&out.objects_trainable.label, slot.t_label);
      Append(&out.objects_trainable.confidence, slot.t_conf);
      Append(&out.objects_trainable.source, slot.t_src);
      out.objects_trainable.offsets.push_back(out.objects_trainable.label.size());
      RaggedBoxes& bx = out.bobjects;
      Append(&bx.label, slot.b_label);
      Append(&bx.source, slot.b_src);
      Append(&bx.bbox, slot.b_box);
      Append(&bx.kept, slot.b_kept);
      Append(&bx.is_occluded, slot.b_flags[0]);
      Append(&bx.is_truncated, slot.b_flags[1]);
      Append(&bx.is_group_of, slot.b_flags[2]);
      Append(&bx.is_depiction, slot.b_flags[3]);
      Append(&bx.is_inside, slot.b_flags[4]);
      bx.offsets.push_back(bx.label.size());
    }
    e.assembled = true;
    return Status::OK();
  }
};

Loader::Loader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  num_batches_ = impl_->num_batches;
}

Loader::~Loader() = default;

Status Loader::Open(const Store* store, Split split, const LoaderOptions& options,
                    std::unique_ptr<Loader>* out) {
  return Resume(store, split, options, {}, out);
}

// The loader's own fields of a state, in order.
namespace {

struct StateFields {
  uint64_t batch_size = 0;
  std::string remainder, transform, size;
  uint64_t batches = 0;
};

std::string SizeName(const TransformOptions& t) {
  return std::to_string(t.width) + "x" + std::to_string(t.height);
}

Status ParseState(std::string_view text, StateFields* f, ScanPosition* scan) {
  const std::string bad = "loader: not a loader state: \"" + std::string(text) + "\"";
  if (text.substr(0, kStatePrefix.size()) != kStatePrefix) return Status::InvalidArgument(bad);
  text.remove_prefix(kStatePrefix.size());
  const size_t semi = text.find(';');
  if (semi == std::string_view::npos) return Status::InvalidArgument(bad);
  std::string_view fields = text.substr(0, semi);
  const char* names[] = {"batch_size", "remainder", "transform", "size", "batches"};
  std::string values[5];
  for (int i = 0; i < 5; ++i) {
    const size_t comma = fields.find(',');
    std::string_view kv = fields.substr(0, comma);
    const std::string want = std::string(names[i]) + "=";
    if (kv.substr(0, want.size()) != want) {
      return Status::InvalidArgument(bad + " (expected field " + names[i] + ")");
    }
    values[i] = std::string(kv.substr(want.size()));
    fields = comma == std::string_view::npos ? std::string_view() : fields.substr(comma + 1);
    if ((comma == std::string_view::npos) != (i == 4)) return Status::InvalidArgument(bad);
  }
  auto number = [&](const std::string& v, uint64_t* n) {
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *n);
    return ec == std::errc() && p == v.data() + v.size();
  };
  if (!number(values[0], &f->batch_size) || !number(values[4], &f->batches)) {
    return Status::InvalidArgument(bad + " (batch_size and batches are numbers)");
  }
  f->remainder = values[1];
  f->transform = values[2];
  f->size = values[3];
  return ScanPosition::Parse(text.substr(semi + 1), scan);
}

template <typename T>
Status Differs(const char* field, const T& state, const T& mine) {
  if (state == mine) return Status::OK();
  std::string a, b;
  if constexpr (std::is_same_v<T, std::string>) {
    a = state;
    b = mine;
  } else {
    a = std::to_string(state);
    b = std::to_string(mine);
  }
  return Status::InvalidArgument("loader: the state belongs to another loader: " +
                                 std::string(field) + " is " + a + " in the state, " + b +
                                 " here");
}

}  // namespace

Status Loader::Resume(const Store* store, Split split, const LoaderOptions& options,
                      std::string_view state, std::unique_ptr<Loader>* out) {
  if (store == nullptr) return Status::InvalidArgument("loader: a null store");
  if (options.scan.batch_size == 0) return Status::InvalidArgument("loader: batch_size is 0");
  if (static_cast<bool>(options.allocate) != static_cast<bool>(options.deallocate)) {
    return Status::InvalidArgument("loader: allocate and deallocate are given together");
  }
  {
    TransformRecord probe;  // the transform options' own checks
    OIV4KV_RETURN_IF_ERROR(PlanTransform(options.transform, 1, 1, {}, 0, 0, 0, &probe));
  }
  if (!store->HasConfig(options.scan.config)) {
    return Status::NotSupported("loader: the store has no complete " +
                                std::string(ConfigName(options.scan.config)) + " images");
  }
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  impl->split = split;
  impl->options = options;
  impl->options.scan.prefetch_batches = 0;
  impl->options.scan.with_images = false;
  uint64_t start = 0;
  if (state.empty()) {
    OIV4KV_RETURN_IF_ERROR(Scan::Open(store, split, impl->options.scan, &impl->scan));
  } else {
    StateFields f;
    ScanPosition pos;
    OIV4KV_RETURN_IF_ERROR(ParseState(state, &f, &pos));
    OIV4KV_RETURN_IF_ERROR(Differs("batch_size", f.batch_size, uint64_t{options.scan.batch_size}));
    OIV4KV_RETURN_IF_ERROR(
        Differs("remainder", f.remainder, std::string(RemainderName(options.remainder))));
    OIV4KV_RETURN_IF_ERROR(Differs("transform", f.transform,
                                   std::string(TransformKindName(options.transform.kind))));
    OIV4KV_RETURN_IF_ERROR(Differs("size", f.size, SizeName(options.transform)));
    if (!pos.scan) return Status::InvalidArgument("loader: the state names no scan");
    ScanPosition at = pos;
    at.offset = 0;  // the examples of the batches are checked below
    OIV4KV_RETURN_IF_ERROR(Scan::Resume(store, split, impl->options.scan, at, &impl->scan));
    start = f.batches;
  }
  impl->epoch = impl->scan->position().epoch;
  const uint64_t n = impl->scan->epoch_size();  // the split's, a subset's or a sampler's
  const uint64_t shards = impl->options.scan.num_shards, b = impl->options.scan.batch_size;
  impl->num_batches = options.remainder == Remainder::kDrop ? (n / shards) / b
                                                            : ((n + shards - 1) / shards + b - 1) / b;
  if (start > impl->num_batches) {
    return Status::InvalidArgument("loader: the state has " + std::to_string(start) +
                                   " batches delivered, the epoch holds " +
                                   std::to_string(impl->num_batches));
  }
  impl->image_bytes = ImageBytes(options.transform.width, options.transform.height, options.output);
  const size_t batch_bytes = impl->image_bytes * b;
  impl->ring.resize(size_t{options.prefetch} + 1);
  for (Entry& e : impl->ring) {
    e.slots.resize(b);
    e.memory = options.allocate
                   ? static_cast<uint8_t*>(options.allocate(batch_bytes))
                   : static_cast<uint8_t*>(::operator new[](batch_bytes, std::align_val_t(kAlignment)));
    if (e.memory == nullptr) {
      return Status::IOError("loader: allocate returned null for " + std::to_string(batch_bytes) +
                             " bytes");
    }
  }
  impl->next_item = start * b;
  impl->released = start;
  uint32_t threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  Impl* raw = impl.get();
  out->reset(new Loader(std::move(impl)));
  (*out)->delivered_ = start;
  for (uint32_t t = 0; t < threads; ++t) raw->workers.emplace_back([raw] { raw->Work(); });
  return Status::OK();
}

Status Loader::Next(const LoaderBatch** batch) {
  *batch = nullptr;
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  if (m.holding) {
    m.holding = false;
    ++m.released;
    m.work_cv.notify_all();
  }
  if (delivered_ == num_batches_) return Status::OK();
  Entry& e = m.ring[delivered_ % m.ring.size()];
  m.done_cv.wait(lock, [&] { return e.batch == delivered_ && e.done == m.batch_size(); });
  lock.unlock();  // workers do not touch a complete entry until it is released
  OIV4KV_RETURN_IF_ERROR(m.Assemble(e));
  ++delivered_;
  skipped_ += e.out.skipped;
  lock.lock();
  m.holding = true;
  *batch = &e.out;
  return Status::OK();
}

std::string Loader::position() const {
  const Impl& m = *impl_;
  ScanPosition pos = m.scan->position();
  pos.offset = std::min<uint64_t>(delivered_ * m.batch_size(), m.scan->size());
  return std::string(kStatePrefix) + "batch_size=" + std::to_string(m.batch_size()) +
         ",remainder=" + std::string(RemainderName(m.options.remainder)) +
         ",transform=" + std::string(TransformKindName(m.options.transform.kind)) +
         ",size=" + SizeName(m.options.transform) + ",batches=" + std::to_string(delivered_) +
         ";" + pos.Serialize();
}

}  // namespace oiv4kv
