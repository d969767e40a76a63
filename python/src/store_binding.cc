// oiv4kv.Store, oiv4kv.Split and oiv4kv.Vocabulary.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <charconv>
#include <string>
#include <vector>

#include "oiv4kv/image_id.h"
#include "python/src/arrays.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

struct StoreRef {
  std::shared_ptr<StoreHandle> handle;
};

struct VocabularyRef {
  std::shared_ptr<const Store> store;  // keeps the vocabulary alive
  VocabKind kind;
  const Vocabulary& get() const { return store->vocabulary(kind); }
  // Label `i`, checked: IndexError outside the list.
  size_t Label(size_t i) const {
    if (i >= get().size()) {
      throw py::index_error("label " + std::to_string(i) + " out of range for the " +
                            std::string(VocabKindName(kind)) + " list of " +
                            std::to_string(get().size()));
    }
    return i;
  }
};

Split SplitArg(const std::string& name) {
  const std::optional<Split> split = ParseSplit(name);
  if (!split) {
    throw py::value_error("unknown split '" + name + "' (" + JoinNames(SplitNames()) + ")");
  }
  return *split;
}

// Python's index rules: negative counts from the end; IndexError outside.
uint64_t IndexArg(const Store& store, Split split, int64_t index) {
  const auto n = static_cast<int64_t>(store.NumExamples(split));
  const int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) {
    throw py::index_error("index " + std::to_string(index) + " out of range for split '" +
                          std::string(SplitName(split)) + "' of " + std::to_string(n) +
                          " examples");
  }
  return static_cast<uint64_t>(i);
}

py::dict ExampleAt(const SplitRef& s, int64_t index) {
  std::shared_ptr<const Store> store = s.handle->Get();
  const uint64_t i = IndexArg(*store, s.split, index);
  ExampleView view;
  Status status;
  {
    py::gil_scoped_release release;
    status = store->At(s.split, i, &view);
  }
  ThrowIfError(status);
  return ExampleDict(std::move(store), std::move(view));
}

py::dict ExampleById(const std::shared_ptr<StoreHandle>& handle, Split split, uint64_t id) {
  std::shared_ptr<const Store> store = handle->Get();
  ExampleView view;
  Status status;
  {
    py::gil_scoped_release release;
    status = store->Get(split, id, &view);
  }
  if (status.IsNotFound()) {
    // As `oiv4-kv get` does: say which split holds it, if one does.
    if (const std::optional<Split> other = store->SplitOf(id); other && *other != split) {
      const std::string name(SplitName(*other));
      status = Status::NotFound(status.message() + " (it is in the " + name +
                                " split: store.split(\"" + name + "\").get(...))");
    }
  }
  ThrowIfError(status);
  return ExampleDict(std::move(store), std::move(view));
}

// The image at `index`, read without the GIL.
ImageView ReadImage(const Store& store, Split split, uint64_t index, Config config) {
  ImageView view;
  Status status;
  {
    py::gil_scoped_release release;
    status = store.ImageAt(config, split, index, &view);
  }
  ThrowIfError(status);
  return view;
}

py::array Decoded(const SplitRef& s, int64_t index, const std::optional<std::string>& config,
                  const std::optional<DecodeOptions>& options) {
  std::shared_ptr<const Store> store = s.handle->Get();
  const uint64_t i = IndexArg(*store, s.split, index);
  const Config c = ConfigArg(*store, config);
  DecodedImage image;
  Status status;
  {
    py::gil_scoped_release release;
    ImageView view;
    status = store->ImageAt(c, s.split, i, &view);
    if (status.ok()) status = DecodeWithThreadDecoder(view, options.value_or(DecodeOptions{}), &image);
  }
  ThrowIfError(status);
  WarnIfTruncated(image);
  return PixelArray(std::move(image));
}

py::list ExamplesAt(const SplitRef& s, const std::vector<int64_t>& indices) {
  std::shared_ptr<const Store> store = s.handle->Get();
  std::vector<uint64_t> positions;
  positions.reserve(indices.size());
  for (int64_t index : indices) positions.push_back(IndexArg(*store, s.split, index));
  std::vector<ExampleView> views;
  std::vector<Status> statuses;
  {
    py::gil_scoped_release release;
    store->MultiAt(s.split, positions, &views, &statuses);
  }
  for (const Status& status : statuses) ThrowIfError(status);
  py::list out(views.size());
  for (size_t i = 0; i < views.size(); ++i) out[i] = ExampleDict(store, std::move(views[i]));
  return out;
}

