#include "oiv4kv/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "oiv4kv/version.h"
#include "store/core/annotation_index.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/format/store_internal.h"
#include "store/core/format/view_factory.h"
#include "store/core/label_index.h"

namespace oiv4kv {

struct Store::Rep {
  OpenDb db;
  StoreOptions options;
  rocksdb::ReadOptions read_options;
  std::array<std::vector<uint64_t>, kNumSplits> ids;
  std::array<IdLookup, kNumSplits> lookup;
  std::unique_ptr<AnnotationIndex> index;  // null: annotations read by Get
  std::array<Vocabulary, kNumVocabKinds> vocab;
  // The label index, read at its first use (Store::LabelIndex).
  struct LabelSlot {
    std::once_flag once;
    Status status;
    rocksdb::PinnableSlice pin;
    LabelPostings postings;
  };
  mutable std::array<std::array<LabelSlot, kNumLabelLists>, kNumSplits> labels;
};

namespace {

Status ReadValue(const OpenDb& db, Family family, std::string_view key,
                 std::string* value) {
  rocksdb::Status s = db.db->Get(rocksdb::ReadOptions(), db.family(family),
                                 rocksdb::Slice(key.data(), key.size()), value);
  return FromRocks(s, std::string(FamilyName(family)) + "/" + std::string(key));
}

std::unique_ptr<internal::PinnedValue> NewPin() {
  return std::make_unique<internal::PinnedValue>();
}

// The index pins blocks as stored; a compressed table would be pinned as
// decompressed heap copies (the whole family in private memory), so such a
// store is read through Get instead.
bool AnnotationsUncompressed(const OpenDb& db) {
  rocksdb::TablePropertiesCollection tables;
  if (!db.db->GetPropertiesOfAllTables(db.family(Family::kAnnotations), &tables).ok()) {
    return false;
  }
  for (const auto& [file, props] : tables) {
    if (props->compression_name != "NoCompression") return false;
  }
  return true;
}


// Whether a file of `before` (sorted names) is gone from `after`: files a
// writer added while an open ran only hold what came after the store the
// open saw; a deleted one (a flushed log, compacted tables, the MANIFEST
// CURRENT named) may have held what it needed. RocksDB's text LOG files do
// not count.
bool AnyFileDeleted(const std::vector<std::string>& before,
                    const std::vector<std::string>& after) {
  for (const std::string& name : before) {
    if (!name.starts_with("LOG") && !std::binary_search(after.begin(), after.end(), name))
      return true;
  }
  return false;
}

// A store another process is creating: RocksDB writes its folder, then its
// column families one by one, then CURRENT; an open in between finds no
// CURRENT or a family missing. Said as what it is, not as damage.
Status BeingCreatedStatus(const std::string& path, long writer, const Status& found) {
  return Status::InvalidArgument(path + ": store is incomplete: " + WriterRunningMessage(writer) +
                                 " and has not committed it yet (opening it found: " +
                                 found.ToString() + ")");
}
}  // namespace

// A read-only open reads CURRENT, then the MANIFEST it names, then the table
// files and write-ahead logs that MANIFEST lists. A writer extending the
// store (`oiv4-kv convert` adding a config) may delete some of those files
// between these steps (a flush deletes the log it emptied, a compaction its
// inputs, a new MANIFEST the old one): the open then fails ("Can't access
// 000029.sst", "vocab/all: NotFound") or misses what a deleted log held,
// although the store is healthy. So an open is retried from a fresh CURRENT
// when the folder's files changed while it ran, or when it failed while
// another process holds the store's lock; once the open is done every table
// file is open (max_open_files = -1) and later deletions do not matter.
// The one way into Store's constructor and Rep from outside the class.
struct StoreAccess {
  static Status OpenTuned(const std::string& path, const StoreOptions& options,
                          const LayoutTuning& tuning, std::unique_ptr<Store>* store);
};

Status StoreAccess::OpenTuned(const std::string& path, const StoreOptions& options,
                              const LayoutTuning& tuning, std::unique_ptr<Store>* store) {
  // One read-only open of the store as its files are now.
  auto open_once = [&]() -> Status {
    auto rep = std::make_unique<Store::Rep>();
    rep->options = options;
    rep->read_options.verify_checksums = options.verify_checksums;
    OIV4KV_RETURN_IF_ERROR(OpenRocksDb(path, ReaderDbOptions(options),
                                       ReaderFamilies(tuning),
                                       /*read_only=*/true, &rep->db));
    std::string value;
    Manifest manifest;
    Status s = ReadValue(rep->db, Family::kMeta, kManifestKey, &value);
    if (s.IsNotFound() && options.allow_incomplete) {
      manifest.schema_version = kSchemaVersion;
    } else if (s.IsNotFound()) {
      return Status::InvalidArgument(path + ": store is incomplete: no manifest was ever committed");
    } else {
      OIV4KV_RETURN_IF_ERROR(s);
      OIV4KV_RETURN_IF_ERROR(DecodeManifest(value, &manifest).WithContext(path));
    }
    if (manifest.schema_version != kSchemaVersion) {
      return Status::NotSupported(path + ": store has schema version " +
                                  std::to_string(manifest.schema_version) +
                                  ", this library reads version " +
                                  std::to_string(kSchemaVersion));
    }
    if (!manifest.annotations_complete && !options.allow_incomplete) {
      return Status::InvalidArgument(
          path + ": store is incomplete: its annotations were never committed "
                 "(conversion interrupted? run `oiv4-kv convert` again to resume)");
    }
    for (int k = 0; k < kNumVocabKinds; ++k) {
      const auto kind = static_cast<VocabKind>(k);
      std::vector<VocabEntry> entries;
      s = ReadValue(rep->db, Family::kVocab, VocabKindName(kind), &value);
      if (s.IsNotFound() && !manifest.annotations_complete) continue;  // allow_incomplete
      OIV4KV_RETURN_IF_ERROR(s);
      OIV4KV_RETURN_IF_ERROR(DecodeVocabulary(value, &entries)
                                 .WithContext(path + ": vocabulary " +
                                              std::string(VocabKindName(kind))));
      rep->vocab[k] = Vocabulary(std::move(entries));
    }
    for (Split split : kAllSplits) {
      const auto& count = manifest.num_examples[static_cast<int>(split)];
      if (!count) continue;
      auto& ids = rep->ids[static_cast<int>(split)];
      OIV4KV_RETURN_IF_ERROR(ReadValue(rep->db, Family::kMeta, IndexKey(split), &value));
      OIV4KV_RETURN_IF_ERROR(DecodeIndex(value, &ids).WithContext(path + ": " + IndexKey(split)));
      if (ids.size() != *count) {
        return Status::Corruption(path + ": " + IndexKey(split) + " holds " +
                                  std::to_string(ids.size()) + " ids, the manifest says " +
                                  std::to_string(*count));
      }
    }
    for (int s = 0; s < kNumSplits; ++s) rep->lookup[s] = IdLookup(rep->ids[s]);
    if (options.index_annotations && manifest.annotations_complete &&
        AnnotationsUncompressed(rep->db)) {
      OIV4KV_RETURN_IF_ERROR(AnnotationIndex::Build(rep->db.db.get(),
                                                    rep->db.family(Family::kAnnotations),
                                                    rep->ids, options.verify_checksums,
                                                    &rep->index)
                                 .WithContext(path));
    }
    store->reset(new Store(path, std::move(rep)));
    (*store)->manifest_ = std::move(manifest);
    return Status::OK();
  };
  constexpr int kAttempts = 40;  // each waits up to 50 ms: 2 s at most
  std::error_code ec;
  for (int attempt = 1;; ++attempt) {
    if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
      // A writer replaces CURRENT by renaming a new file over it: it is
      // never missing while one runs, except while it creates the store.
      const Status none = NoStoreStatus(path);
      if (const std::optional<long> writer = StoreWriterPid(path)) {
        return BeingCreatedStatus(path, *writer, none);
      }
      return none;
    }
    const std::vector<std::string> before = StoreFileNames(path);
    store->reset();
    Status s = open_once();
    const bool raced = AnyFileDeleted(before, StoreFileNames(path));
    if (s.ok() && !raced) return s;
    std::optional<long> writer;
    if (!s.ok() && !raced) {
      writer = StoreWriterPid(path);
      if (!writer) return s;  // the store as it stands: a real error
      if (s.message().find("Column family not found") != std::string::npos) {
        return BeingCreatedStatus(path, *writer, s);  // families still being added
      }
      // What the writer has committed so far (an incomplete store, another
      // schema): no retry will change it soon; say who is writing.
      if (s.IsInvalidArgument() || s.IsNotSupported()) {
        return s.WithContext(path + ": " + WriterRunningMessage(*writer));
      }
    }
    if (attempt == kAttempts) {
      if (s.ok()) return s;  // consistent as far as this open could tell
      store->reset();
      if (!writer) writer = StoreWriterPid(path);
      return writer ? s.WithContext(path + ": " + WriterRunningMessage(*writer) +
                                    ", and opening it failed " + std::to_string(kAttempts) +
                                    " times while it wrote")
                    : s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * attempt, 50)));
  }
}

