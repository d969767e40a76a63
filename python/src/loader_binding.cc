// oiv4kv.Loader: oiv4kv::Loader's batches as dicts of numpy arrays, the
// images a zero-copy view of the ring slot; and oiv4kv.TransformOptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oiv4kv/loader.h"
#include "oiv4kv/scan.h"
#include "oiv4kv/transform.h"
#include "oiv4kv/transform_decoder.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

TransformKind KindArg(const std::string& name) {
  return EnumArg<TransformKind>("transform", name, ParseTransformKind, TransformKindNames());
}

// A copy of `values` as a 1-d numpy array (the batch's vectors are reused).
template <typename T>
py::array Copy(const std::vector<T>& values) {
  return py::array_t<T>(static_cast<py::ssize_t>(values.size()), values.data());
}

py::array BoolCopy(const std::vector<uint8_t>& values) {
  py::array_t<bool> out(static_cast<py::ssize_t>(values.size()));
  bool* p = out.mutable_data();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i] != 0;
  return out;
}

py::dict LabelsDict(const RaggedLabels& labels) {
  py::dict d;
  d["label"] = Copy(labels.label);
  d["confidence"] = Copy(labels.confidence);
  d["source"] = Copy(labels.source);
  d["offsets"] = Copy(labels.offsets);
  return d;
}

py::dict BoxesDict(const RaggedBoxes& boxes) {
  py::dict d;
  const auto n = static_cast<py::ssize_t>(boxes.label.size());
  py::array_t<float> bbox({n, py::ssize_t{4}});
  std::copy(boxes.bbox.begin(), boxes.bbox.end(), bbox.mutable_data());
  d["bbox"] = bbox;
  d["label"] = Copy(boxes.label);
  d["source"] = Copy(boxes.source);
  d["kept"] = BoolCopy(boxes.kept);
  d["is_occluded"] = Copy(boxes.is_occluded);
  d["is_truncated"] = Copy(boxes.is_truncated);
  d["is_group_of"] = Copy(boxes.is_group_of);
  d["is_depiction"] = Copy(boxes.is_depiction);
  d["is_inside"] = Copy(boxes.is_inside);
  d["offsets"] = Copy(boxes.offsets);
  return d;
}

py::dict TransformsDict(const std::vector<TransformRecord>& records) {
  const auto n = static_cast<py::ssize_t>(records.size());
  py::array_t<double> crop_x(n), crop_y(n), crop_w(n), crop_h(n);
  py::array_t<uint32_t> src_w(n), src_h(n), content_w(n), content_h(n);
  py::array_t<int32_t> pad_x(n), pad_y(n);
  py::array_t<bool> flip(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    const TransformRecord& r = records[static_cast<size_t>(i)];
    crop_x.mutable_at(i) = r.crop_x;
    crop_y.mutable_at(i) = r.crop_y;
    crop_w.mutable_at(i) = r.crop_width;
    crop_h.mutable_at(i) = r.crop_height;
    src_w.mutable_at(i) = r.source_width;
    src_h.mutable_at(i) = r.source_height;
    content_w.mutable_at(i) = r.content_width;
    content_h.mutable_at(i) = r.content_height;
    pad_x.mutable_at(i) = r.pad_x;
    pad_y.mutable_at(i) = r.pad_y;
    flip.mutable_at(i) = r.flip;
  }
  py::dict d;
  d["source_width"] = src_w;
  d["source_height"] = src_h;
  d["crop_x"] = crop_x;
  d["crop_y"] = crop_y;
  d["crop_width"] = crop_w;
  d["crop_height"] = crop_h;
  d["content_width"] = content_w;
  d["content_height"] = content_h;
  d["pad_x"] = pad_x;
  d["pad_y"] = pad_y;
  d["flip"] = flip;
  return d;
}

py::dtype ImageDTypeOf(ImageDType dtype) {
  switch (dtype) {
    case ImageDType::kUint8: return py::dtype::of<uint8_t>();
    case ImageDType::kFloat32: return py::dtype::of<float>();
    case ImageDType::kFloat16: return py::dtype("float16");
  }
  return py::dtype::of<uint8_t>();
}

