// Split.scan: an iterator over oiv4kv::Scan that yields TFDS-shaped dicts
// and can say, after any example, where to resume.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <variant>
#include <vector>

#include "oiv4kv/scan.h"
#include "python/src/arrays.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

// The iterator. Not thread-safe (as Scan); the GIL serializes Python callers.
class ScanIterator {
 public:
  ScanIterator(SplitRef split, ScanOptions options, std::optional<DecodeOptions> decode,
               const ScanPosition& start)
      : split_(std::move(split)), options_(options), decode_(decode), position_(start) {
    Reopen();
  }

  ~ScanIterator() {
    if (generation_ != ForkGeneration()) LeakInheritedState();
  }

  py::dict Next() {
    if (generation_ != ForkGeneration()) {
      LeakInheritedState();
      Reopen();
    }
    if (next_ == examples_.size()) ReadBatch();
    if (examples_.empty()) throw py::stop_iteration();
    const size_t i = next_++;
    ++position_.offset;
    py::dict example = ExampleDict(store_, std::move(examples_[i]));
    if (options_.with_images) {
      if (decode_) {
        WarnIfTruncated(decoded_[i]);
        example["image"] = PixelArray(std::move(decoded_[i]));
      } else {
        example["image"] = ImageArray(store_, std::move(images_[i]));
      }
    }
    return example;
  }

  // Where a scan resumed from this state continues: after the last example
  // Next returned.
  std::string State() const { return position_.Serialize(); }
  uint64_t size() const { return scan_->size(); }
  uint64_t epoch() const { return position_.epoch; }
  uint64_t offset() const { return position_.offset; }
  py::array Indices() const {
    const std::vector<uint64_t>& indices = scan_->indices();
    return py::array_t<uint64_t>(static_cast<py::ssize_t>(indices.size()), indices.data());
  }

 private:
  // Opens the C++ scan at position_ on this process's store.
  void Reopen() {
    store_ = split_.handle->Get();
    std::unique_ptr<Scan> scan;
    ThrowIfError(Scan::Resume(store_.get(), split_.split, options_, position_, &scan));
    position_.scan = scan->identity();  // so that state() names this scan
    scan_ = std::move(scan);
    examples_.clear();
    images_.clear();
    decoded_.clear();
    next_ = 0;
    generation_ = ForkGeneration();
  }

  // In a forked child the scan's read-ahead thread and the batch's views
  // belong to the parent's store, which must not be touched (store_handle.h).
  void LeakInheritedState() {
    new std::unique_ptr<Scan>(std::move(scan_));
    new std::vector<ExampleView>(std::move(examples_));
    new std::vector<ImageView>(std::move(images_));
    new std::shared_ptr<const Store>(std::move(store_));
    examples_.clear();
    images_.clear();
  }

  void ReadBatch() {
    Status status;
    {
      py::gil_scoped_release release;
      status = scan_->Next(&examples_, &images_);
      if (status.ok() && decode_) {
        decoded_.resize(images_.size());
        for (size_t i = 0; i < images_.size() && status.ok(); ++i) {
          status = DecodeWithThreadDecoder(images_[i], *decode_, &decoded_[i]);
        }
        images_.clear();  // decoded: the encoded bytes are no longer needed
      }
    }
    if (!status.ok()) {
      // Next keeps its position on error, but the decoded batch is gone:
      // reopen at the first example not yet returned, so a retry reads it.
      Reopen();
      ThrowStatus(status);
    }
    next_ = 0;
  }

  SplitRef split_;
  ScanOptions options_;
  std::optional<DecodeOptions> decode_;
  ScanPosition position_;  // after the last example returned
  std::shared_ptr<const Store> store_;
  std::unique_ptr<Scan> scan_;
  std::vector<ExampleView> examples_;
  std::vector<ImageView> images_;
  std::vector<DecodedImage> decoded_;
  size_t next_ = 0;
  uint64_t generation_ = 0;
};