Status OpenStoreTuned(const std::string& path, const StoreOptions& options,
                      const LayoutTuning& tuning, std::unique_ptr<Store>* store) {
  return StoreAccess::OpenTuned(path, options, tuning, store);
}

Status Store::Open(const std::string& path, const StoreOptions& options,
                   std::unique_ptr<Store>* store) {
  return OpenStoreTuned(path, options, LayoutTuning(), store);
}

Store::Store(std::string path, std::unique_ptr<Rep> rep)
    : path_(std::move(path)), rep_(std::move(rep)) {}

Store::~Store() = default;

Status Store::CheckIndex(Split split, uint64_t index) const {
  const uint64_t n = NumExamples(split);
  if (index >= n) {
    return Status::InvalidArgument("index " + std::to_string(index) + " out of range: " +
                                   std::string(SplitName(split)) + " has " +
                                   std::to_string(n) + " examples");
  }
  return Status::OK();
}

Status Store::CheckConfig(Config config) const {
  if (HasConfig(config)) return Status::OK();
  return Status::NotSupported(path_ + ": config " + std::string(ConfigName(config)) +
                              " is not complete in this store");
}

Status Store::LabelIndex(Split split, int list, const LabelPostings** out) const {
  Rep::LabelSlot& slot = rep_->labels[static_cast<int>(split)][list];
  std::call_once(slot.once, [&] {
    const std::string key = LabelIndexKey(split, static_cast<LabelList>(list));
    rocksdb::Status s = rep_->db.db->Get(rep_->read_options, rep_->db.family(Family::kMeta),
                                         rocksdb::Slice(key), &slot.pin);
    if (s.IsNotFound()) {
      slot.status = Status::NotSupported(
          path_ + ": store has no label index (it was converted before queries existed): run "
                  "`oiv4-kv index " + path_ + "` once to build it");
      return;
    }
    slot.status = FromRocks(s, path_ + ": meta/" + key);
    if (slot.status.ok()) {
      slot.status = LabelPostings::Parse(slot.pin.ToStringView(), static_cast<LabelList>(list),
                                         &slot.postings)
                        .WithContext(path_ + ": meta/" + key);
      if (slot.status.IsNotSupported()) {  // an index in an older format
        slot.status = Status::NotSupported(slot.status.message() + ": run `oiv4-kv index " +
                                           path_ + "` once to rebuild it");
      }
    }
    if (slot.status.ok() && slot.postings.num_examples() != NumExamples(split)) {
      slot.status = Status::Corruption(
          path_ + ": meta/" + key + " indexes " + std::to_string(slot.postings.num_examples()) +
          " examples, the split has " + std::to_string(NumExamples(split)) +
          " (run `oiv4-kv index " + path_ + "` to rebuild it)");
    }
    const size_t vocab = vocabulary(LabelListVocab(static_cast<LabelList>(list))).size();
    if (slot.status.ok() && slot.postings.num_labels() != vocab) {
      slot.status = Status::Corruption(path_ + ": meta/" + key + " indexes " +
                                       std::to_string(slot.postings.num_labels()) +
                                       " labels, the vocabulary has " + std::to_string(vocab));
    }
  });
  *out = &slot.postings;
  return slot.status;
}