// The Python oiv4kv.Loader. Used from one thread at a time (as the C++
// Loader); a second thread calling while the first waits gets RuntimeError.
class PyLoader {
 public:
  PyLoader(SplitRef split, LoaderOptions options, std::optional<std::string> state)
      : split_(std::move(split)), options_(std::move(options)), state_(std::move(state)) {
    Reopen();
  }

  ~PyLoader() {
    if (generation_ != ForkGeneration()) LeakInherited();
  }

  // The next batch; `self` is the Python object, the images' base.
  py::dict Next(py::object self) {
    if (busy_) throw std::runtime_error("oiv4kv.Loader is used by another thread");
    if (generation_ != ForkGeneration()) {
      LeakInherited();
      Reopen();
    }
    const LoaderBatch* batch = nullptr;
    Status status;
    busy_ = true;
    {
      py::gil_scoped_release release;
      status = loader_->Next(&batch);
    }
    busy_ = false;
    ThrowIfError(status);
    if (batch == nullptr) throw py::stop_iteration();
    state_ = loader_->position();

    const auto b = static_cast<py::ssize_t>(batch->size);
    const auto h = static_cast<py::ssize_t>(batch->height);
    const auto w = static_cast<py::ssize_t>(batch->width);
    std::vector<py::ssize_t> shape = batch->output.layout == ImageLayout::kHWC
                                         ? std::vector<py::ssize_t>{b, h, w, 3}
                                         : std::vector<py::ssize_t>{b, 3, h, w};
    // Zero-copy and writable (torch.from_numpy takes it as is); `self` keeps
    // the ring alive. Valid until the next batch: the slot is then reused.
    py::array image(ImageDTypeOf(batch->output.dtype), shape, batch->images.data(), self);
    py::dict d;
    d["image"] = image;
    d["image_id"] = Copy(batch->image_ids);
    d["index"] = Copy(batch->indices);
    d["valid"] = BoolCopy(batch->valid);
    d["transform"] = TransformsDict(batch->transforms);
    d["objects"] = LabelsDict(batch->objects);
    d["objects_trainable"] = LabelsDict(batch->objects_trainable);
    d["bobjects"] = BoxesDict(batch->bobjects);
    d["batch_index"] = batch->batch_index;
    d["skipped"] = batch->skipped;
    return d;
  }

  uint64_t size() const { return loader_->size(); }
  uint64_t delivered() const { return loader_->delivered(); }
  uint64_t skipped() const { return loader_->skipped(); }
  // The epoch read: a resumed loader's is its state's (Resume's rule).
  uint64_t epoch() const {
    const std::string state = State();
    const size_t scan = state.find(';');
    ScanPosition position;
    if (scan != std::string::npos && ScanPosition::Parse(state.substr(scan + 1), &position).ok()) {
      return position.epoch;
    }
    return options_.scan.epoch;
  }
  std::string State() const { return state_ ? *state_ : loader_->position(); }

 private:
  void Reopen() {
    store_ = split_.handle->Get();
    std::unique_ptr<Loader> loader;
    Status status;
    {
      py::gil_scoped_release release;
      status = state_ ? Loader::Resume(store_.get(), split_.split, options_, *state_, &loader)
                      : Loader::Open(store_.get(), split_.split, options_, &loader);
    }
    ThrowIfError(status);
    loader_ = std::move(loader);
    generation_ = ForkGeneration();
  }

  // In a forked child the Loader's worker threads do not exist and its store
  // is the parent's (store_handle.h): never destroy them; arrays handed out
  // before the fork stay valid.
  void LeakInherited() {
    new std::unique_ptr<Loader>(std::move(loader_));
    new std::shared_ptr<const Store>(std::move(store_));
  }

  SplitRef split_;
  LoaderOptions options_;
  std::optional<std::string> state_;  // after the last batch delivered
  std::shared_ptr<const Store> store_;
  std::unique_ptr<Loader> loader_;
  uint64_t generation_ = 0;
  bool busy_ = false;
};

