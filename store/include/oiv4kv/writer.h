// Writer: creates a store, or opens one to add a config or resume a
// conversion. Data goes in as Batches (built on any thread, written
// atomically); commits write the per-split index and the manifest last, so
// readers see either nothing new or a complete, consistent store.
//
// Thread safety: Write() may be called from several threads at once; the
// other methods may not run concurrently with anything else. A Batch is not
// thread-safe: build one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/options.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"

namespace oiv4kv {

// The annotations of one example, as the writer takes them. Parallel arrays
// per group, in the meaning of oiv4kv/views.h.
struct ExampleData {
  struct Labels {
    std::vector<uint16_t> label;
    std::vector<uint8_t> confidence;
    std::vector<uint8_t> source;
  };
  struct Boxes {
    std::vector<uint16_t> label;
    std::vector<uint8_t> source;
    std::vector<float> bbox;  // 4 per box: ymin, xmin, ymax, xmax
    std::vector<int8_t> is_occluded, is_truncated, is_group_of,
        is_depiction, is_inside;
  };

  Split split = Split::kTrain;
  uint64_t image_id = 0;
  std::string filename;
  Labels objects;
  Labels objects_trainable;
  Boxes bobjects;
};

struct ImageMeta {
  uint32_t width = 0;
  uint32_t height = 0;
  ImageFormat format = ImageFormat::kUnknown;
};

class Writer;

// A set of puts applied atomically by Writer::Write. Reuse it with Clear().
class OIV4KV_EXPORT Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  // Serializes `example` (InvalidArgument if its arrays disagree in length).
  Status AddExample(const ExampleData& example);
  // Adds the encoded image of one example in `config`. InvalidArgument,
  // naming the image and the reason, with the batch unchanged, for: a config
  // or split outside its enum, no bytes, a width or height of 0, a format
  // other than kJpeg and kPng, or a side larger than the format allows
  // (JPEG 65535, PNG 2^31 - 1).
  Status AddImage(Config config, Split split, uint64_t image_id,
                  std::span<const uint8_t> bytes, const ImageMeta& meta);
  size_t Count() const;
  size_t ByteSize() const;
  void Clear();

 private:
  friend class Writer;
  // store/core/writer.cc: the converter's bookkeeping (writer_internal.h) reaches Rep through it.
  friend struct WriterAccess;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class OIV4KV_EXPORT Writer {
 public:
  // Creates the store at `path` if there is none, else opens it for writing
  // (NotSupported if its schema version differs). One writer at a time:
  // IOError if another process holds the store open for writing.
  static Status Open(const std::string& path, const WriterOptions& options,
                     std::unique_ptr<Writer>* writer);
  ~Writer();

  // Stores a vocabulary (replacing any earlier one of that kind). The source
  // vocabulary must be kSourceNames in order. InvalidArgument once the
  // annotations are committed.
  Status PutVocabulary(VocabKind kind, const std::vector<VocabEntry>& entries);

  // Records the label order of the annotations being converted in the
  // manifest, so that an unfinished store tells it. InvalidArgument once
  // the annotations are committed with another order.
  Status SetLabelOrder(LabelOrder label_order);

  // Records `config` as in progress: readers do not see it until
  // CommitConfig. Required before images of `config` are written (also to
  // rewrite a config that was complete).
  Status BeginConfig(Config config);

  // Applies `batch` atomically. InvalidArgument if it holds examples once
  // the annotations are committed, or images of a config not begun.
  // Thread-safe.
  Status Write(const Batch& batch);

  // Deletes every image of `config`, and every example too while the
  // annotations are not committed. InvalidArgument if `config` is complete.
  Status DiscardUnfinished(Config config);

  // Commits the examples of `splits`: builds each split's dense index from
  // the stored keys, records counts and label order, and writes the
  // manifest with annotations_complete. Requires every vocabulary.
  Status CommitAnnotations(LabelOrder label_order,
                           std::span<const Split> splits);

  // Marks `config` complete. Requires committed annotations and checks that
  // every example of every committed split has an image in `config`, and no
  // image lacks an example (Corruption naming the first offender). The
  // manifest records no conversion options or report for it.
  Status CommitConfig(Config config);

  // The manifest as it stands (committed or not).
  const Manifest& manifest() const;

  // The first error any call returned, or OK. Once not OK, commits refuse.
  Status status() const;

 private:
  struct Rep;
  // store/core/writer.cc: the internal opens (format/store_internal.h) and the
  // converter's bookkeeping (writer_internal.h) reach Rep through it.
  friend struct WriterAccess;
  explicit Writer(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace oiv4kv