// Defines `scan` on Split and Subset alike: `split_of(ref)` is the SplitRef,
// `subset_of(ref)` the ScanOptions::subset (null for a whole split).
template <typename Ref, typename SplitOf, typename SubsetOf>
void DefScan(py::class_<Ref>& cls, SplitOf split_of, SubsetOf subset_of) {
  cls.def(
      "scan",
      [split_of, subset_of](const Ref& ref, const std::string& order, uint64_t seed, uint64_t epoch,
         uint32_t shard_index, uint32_t num_shards, uint32_t batch_size, uint32_t prefetch_batches,
         uint32_t block_size, uint32_t window, const std::optional<std::string>& config,
         const py::object& decode, const std::optional<std::string>& state,
         const py::object& sampler) {
        const SplitRef& split = split_of(ref);
        ScanOptions o;
        // Both set: Scan refuses, saying to build the sampler on the subset.
        o.subset = subset_of(ref);
        o.sampler = SamplerArg(split, sampler);
        o.order = EnumArg<ScanOrder>("order", order, ParseScanOrder, ScanOrderNames());
        o.seed = seed;
        o.epoch = epoch;
        o.shard_index = shard_index;
        o.num_shards = num_shards;
        o.batch_size = batch_size;
        o.prefetch_batches = prefetch_batches;
        o.block_size = block_size;
        o.window = window;
        std::optional<DecodeOptions> decode_options;
        if (py::isinstance<DecodeOptions>(decode)) {
          decode_options = decode.cast<DecodeOptions>();
        } else if (py::isinstance<py::bool_>(decode) || decode.is_none()) {
          if (py::bool_(decode)) decode_options = DecodeOptions{};
        } else {
          throw py::type_error("decode must be a bool or an oiv4kv.DecodeOptions");
        }
        if (decode_options && !config) {
          throw py::value_error("decode needs a config: scan(config='300k', decode=True)");
        }
        if (config) {
          std::shared_ptr<const Store> store = split.handle->Get();
          o.with_images = true;
          o.config = ConfigArg(*store, config);
        }
        ScanPosition start{epoch, 0};
        if (state) ThrowIfError(ScanPosition::Parse(*state, &start));
        return std::make_unique<ScanIterator>(split, o, decode_options, start);
      },
      py::kw_only(), py::arg("order") = "shuffled", py::arg("seed") = 0, py::arg("epoch") = 0,
      py::arg("shard_index") = 0, py::arg("num_shards") = 1, py::arg("batch_size") = 64,
      py::arg("prefetch_batches") = 2, py::arg("block_size") = 256, py::arg("window") = 16,
      py::arg("config") = py::none(), py::arg("decode") = false, py::arg("state") = py::none(),
      py::arg("sampler") = py::none(),
      R"doc(
Iterates shard `shard_index` of `num_shards` of epoch `epoch` of the split
(of a Subset: of its examples, the split's indices it holds) in
`order` ('sequential', 'shuffled' or 'block_shuffled'), a pure function of
(seed, epoch, split size, order, block_size, window): shards are disjoint and
together cover the epoch exactly once. Reads `batch_size` examples at a time
without the GIL, `prefetch_batches` ahead on a background thread.

config: also yield "image", the stored bytes of that config (zero-copy), or
  with decode=True (or an oiv4kv.DecodeOptions) the decoded H x W x 3 array.
state: a string from ScanIterator.state(); the scan continues right after the
  last example yielded before it was taken (its epoch replaces `epoch`). The
  state names its scan (split, the split's size, order, seed, block_size,
  window, shard): ValueError, naming the field that differs, if it is not
  this scan's. Version-1 states ("scan1:...") are refused.
sampler: an oiv4kv.Sampler built on this split: the epoch is then
  sampler.epoch(seed, epoch) (repeats included) in `order`, extended by its
  own first entries to a multiple of num_shards so that every shard holds
  the same number; the state records the sampler.
)doc");
}

}  // namespace

void BindScan(py::module_& m) {
  py::class_<ScanIterator>(m, "ScanIterator", R"doc(
One shard of one epoch of a split, as Split.scan returns it. Iterating yields
TFDS-shaped dicts (with "image" when the scan has a config). state() is a
string that Split.scan(state=...) resumes from: the next example after the
last one yielded. len() is the number of examples in this shard's epoch.
)doc")
      .def("__iter__", [](ScanIterator& it) -> ScanIterator& { return it; })
      .def("__next__", &ScanIterator::Next)
      .def("__len__", &ScanIterator::size)
      .def("state", &ScanIterator::State)
      .def_property_readonly("epoch", &ScanIterator::epoch)
      .def_property_readonly("offset", &ScanIterator::offset,
                             "Examples of this shard's epoch already yielded.")
      .def_property_readonly("indices", &ScanIterator::Indices,
                             "This shard's example indices in scan order (a copy).");

  auto split_class = py::reinterpret_borrow<py::class_<SplitRef>>(m.attr("Split"));
  DefScan(split_class, [](const SplitRef& s) -> const SplitRef& { return s; },
          [](const SplitRef&) { return std::shared_ptr<const std::vector<uint64_t>>(); });
}

void DefSubsetScan(py::class_<SubsetRef>& subset_class) {
  DefScan(subset_class, [](const SubsetRef& s) -> const SplitRef& { return s.split; },
          [](const SubsetRef& s) { return s.indices; });
}

}  // namespace oiv4kv::python
