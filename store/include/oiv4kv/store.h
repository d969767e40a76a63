// Store: read-only access to an oiv4-kv store of Open Images V4.
//
// A store is a RocksDB directory written by `oiv4-kv convert` (or Writer).
// Every example of a split is addressed by its image id or by its position
// in the split (ids sorted ascending), and its annotations and images are
// returned as zero-copy views (oiv4kv/views.h).
//
// Thread-safe: one Store may serve any number of threads; any number of
// processes may open the same store at once (read-only open).
//
// Example:
//   std::unique_ptr<oiv4kv::Store> store;
//   OIV4KV_RETURN_IF_ERROR(oiv4kv::Store::Open("/data/oiv4", {}, &store));
//   oiv4kv::ExampleView ex;
//   OIV4KV_RETURN_IF_ERROR(store->At(oiv4kv::Split::kValidation, 0, &ex));
//   for (uint16_t label : ex.bobjects().label)
//     std::cout << store->vocabulary(oiv4kv::VocabKind::kBoxable)
//                      .display_name(label) << "\n";
//   oiv4kv::ImageView img;
//   OIV4KV_RETURN_IF_ERROR(store->GetImage(oiv4kv::Config::k300k,
//                                          ex.split(), ex.image_id(), &img));
//   decode(img.bytes(), img.width(), img.height());
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/options.h"
#include "oiv4kv/status.h"
#include "oiv4kv/views.h"
#include "oiv4kv/vocabulary.h"

namespace oiv4kv {

struct Query;
class LabelPostings;

// The order in which Store::DefaultConfig looks for a complete config: the
// smaller resized images first, `original` (the largest) last.
inline constexpr std::array<Config, kNumConfigs> kDefaultConfigOrder = {
    Config::k300k, Config::k200k, Config::kOriginal};

class OIV4KV_EXPORT Store {
 public:
  // Opens the store at `path` read-only. Fails with InvalidArgument if there
  // is no store there, NotSupported if its schema version is not
  // kSchemaVersion, Corruption if its manifest is unreadable, and
  // InvalidArgument if its annotations are not complete (a conversion never
  // committed): a reader never sees a partial store.
  static Status Open(const std::string& path, const StoreOptions& options,
                     std::unique_ptr<Store>* store);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The annotations of example `image_id` of `split`. NotFound if absent;
  // Corruption if the record fails verification.
  Status Get(Split split, uint64_t image_id, ExampleView* out) const;
  // The annotations of the `index`-th example of `split` (ids ascending).
  // InvalidArgument if index >= NumExamples(split).
  Status At(Split split, uint64_t index, ExampleView* out) const;

  // The image of example `image_id` in `config`. NotSupported if the store
  // has no complete `config`; NotFound if the example is absent.
  Status GetImage(Config config, Split split, uint64_t image_id,
                  ImageView* out) const;
  Status ImageAt(Config config, Split split, uint64_t index,
                 ImageView* out) const;

  // Batched lookups: resizes `out` and `statuses` to the batch size; entry i
  // answers image_ids[i] (or indices[i]) as Get/At/GetImage/ImageAt would.
  // Names: Get* look up by image id, *At by index in the split; the *Image*
  // forms return images of a config, the others annotations.
  void MultiGet(Split split, std::span<const uint64_t> image_ids,
                std::vector<ExampleView>* out,
                std::vector<Status>* statuses) const;
  void MultiAt(Split split, std::span<const uint64_t> indices,
               std::vector<ExampleView>* out,
               std::vector<Status>* statuses) const;
  void MultiGetImages(Config config, Split split,
                      std::span<const uint64_t> image_ids,
                      std::vector<ImageView>* out,
                      std::vector<Status>* statuses) const;
  void MultiImageAt(Config config, Split split, std::span<const uint64_t> indices,
                    std::vector<ImageView>* out, std::vector<Status>* statuses) const;

  // The indices in `split` (ascending) of the examples that meet `query`
  // (oiv4kv/query.h, which ParseQuery builds from text), computed on the
  // store's label index. NotSupported, saying to run `oiv4-kv index STORE`,
  // for a store converted before the index existed; InvalidArgument for a
  // query whose label is outside its vocabulary or whose threshold is not in
  // (0, 1]; Corruption if the index is damaged.
  Status Select(Split split, const Query& query, std::vector<uint64_t>* indices) const;
  // Whether every split of the store has its label index (`oiv4-kv index`).
  bool HasLabelIndex() const;
  // The label index's bytes (its encoded values, every split); 0 without one.
  uint64_t LabelIndexBytes() const;

  // Examples in `split` (0 for a split the store does not hold).
  uint64_t NumExamples(Split split) const;
  // The split's image ids, ascending: ImageIds(s)[i] is example i's id.
  // Valid as long as the Store.
  std::span<const uint64_t> ImageIds(Split split) const;
  // The split that holds example `image_id` (an id is in at most one);
  // nullopt if none does. For messages that say where an id is.
  std::optional<Split> SplitOf(uint64_t image_id) const;

  // The configs whose images are complete, in kAllConfigs order.
  std::vector<Config> Configs() const;
  bool HasConfig(Config config) const;
  // The config a reader uses when none is named: the first complete config
  // of kDefaultConfigOrder (300k, 200k, original); nullopt if the store has
  // no complete config. The one rule of `oiv4-kv get --image/--rgb`,
  // `oiv4-kv bench`, and Python's image/decoded/scan/torch datasets.
  std::optional<Config> DefaultConfig() const;

  const Vocabulary& vocabulary(VocabKind kind) const;
  LabelOrder label_order() const { return manifest_.label_order; }
  const Manifest& manifest() const { return manifest_; }
  const std::string& path() const { return path_; }

  // Bytes on disk per column family ("annotations", "images.300k", ...).
  std::map<std::string, uint64_t> ColumnFamilyBytes() const;

 private:
  struct Rep;
  // store/core/store.cc: the internal opens (format/store_internal.h) build a Store through it.
  friend struct StoreAccess;
  // store/core/query.cc: Select's evaluation reads the label index.
  friend class QueryEvaluator;
  Store(std::string path, std::unique_ptr<Rep> rep);

  Status CheckIndex(Split split, uint64_t index) const;
  // Views of the records at `positions` (kNoPosition: skipped, its status
  // already set) through the annotation index. REQUIRES: the index exists.
  static constexpr uint64_t kNoPosition = ~uint64_t{0};
  void ViewsFromIndex(Split split, std::span<const uint64_t> positions,
                      std::vector<ExampleView>* out, std::vector<Status>* statuses) const;
  Status CheckConfig(Config config) const;
  // The label index list `list` (store/core/label_index.h) of `split`, read
  // once and pinned; NotSupported if the store has none.
  Status LabelIndex(Split split, int list, const LabelPostings** out) const;

  std::string path_;
  std::unique_ptr<Rep> rep_;
  Manifest manifest_;
};

}  // namespace oiv4kv