bool Store::HasLabelIndex() const {
  for (Split split : kAllSplits) {
    if (!manifest_.num_examples[static_cast<int>(split)]) continue;
    for (int list = 0; list < kNumLabelLists; ++list) {
      const LabelPostings* postings;
      if (LabelIndex(split, list, &postings).IsNotSupported()) return false;
    }
  }
  return true;
}

uint64_t Store::LabelIndexBytes() const {
  uint64_t bytes = 0;
  for (Split split : kAllSplits) {
    if (!manifest_.num_examples[static_cast<int>(split)]) continue;
    for (int list = 0; list < kNumLabelLists; ++list) {
      const LabelPostings* postings;
      if (LabelIndex(split, list, &postings).ok()) {
        bytes += rep_->labels[static_cast<int>(split)][list].pin.size();
      }
    }
  }
  return bytes;
}

Status Store::Get(Split split, uint64_t image_id, ExampleView* out) const {
  if (rep_->index) {
    uint64_t index;
    if (!rep_->lookup[static_cast<int>(split)].Find(image_id, &index)) {
      return Status::NotFound("example " + ExampleName(split, image_id) + ": not in the store");
    }
    return ViewFactory::MakeExample(nullptr, rep_->index->Record(split, index), split, image_id,
                                    rep_->options.verify_records, out);
  }
  const Key key = EncodeKey(split, image_id);
  auto pin = NewPin();
  rocksdb::Status s = rep_->db.db->Get(rep_->read_options,
                                       rep_->db.family(Family::kAnnotations),
                                       rocksdb::Slice(key.data(), key.size()), &pin->slice);
  if (!s.ok()) return FromRocks(s, "example " + ExampleName(split, image_id));
  return ViewFactory::MakeExample(std::move(pin), split, image_id,
                                  rep_->options.verify_records, out);
}