TransformOptions MakeTransformOptions(const std::string& kind, uint32_t width, uint32_t height,
                                      std::array<double, 2> scale, std::array<double, 2> ratio,
                                      uint32_t resize_shorter, double jitter_min,
                                      double jitter_max, uint8_t pad_value,
                                      double flip_probability, double min_box_area_kept) {
  TransformOptions o;
  o.kind = KindArg(kind);
  o.width = width;
  o.height = height;
  o.scale = scale;
  o.ratio = ratio;
  o.resize_shorter = resize_shorter;
  o.jitter_min = jitter_min;
  o.jitter_max = jitter_max;
  o.pad_value = pad_value;
  o.flip_probability = flip_probability;
  o.min_box_area_kept = min_box_area_kept;
  return o;
}

std::array<float, 3> Triple(const char* what, const py::object& value, float fallback) {
  if (value.is_none()) return {fallback, fallback, fallback};
  const auto v = value.cast<std::vector<float>>();
  if (v.size() == 1) return {v[0], v[0], v[0]};
  if (v.size() != 3) {
    throw py::value_error(std::string(what) + " must have 1 or 3 values (R, G, B), not " +
                          std::to_string(v.size()));
  }
  return {v[0], v[1], v[2]};
}

}  // namespace

void BindLoader(py::module_& m) {
  py::class_<TransformOptions>(m, "TransformOptions", R"doc(
Every parameter of the Loader's per-example transform (oiv4kv/transform.h).
kind: 'random_resized_crop', 'center_crop', 'resize' or 'letterbox'. The
defaults are the C++ library's (flip_probability=0.5 for every kind; a
transform given by name to Loader flips only for 'random_resized_crop').
)doc")
      .def(py::init(&MakeTransformOptions), py::arg("kind") = "random_resized_crop",
           py::kw_only(), py::arg("width") = 224, py::arg("height") = 224,
           py::arg("scale") = std::array<double, 2>{0.08, 1.0},
           py::arg("ratio") = std::array<double, 2>{3.0 / 4.0, 4.0 / 3.0},
           py::arg("resize_shorter") = 0, py::arg("jitter_min") = 1.0,
           py::arg("jitter_max") = 1.0, py::arg("pad_value") = 114,
           py::arg("flip_probability") = 0.5, py::arg("min_box_area_kept") = 0.25)
      .def_property(
          "kind", [](const TransformOptions& o) { return std::string(TransformKindName(o.kind)); },
          [](TransformOptions& o, const std::string& name) { o.kind = KindArg(name); })
      .def_readwrite("width", &TransformOptions::width)
      .def_readwrite("height", &TransformOptions::height)
      .def_readwrite("scale", &TransformOptions::scale)
      .def_readwrite("ratio", &TransformOptions::ratio)
      .def_readwrite("resize_shorter", &TransformOptions::resize_shorter)
      .def_readwrite("jitter_min", &TransformOptions::jitter_min)
      .def_readwrite("jitter_max", &TransformOptions::jitter_max)
      .def_readwrite("pad_value", &TransformOptions::pad_value)
      .def_readwrite("flip_probability", &TransformOptions::flip_probability)
      .def_readwrite("min_box_area_kept", &TransformOptions::min_box_area_kept)
      .def("__repr__", [](const TransformOptions& o) {
        return "<oiv4kv.TransformOptions '" + std::string(TransformKindName(o.kind)) + "' " +
               std::to_string(o.width) + "x" + std::to_string(o.height) + ">";
      });
  m.attr("TRANSFORMS") = py::tuple(py::cast(TransformKindNames()));

  py::class_<PyLoader>(m, "Loader", R"doc(
Augmented training batches of one split, decoded, cropped, resized and
flipped by `threads` native worker threads into a ring of prefetch + 1
preallocated batches (oiv4kv/loader.h).

  loader = oiv4kv.Loader(store, "train", batch_size=256, size=(224, 224),
                         seed=0, epoch=epoch, shard_index=rank, num_shards=world)
  for batch in loader:
      images = batch["image"]     # uint8[B, H, W, 3], a view of the ring slot
      ...                         # batch["valid"], batch["bobjects"], ...
  state = loader.state()          # oiv4kv.Loader(..., state=state) resumes

store: an oiv4kv.Store or its path; split: its name, or an oiv4kv.Subset of
  one of its splits (split.select("box:Dog")): the loader then reads only the
  subset's examples, shuffled and sharded over them, and len() and state()
  follow the subset (a state of one subset is refused by another).
size: (height, width) of the output, or one int for a square; None: the
  options object's size, or 224 x 224.
transform: a name with torchvision's defaults ('random_resized_crop',
  scale (0.08, 1), ratio (3/4, 4/3), flip p=0.5: the default;
  'center_crop': resize the shorter side to size * 256 / 224, then crop;
  'resize'; 'letterbox': the longest side fits, padded with 114), none but
  'random_resized_crop' flipping; or an oiv4kv.TransformOptions.