std::vector<std::string> StoreConfigNames(const Store& store) {
  std::vector<std::string> names;
  for (Config c : store.Configs()) names.emplace_back(ConfigName(c));
  return names;
}

std::shared_ptr<StoreHandle> OpenHandle(const std::string& path, bool index_annotations,
                                        bool verify_checksums, bool verify_records,
                                        bool allow_incomplete) {
  StoreOptions o;
  o.index_annotations = index_annotations;
  o.verify_checksums = verify_checksums;
  o.verify_records = verify_records;
  o.allow_incomplete = allow_incomplete;
  return std::make_shared<StoreHandle>(path, o);
}

}  // namespace

// An image id: an int, or text by the rule of oiv4kv/image_id.h: 16 hex
// digits (either case), with or without ".jpg" (as in "image/filename").
uint64_t ImageIdArg(const py::handle& id) {
  if (py::isinstance<py::int_>(id)) return id.cast<uint64_t>();
  if (py::isinstance<py::str>(id)) {
    const std::string text = id.cast<std::string>();
    if (const std::optional<uint64_t> value = ParseImageId(text)) return *value;
    throw py::value_error("image id '" + text + "' is not 16 hex digits (optionally with .jpg)");
  }
  throw py::type_error("an image id is an int or a string of 16 hex digits");
}

std::vector<int64_t> SlicePositions(const py::slice& slice, size_t size) {
  py::ssize_t start, stop, step, length;
  if (!slice.compute(static_cast<py::ssize_t>(size), &start, &stop, &step, &length)) {
    throw py::error_already_set();
  }
  std::vector<int64_t> positions;
  for (py::ssize_t k = 0; k < length; ++k) positions.push_back(start + k * step);
  return positions;
}

py::dict OptionsDict(const StoreOptions& o) {
  py::dict d;
  d["index_annotations"] = o.index_annotations;
  d["verify_checksums"] = o.verify_checksums;
  d["verify_records"] = o.verify_records;
  d["allow_incomplete"] = o.allow_incomplete;
  return d;
}

// Store::DefaultConfig: the rule the command line uses too.
Config DefaultConfig(const Store& store) {
  const std::optional<Config> config = store.DefaultConfig();
  if (!config) {
    ThrowStatus(Status::NotSupported("store " + store.path() + " holds no complete image config"));
  }
  return *config;
}

Config ConfigArg(const Store& store, const std::optional<std::string>& name) {
  if (!name) return DefaultConfig(store);
  const std::optional<Config> config = ParseConfig(*name);
  if (!config) {
    throw py::value_error("unknown config '" + *name + "' (" + JoinNames(ConfigNames()) + ")");
  }
  return *config;
}