Status Store::At(Split split, uint64_t index, ExampleView* out) const {
  OIV4KV_RETURN_IF_ERROR(CheckIndex(split, index));
  const uint64_t image_id = rep_->ids[static_cast<int>(split)][index];
  if (rep_->index) {
    return ViewFactory::MakeExample(nullptr, rep_->index->Record(split, index), split, image_id,
                                    rep_->options.verify_records, out);
  }
  return Get(split, image_id, out);
}

Status Store::GetImage(Config config, Split split, uint64_t image_id,
                       ImageView* out) const {
  OIV4KV_RETURN_IF_ERROR(CheckConfig(config));
  const Key key = EncodeKey(split, image_id);
  auto pin = NewPin();
  rocksdb::Status s = rep_->db.db->Get(rep_->read_options,
                                       rep_->db.family(ImagesFamily(config)),
                                       rocksdb::Slice(key.data(), key.size()), &pin->slice);
  if (!s.ok()) {
    return FromRocks(s, std::string(ConfigName(config)) + " image " +
                            ExampleName(split, image_id));
  }
  return ViewFactory::MakeImage(std::move(pin), config, split, image_id, out);
}

Status Store::ImageAt(Config config, Split split, uint64_t index, ImageView* out) const {
  OIV4KV_RETURN_IF_ERROR(CheckIndex(split, index));
  return GetImage(config, split, rep_->ids[static_cast<int>(split)][index], out);
}