order, seed, epoch, shard_index, num_shards, block_size, window: as
  Split.scan. threads: worker threads (0: all cores). prefetch: batches
  filled ahead. remainder: 'pad' (the last batch padded, valid=False) or
  'drop'; every shard gets the same number of batches either way.
bad_image: 'error' (the batch raises, naming the image; retrying raises
  again) or 'skip' (zeros, valid=False, counted in batch["skipped"]).
layout 'hwc' or 'chw', dtype 'uint8', 'float32' or 'float16'; float output is
  (v / 255 - mean) / std per channel (torchvision's ToTensor + Normalize;
  mean and std: 3 values, or 1 for all; default 0 and 1).
config: the stored image config (None: the store's default).
sampler: an oiv4kv.Sampler of this split: each epoch is its sampled
  multiset (Split.scan's rule); an image repeated in an epoch gets its own
  crop and flip per repeat.
state: a string from state(): continue after the last batch it delivered.

Each batch is a dict: "image" (B x H x W x 3, or B x 3 x H x W), a WRITABLE
ZERO-COPY VIEW of the ring slot: valid until the next batch is taken (the
slot is then refilled), so .copy() what must outlive it; "image_id", "index"
(uint64[B]), "valid" (bool[B]), "transform" (per example: source_width/
height, crop_x/y/width/height in source pixels, content_width/height,
pad_x/y, flip), and ragged annotations "objects", "objects_trainable" (label,
confidence, source) and "bobjects" (bbox float32[M, 4] in output
coordinates, label, source, kept, is_*): example i's rows are
offsets[i]:offsets[i + 1]. The GIL is released while a batch is waited for.
len() is the number of batches of this shard's epoch.
)doc")
      .def(py::init([](py::object store, const py::object& split, uint32_t batch_size,
                       const py::object& size, const py::object& transform,
                       const std::string& order, uint64_t seed, uint64_t epoch,
                       uint32_t shard_index, uint32_t num_shards, uint32_t threads,
                       uint32_t prefetch, const std::string& remainder,
                       const std::string& bad_image, const std::string& layout,
                       const std::string& dtype, const py::object& mean, const py::object& std,
                       const std::optional<std::string>& state, uint32_t block_size,
                       uint32_t window, const std::optional<std::string>& config,
                       const py::object& sampler) {
             if (py::isinstance<py::str>(store)) {
               store = py::module_::import("oiv4kv").attr("Store")(store);
             }
             // A Subset: scan its examples (ScanOptions::subset, shared, no copy).
             std::shared_ptr<const std::vector<uint64_t>> subset;
             std::optional<SplitRef> split_ref;
             if (py::isinstance<SubsetRef>(split)) {
               const auto& s = split.cast<const SubsetRef&>();
               if (s.split.handle->path() != store.attr("path").cast<std::string>()) {
                 throw py::value_error("the Subset is of the store at " + s.split.handle->path() +
                                       ", not of " + store.attr("path").cast<std::string>());
               }
               split_ref = s.split;
               subset = s.indices;
             } else if (py::isinstance<py::str>(split)) {
               split_ref = store.attr("split")(split).cast<SplitRef>();
             } else {
               throw py::type_error("split must be a split name or an oiv4kv.Subset");
             }
             SplitRef ref = std::move(*split_ref);
             LoaderOptions o;
             o.scan.subset = std::move(subset);
             o.scan.sampler = SamplerArg(ref, sampler);
             o.scan.order = EnumArg<ScanOrder>("order", order, ParseScanOrder, ScanOrderNames());
             o.scan.seed = seed;
             o.scan.epoch = epoch;
             o.scan.shard_index = shard_index;
             o.scan.num_shards = num_shards;
             o.scan.batch_size = batch_size;
             o.scan.block_size = block_size;
             o.scan.window = window;
             o.scan.with_images = true;
             o.scan.config = ConfigArg(*ref.handle->Get(), config);
             if (py::isinstance<TransformOptions>(transform)) {
               o.transform = transform.cast<TransformOptions>();
             } else if (py::isinstance<py::str>(transform)) {
               o.transform.kind = KindArg(transform.cast<std::string>());
               if (o.transform.kind != TransformKind::kRandomResizedCrop) {
                 o.transform.flip_probability = 0;  // evaluation transforms
               }
             } else {
               throw py::type_error("transform must be a name (" +
                                    JoinNames(TransformKindNames(), true) +
                                    ") or an oiv4kv.TransformOptions");
             }
             if (py::isinstance<py::int_>(size)) {
               o.transform.width = o.transform.height = size.cast<uint32_t>();
             } else if (!size.is_none()) {
               const auto hw = size.cast<std::vector<uint32_t>>();
               if (hw.size() != 2) throw py::value_error("size must be (height, width) or an int");
               o.transform.height = hw[0];
               o.transform.width = hw[1];
             }
             o.threads = threads;
             o.prefetch = prefetch;
             o.remainder = EnumArg<Remainder>("remainder", remainder, ParseRemainder,
                                              RemainderNames());
             o.bad_image = EnumArg<BadImagePolicy>("bad_image", bad_image, ParseBadImagePolicy,
                                                   BadImagePolicyNames());
             o.output.layout = EnumArg<ImageLayout>("layout", layout, ParseImageLayout,
                                                    ImageLayoutNames());
             o.output.dtype = EnumArg<ImageDType>("dtype", dtype, ParseImageDType,
                                                  ImageDTypeNames());
             o.output.mean = Triple("mean", mean, 0.0f);
             o.output.std = Triple("std", std, 1.0f);
             return std::make_unique<PyLoader>(std::move(ref), std::move(o), state);
           }),
           py::arg("store"), py::arg("split") = "train", py::kw_only(),
           py::arg("batch_size") = 256, py::arg("size") = py::none(),
           py::arg("transform") = "random_resized_crop", py::arg("order") = "shuffled",
           py::arg("seed") = 0, py::arg("epoch") = 0, py::arg("shard_index") = 0,
           py::arg("num_shards") = 1, py::arg("threads") = 0, py::arg("prefetch") = 2,
           py::arg("remainder") = "pad", py::arg("bad_image") = "error",
           py::arg("layout") = "hwc", py::arg("dtype") = "uint8", py::arg("mean") = py::none(),
           py::arg("std") = py::none(), py::arg("state") = py::none(),
           py::arg("block_size") = 256, py::arg("window") = 16,
           py::arg("config") = py::none(), py::arg("sampler") = py::none())
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](py::object self) { return self.cast<PyLoader&>().Next(self); })
      .def("__len__", &PyLoader::size)
      .def("state", &PyLoader::State,
           "Where the loader stands: Loader(..., state=...) continues after the last batch "
           "delivered.")
      .def_property_readonly("epoch", &PyLoader::epoch)
      .def_property_readonly("delivered", &PyLoader::delivered,
                             "Batches of this shard's epoch delivered so far.")
      .def_property_readonly("skipped", &PyLoader::skipped,
                             "Bad images skipped so far (bad_image='skip').");
}

}  // namespace oiv4kv::python