void BindStore(py::module_& m) {
  py::class_<VocabularyRef>(m, "Vocabulary", R"doc(
One class list of a store (or the source list): label id <-> MID <-> display
name. vocab[i] is (mid, display_name); for the source list the MID is the
source's name and the display name is empty.
)doc")
      .def_property_readonly("kind",
                             [](const VocabularyRef& v) { return std::string(VocabKindName(v.kind)); })
      .def("__len__", [](const VocabularyRef& v) { return v.get().size(); })
      .def("mid", [](const VocabularyRef& v, size_t i) {
             return Utf8Str(v.get().mid(v.Label(i)));
           }, py::arg("label"))
      .def("name", [](const VocabularyRef& v, size_t i) {
             return Utf8Str(v.get().display_name(v.Label(i)));
           }, py::arg("label"), "The display name of label id `label`.")
      .def("__getitem__", [](const VocabularyRef& v, size_t i) {
             return py::make_tuple(Utf8Str(v.get().mid(v.Label(i))),
                                   Utf8Str(v.get().display_name(i)));
           })
      .def("index", [](const VocabularyRef& v, const std::string& mid) {
             const std::optional<uint32_t> i = v.get().Find(mid);
             if (!i) ThrowStatus(Status::NotFound("MID " + mid + " is not in the " +
                                                  std::string(VocabKindName(v.kind)) + " list"));
             return *i;
           }, py::arg("mid"), "The label id of `mid`; NotFoundError if absent.")
      .def_property_readonly("mids", [](const VocabularyRef& v) {
             std::vector<std::string> out;
             for (const VocabEntry& e : v.get().entries()) out.push_back(e.mid);
             return Utf8List(out);
           })
      .def_property_readonly("names", [](const VocabularyRef& v) {
             std::vector<std::string> out;
             for (const VocabEntry& e : v.get().entries()) out.push_back(e.display_name);
             return Utf8List(out);
           });

  py::class_<SplitRef>(m, "Split", R"doc(
One split of a store: len(split) examples, ids ascending. split[i] and
split.get(image_id) return the TFDS-shaped dict (see oiv4kv.Store).
)doc")
      .def_property_readonly("name", [](const SplitRef& s) { return std::string(SplitName(s.split)); })
      .def("__len__", [](const SplitRef& s) { return s.handle->Get()->NumExamples(s.split); })
      .def("__getitem__", &ExampleAt, py::arg("index"))
      .def("__getitem__", [](const SplitRef& s, const py::slice& slice) {
             return ExamplesAt(s, SlicePositions(slice, s.handle->Get()->NumExamples(s.split)));
           })
      .def("examples", &ExamplesAt, py::arg("indices"),
           "The examples at `indices`, read in one batch (MultiAt) without the GIL.")
      .def("get", [](const SplitRef& s, const py::object& id) {
             return ExampleById(s.handle, s.split, ImageIdArg(id));
           }, py::arg("image_id"), "The example with this image id (int or 16 hex digits).")
      .def_property_readonly("ids", [](const SplitRef& s) {
             return IdArray(s.handle->Get(), s.split);
           }, "The split's image ids, ascending, as a read-only uint64 array (no copy).")
      .def("image", [](const SplitRef& s, int64_t index, const std::optional<std::string>& config) {
             std::shared_ptr<const Store> store = s.handle->Get();
             const uint64_t i = IndexArg(*store, s.split, index);
             ImageView view = ReadImage(*store, s.split, i, ConfigArg(*store, config));
             return ImageArray(std::move(store), std::move(view));
           }, py::arg("index"), py::arg("config") = py::none(), R"doc(
The stored (encoded) image of example `index` in `config` (default:
store.default_config, the first complete of 300k, 200k, original) as a
read-only uint8 numpy array over the store's memory: no copy. bytes(array)
copies it; memoryview(array) does not.
)doc")
      .def("image_size", [](const SplitRef& s, int64_t index, const std::optional<std::string>& config) {
             std::shared_ptr<const Store> store = s.handle->Get();
             const uint64_t i = IndexArg(*store, s.split, index);
             const ImageView view = ReadImage(*store, s.split, i, ConfigArg(*store, config));
             return py::make_tuple(view.height(), view.width());
           }, py::arg("index"), py::arg("config") = py::none(),
           "(height, width) of the stored image, from its metadata (no decode).")
      .def("decoded", &Decoded, py::arg("index"), py::arg("config") = py::none(),
           py::arg("options") = py::none(), R"doc(
The image of example `index` decoded (oiv4kv.DecodeOptions; default: RGB,
full size, as TFDS) into a new H x W x 3 uint8 array, read and decoded
without the GIL.

Orientation: boxes ("bobjects"/"bbox") refer to the image with its EXIF
orientation applied. The 300k/200k configs applied it at conversion (as TFDS
does), so their pixels and boxes agree as decoded. `original` keeps each
file as downloaded, EXIF tag unapplied: to draw boxes on it, decode with
oiv4kv.DecodeOptions(apply_exif_orientation=True).
)doc")
      .def("__repr__", [](const SplitRef& s) {
             return "<oiv4kv.Split '" + std::string(SplitName(s.split)) + "' of " +
                    std::to_string(s.handle->Get()->NumExamples(s.split)) + " examples in " +
                    s.handle->path() + ">";
           });

  py::class_<StoreRef>(m, "Store", R"doc(
A converted Open Images V4 store, opened read-only.

  store = oiv4kv.Store("/data/oiv4")
  train = store.split("train")
  ex = train[0]          # {"image/filename", "objects", "objects_trainable", "bobjects"}
  pixels = train.decoded(0, "300k")   # H x W x 3 uint8

Examples are dicts shaped like TFDS's; their arrays are read-only numpy views
of the stored record (no copy), in the record's dtypes: labels uint16,
confidence and source uint8, bbox float32 N x 4 (ymin, xmin, ymax, xmax),
flags int8. Each array keeps the record and the store alive for as long as
it lives, so it may outlive the Store object. Values equal TFDS's; TFDS's
dtypes are int64 labels and sources, int32 confidence (oiv4kv.torch converts).

Opening walks the annotations once (about 0.6 s per million examples) to
index them. Processes forked after the open (DataLoader workers) reopen the
store at their first use; pickling keeps the path and options, so spawned
workers open it again too.
)doc")
      .def(py::init([](const std::string& path, bool index_annotations, bool verify_checksums,
                       bool verify_records, bool allow_incomplete) {
             return StoreRef{OpenHandle(path, index_annotations, verify_checksums, verify_records,
                                        allow_incomplete)};
           }),
           py::arg("path"), py::kw_only(),
           py::arg("index_annotations") = true, py::arg("verify_checksums") = true,
           py::arg("verify_records") = false, py::arg("allow_incomplete") = false)
      .def_property_readonly("path", [](const StoreRef& s) { return s.handle->path(); })
      .def_property_readonly("options", [](const StoreRef& s) { return OptionsDict(s.handle->options()); })
      .def_property_readonly("configs", [](const StoreRef& s) { return StoreConfigNames(*s.handle->Get()); },
                             "Names of the complete image configs, in TFDS's order.")
      .def_property_readonly("default_config", [](const StoreRef& s) -> std::optional<std::string> {
             const std::optional<Config> c = s.handle->Get()->DefaultConfig();
             if (!c) return std::nullopt;
             return std::string(ConfigName(*c));
           }, "The config used when none is named (image, decoded, scan, the torch datasets): "
              "the first complete of 300k, 200k, original, as the command line; None if none "
              "is complete.")
      .def_property_readonly("splits", [](const StoreRef& s) {
             std::vector<std::string> names;
             const Manifest& manifest = s.handle->Get()->manifest();
             for (Split split : kAllSplits) {
               if (manifest.num_examples[static_cast<int>(split)].has_value()) {
                 names.emplace_back(SplitName(split));
               }
             }
             return names;
           }, "Names of the splits the store holds.")
      .def_property_readonly("label_order", [](const StoreRef& s) {
             return std::string(LabelOrderName(s.handle->Get()->label_order()));
           }, "'tfds' when label ids are TFDS's (converted with --label-lists), else 'download'.")
      .def("split", [](const StoreRef& s, const std::string& name) {
             return SplitRef{s.handle, SplitArg(name)};
           }, py::arg("name"))
      .def("get", [](const StoreRef& s, const std::string& split, const py::object& id) {
             return ExampleById(s.handle, SplitArg(split), ImageIdArg(id));
           }, py::arg("split"), py::arg("image_id"))
      .def("vocabulary", [](const StoreRef& s, const std::string& kind) {
             const std::optional<VocabKind> k = ParseVocabKind(kind);
             if (!k) {
               throw py::value_error("unknown vocabulary '" + kind + "' (" +
                                     JoinNames(VocabKindNames()) + ")");
             }
             return VocabularyRef{s.handle->Get(), *k};
           }, py::arg("kind"), "'all' (objects), 'trainable' (objects_trainable), 'boxable' (bobjects) or 'source'.")
      .def("__repr__", [](const StoreRef& s) { return "<oiv4kv.Store " + s.handle->path() + ">"; })
      .def(py::pickle(
          [](const StoreRef& s) { return py::make_tuple(s.handle->path(), OptionsDict(s.handle->options())); },
          [](const py::tuple& t) {
            const py::dict o = t[1].cast<py::dict>();
            return StoreRef{OpenHandle(t[0].cast<std::string>(), o["index_annotations"].cast<bool>(),
                                       o["verify_checksums"].cast<bool>(), o["verify_records"].cast<bool>(),
                                       o["allow_incomplete"].cast<bool>())};
          }));

  // Registered once Store exists: the split's store (its vocabularies, configs).
  py::reinterpret_borrow<py::class_<SplitRef>>(m.attr("Split"))
      .def_property_readonly("store", [](const SplitRef& s) { return StoreRef{s.handle}; },
                             "The oiv4kv.Store this split belongs to.");
}

}  // namespace oiv4kv::python