namespace {

// One RocksDB MultiGet over `ids` in `family`; `make(i, pin, status)` turns
// entry i into a view.
template <typename Make>
void MultiGetPinned(const OpenDb& db, const rocksdb::ReadOptions& read_options,
                    Family family, Split split, std::span<const uint64_t> ids,
                    std::vector<Status>* statuses, Make make) {
  const size_t n = ids.size();
  std::vector<Key> keys(n);
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = EncodeKey(split, ids[i]);
    slices[i] = rocksdb::Slice(keys[i].data(), keys[i].size());
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> rs(n);
  db.db->MultiGet(read_options, db.family(family), n, slices.data(), values.data(),
                  rs.data());
  statuses->assign(n, Status::OK());
  for (size_t i = 0; i < n; ++i) {
    if (!rs[i].ok()) {
      (*statuses)[i] = FromRocks(rs[i], ExampleName(split, ids[i]));
      continue;
    }
    auto pin = NewPin();
    pin->slice = std::move(values[i]);
    (*statuses)[i] = make(i, std::move(pin));
  }
}

}  // namespace

void Store::ViewsFromIndex(Split split, std::span<const uint64_t> positions,
                           std::vector<ExampleView>* out, std::vector<Status>* statuses) const {
  // Prefetch records a few entries ahead so that their cache misses overlap
  // the verification of the current one: random batches then read at about
  // the speed of key-order ones.
  constexpr size_t kAhead = 4;
  const AnnotationIndex& index = *rep_->index;
  const std::span<const uint64_t> ids = ImageIds(split);
  auto prefetch = [&](size_t i) {
    if (i >= positions.size() || positions[i] == kNoPosition) return;
    const std::span<const uint8_t> r = index.Record(split, positions[i]);
    for (size_t at = 0; at < r.size(); at += 64) __builtin_prefetch(r.data() + at);
  };
  for (size_t i = 0; i < kAhead; ++i) prefetch(i);
  for (size_t i = 0; i < positions.size(); ++i) {
    prefetch(i + kAhead);
    if (positions[i] == kNoPosition) continue;
    (*statuses)[i] = ViewFactory::MakeExample(nullptr, index.Record(split, positions[i]), split,
                                              ids[positions[i]], rep_->options.verify_records,
                                              &(*out)[i]);
  }
}

void Store::MultiGet(Split split, std::span<const uint64_t> image_ids,
                     std::vector<ExampleView>* out, std::vector<Status>* statuses) const {
  out->clear();
  out->resize(image_ids.size());
  if (rep_->index) {
    statuses->assign(image_ids.size(), Status::OK());
    std::vector<uint64_t> positions(image_ids.size());
    for (size_t i = 0; i < image_ids.size(); ++i) {
      if (!rep_->lookup[static_cast<int>(split)].Find(image_ids[i], &positions[i])) {
        positions[i] = kNoPosition;
        (*statuses)[i] = Status::NotFound("example " + ExampleName(split, image_ids[i]) +
                                          ": not in the store");
      }
    }
    ViewsFromIndex(split, positions, out, statuses);
    return;
  }
  const bool verify = rep_->options.verify_records;
  MultiGetPinned(rep_->db, rep_->read_options, Family::kAnnotations, split, image_ids,
                 statuses, [&](size_t i, std::unique_ptr<internal::PinnedValue> pin) {
                   return ViewFactory::MakeExample(std::move(pin), split, image_ids[i],
                                                   verify, &(*out)[i]);
                 });
}

void Store::MultiAt(Split split, std::span<const uint64_t> indices,
                    std::vector<ExampleView>* out, std::vector<Status>* statuses) const {
  if (rep_->index) {
    out->clear();
    out->resize(indices.size());
    statuses->assign(indices.size(), Status::OK());
    std::vector<uint64_t> positions(indices.begin(), indices.end());
    for (size_t i = 0; i < indices.size(); ++i) {
      (*statuses)[i] = CheckIndex(split, indices[i]);
      if (!(*statuses)[i].ok()) positions[i] = kNoPosition;
    }
    ViewsFromIndex(split, positions, out, statuses);
    return;
  }
  // Out-of-range indices get their own status; the rest go in one MultiGet.
  std::vector<uint64_t> ids;
  std::vector<size_t> where;
  std::vector<Status> index_status(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    index_status[i] = CheckIndex(split, indices[i]);
    if (index_status[i].ok()) {
      ids.push_back(rep_->ids[static_cast<int>(split)][indices[i]]);
      where.push_back(i);
    }
  }
  std::vector<ExampleView> found;
  std::vector<Status> found_status;
  MultiGet(split, ids, &found, &found_status);
  out->clear();
  out->resize(indices.size());
  *statuses = std::move(index_status);
  for (size_t j = 0; j < where.size(); ++j) {
    (*out)[where[j]] = std::move(found[j]);
    (*statuses)[where[j]] = std::move(found_status[j]);
  }
}

void Store::MultiGetImages(Config config, Split split,
                           std::span<const uint64_t> image_ids,
                           std::vector<ImageView>* out,
                           std::vector<Status>* statuses) const {
  out->clear();
  out->resize(image_ids.size());
  Status config_status = CheckConfig(config);
  if (!config_status.ok()) {
    statuses->assign(image_ids.size(), config_status);
    return;
  }
  MultiGetPinned(rep_->db, rep_->read_options, ImagesFamily(config), split, image_ids,
                 statuses, [&](size_t i, std::unique_ptr<internal::PinnedValue> pin) {
                   return ViewFactory::MakeImage(std::move(pin), config, split,
                                                 image_ids[i], &(*out)[i]);
                 });
}

void Store::MultiImageAt(Config config, Split split, std::span<const uint64_t> indices,
                         std::vector<ImageView>* out, std::vector<Status>* statuses) const {
  // One MultiGetImages over the ids of the valid indices, scattered back.
  std::vector<uint64_t> ids;
  std::vector<size_t> slots;
  statuses->assign(indices.size(), Status::OK());
  for (size_t i = 0; i < indices.size(); ++i) {
    (*statuses)[i] = CheckIndex(split, indices[i]);
    if (!(*statuses)[i].ok()) continue;
    ids.push_back(rep_->ids[static_cast<int>(split)][indices[i]]);
    slots.push_back(i);
  }
  std::vector<ImageView> found;
  std::vector<Status> found_statuses;
  MultiGetImages(config, split, ids, &found, &found_statuses);
  out->clear();
  out->resize(indices.size());
  for (size_t k = 0; k < slots.size(); ++k) {
    (*out)[slots[k]] = std::move(found[k]);
    (*statuses)[slots[k]] = std::move(found_statuses[k]);
  }
}

uint64_t Store::NumExamples(Split split) const {
  return rep_->ids[static_cast<int>(split)].size();
}

std::span<const uint64_t> Store::ImageIds(Split split) const {
  return rep_->ids[static_cast<int>(split)];
}

std::optional<Split> Store::SplitOf(uint64_t image_id) const {
  for (Split split : kAllSplits) {
    const std::span<const uint64_t> ids = ImageIds(split);
    if (std::binary_search(ids.begin(), ids.end(), image_id)) return split;
  }
  return std::nullopt;
}

std::vector<Config> Store::Configs() const {
  std::vector<Config> out;
  for (Config c : kAllConfigs) {
    if (HasConfig(c)) out.push_back(c);
  }
  return out;
}

std::optional<Config> Store::DefaultConfig() const {
  for (Config c : kDefaultConfigOrder) {
    if (HasConfig(c)) return c;
  }
  return std::nullopt;
}

bool Store::HasConfig(Config config) const {
  const ConfigManifest* c = manifest_.FindConfig(config);
  return c != nullptr && c->complete;
}

const Vocabulary& Store::vocabulary(VocabKind kind) const {
  return rep_->vocab[static_cast<int>(kind)];
}

std::map<std::string, uint64_t> Store::ColumnFamilyBytes() const {
  std::map<std::string, uint64_t> out;
  for (int i = 0; i < kNumFamilies; ++i) {
    const auto f = static_cast<Family>(i);
    rocksdb::ColumnFamilyMetaData meta;
    rep_->db.db->GetColumnFamilyMetaData(rep_->db.family(f), &meta);
    out[std::string(FamilyName(f))] = meta.size;
  }
  return out;
}

}  // namespace oiv4kv
