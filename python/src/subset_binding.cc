// oiv4kv.Subset: some examples of a split (a query's result, or indices the
// caller gives), read like a split. It holds the split and its indices as a
// shared_ptr<const vector>, which scans and loaders over the subset share
// (ScanOptions::subset) without a copy. Reads map a subset position to its
// split index and go through the Split's own methods.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "oiv4kv/image_id.h"
#include "oiv4kv/query.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

using Indices = std::vector<uint64_t>;

std::string SplitNameOf(const SplitRef& s) { return std::string(SplitName(s.split)); }

// The split indices of the examples meeting `text`, evaluated without the GIL.
Indices SelectIndices(const SplitRef& split, const std::string& text) {
  std::shared_ptr<const Store> store = split.handle->Get();
  Query query;
  ThrowIfError(ParseQuery(text, *store, &query));
  Indices indices;
  Status s;
  {
    py::gil_scoped_release release;
    s = store->Select(split.split, query, &indices);
  }
  ThrowIfError(s);
  return indices;
}

SubsetRef MakeSubset(SplitRef split, Indices indices, std::string query) {
  return SubsetRef{std::move(split), std::make_shared<const Indices>(std::move(indices)),
                   std::move(query)};
}

// Any iterable of integers as split indices, sorted; InvalidArgumentError
// naming the value for a negative one, one >= the split's size, or a repeat.
Indices IndicesArg(const SplitRef& split, const py::iterable& values) {
  const uint64_t n = split.handle->Get()->NumExamples(split.split);
  const std::string where = "split '" + SplitNameOf(split) + "' of " + std::to_string(n) +
                            " examples";
  Indices out;
  for (const py::handle value : values) {
    // operator.index: integers (numpy's too), never floats.
    const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (!index) throw py::error_already_set();
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow < 0 || (overflow == 0 && v < 0)) {
      ThrowStatus(Status::InvalidArgument("subset: index " + py::str(index).cast<std::string>() +
                                          " is negative (" + where + ")"));
    }
    if (overflow > 0 || static_cast<uint64_t>(v) >= n) {
      ThrowStatus(Status::InvalidArgument("subset: index " + py::str(index).cast<std::string>() +
                                          " is out of range for " + where));
    }
    out.push_back(static_cast<uint64_t>(v));
  }
  std::sort(out.begin(), out.end());
  if (const auto repeat = std::adjacent_find(out.begin(), out.end()); repeat != out.end()) {
    ThrowStatus(Status::InvalidArgument("subset: index " + std::to_string(*repeat) +
                                        " appears more than once"));
  }
  return out;
}

// The split index of subset position `position` (negative: from the end).
uint64_t SplitIndexAt(const SubsetRef& s, int64_t position) {
  const auto n = static_cast<int64_t>(s.indices->size());
  const int64_t i = position < 0 ? position + n : position;
  if (i < 0 || i >= n) {
    throw py::index_error("index " + std::to_string(position) + " out of range for a subset of " +
                          std::to_string(n) + " examples of split '" + SplitNameOf(s.split) + "'");
  }
  return (*s.indices)[static_cast<size_t>(i)];
}

// A read-only uint64 array over `values`, keeping `owner` alive.
template <typename Owner>
py::array ReadOnlyArray(const uint64_t* data, size_t size, Owner owner) {
  auto* held = new Owner(std::move(owner));
  py::capsule capsule(held, [](void* p) { delete static_cast<Owner*>(p); });
  py::array_t<uint64_t> array({size}, {sizeof(uint64_t)}, data, capsule);
  py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return array;
}

py::object SplitObject(const SubsetRef& s) { return py::cast(s.split); }

py::list ExamplesAt(const SubsetRef& s, const std::vector<int64_t>& positions) {
  std::vector<uint64_t> indices;
  indices.reserve(positions.size());
  for (int64_t p : positions) indices.push_back(SplitIndexAt(s, p));
  return SplitObject(s).attr("examples")(indices).cast<py::list>();
}

std::string Repr(const SubsetRef& s) {
  std::string out = "<oiv4kv.Subset " + SplitNameOf(s.split) + ": " +
                    std::to_string(s.indices->size()) + " of " +
                    std::to_string(s.split.handle->Get()->NumExamples(s.split.split)) +
                    " examples";
  if (!s.query.empty()) out += ", query '" + s.query + "'";
  return out + ">";
}

}  // namespace

void BindSubset(py::module_& m) {
  py::class_<SubsetRef> subset_class(m, "Subset", R"doc(
Some examples of a split, in the split's order (ids ascending), read like a
Split: len(), [i] (negative i, slices), ids, get(image_id), image, decoded,
examples, scan. Made by Split.select(query) or Split.subset(indices).

  train = store.split("train")
  dogs = train.select("box:Dog AND NOT group_of")
  dogs[0], len(dogs), dogs.ids              # the subset's examples and ids
  dogs.indices                              # their indices in the split
  for ex in dogs.scan(order="shuffled", seed=1, epoch=0, shard_index=r, num_shards=w):
      ...
  oiv4kv.Loader(store, dogs, batch_size=64)  # augmented batches of the subset

Scans and loaders over a subset shuffle, shard and resume over its examples
only; their states name the subset (its size and fingerprint), so a state of
one subset is refused by a scan of another.
)doc");
  subset_class
      .def_property_readonly("split", &SplitObject, "The oiv4kv.Split it is a subset of.")
      .def_property_readonly("name", [](const SubsetRef& s) { return SplitNameOf(s.split); },
                             "The split's name.")
      .def_property_readonly("query", [](const SubsetRef& s) -> std::optional<std::string> {
             if (s.query.empty()) return std::nullopt;
             return s.query;
           }, "The query it was selected by; None for Split.subset(indices).")
      .def_property_readonly("indices", [](const SubsetRef& s) {
             return ReadOnlyArray(s.indices->data(), s.indices->size(), s.indices);
           }, "Its examples' indices in the split, ascending (read-only uint64, no copy).")
      .def_property_readonly("ids", [](const SubsetRef& s) {
             std::shared_ptr<const Store> store = s.split.handle->Get();
             const std::span<const uint64_t> split_ids = store->ImageIds(s.split.split);
             auto ids = std::make_shared<Indices>();
             ids->reserve(s.indices->size());
             for (uint64_t i : *s.indices) ids->push_back(split_ids[i]);
             return ReadOnlyArray(ids->data(), ids->size(), std::shared_ptr<const Indices>(ids));
           }, "Its image ids, ascending (read-only uint64).")
      .def("__len__", [](const SubsetRef& s) { return s.indices->size(); })
      .def("__getitem__", [](const SubsetRef& s, int64_t position) {
             return SplitObject(s).attr("__getitem__")(SplitIndexAt(s, position));
           }, py::arg("index"))
      .def("__getitem__", [](const SubsetRef& s, const py::slice& slice) {
             return ExamplesAt(s, SlicePositions(slice, s.indices->size()));
           })
      .def("examples", &ExamplesAt, py::arg("indices"),
           "The examples at subset positions `indices`, read in one batch (Split.examples).")
      .def("get", [](const SubsetRef& s, const py::object& id) {
             const uint64_t image_id = ImageIdArg(id);
             const std::span<const uint64_t> ids = s.split.handle->Get()->ImageIds(s.split.split);
             const auto at = std::lower_bound(ids.begin(), ids.end(), image_id);
             const auto index = static_cast<uint64_t>(at - ids.begin());
             if (at != ids.end() && *at == image_id &&
                 !std::binary_search(s.indices->begin(), s.indices->end(), index)) {
               ThrowStatus(Status::NotFound("image " + ImageIdHex(image_id) + " is in split '" +
                                            SplitNameOf(s.split) + "' but not in this subset"));
             }
             return SplitObject(s).attr("get")(image_id);  // NotFoundError if not in the split
           }, py::arg("image_id"), "The subset's example with this image id (int or 16 hex digits).")
      .def("image", [](const SubsetRef& s, int64_t position, const py::object& config) {
             return SplitObject(s).attr("image")(SplitIndexAt(s, position), config);
           }, py::arg("index"), py::arg("config") = py::none(),
           "Split.image of the subset's example `index`: the stored bytes, zero-copy.")
      .def("image_size", [](const SubsetRef& s, int64_t position, const py::object& config) {
             return SplitObject(s).attr("image_size")(SplitIndexAt(s, position), config);
           }, py::arg("index"), py::arg("config") = py::none())
      .def("decoded", [](const SubsetRef& s, int64_t position, const py::object& config,
                         const py::object& options) {
             return SplitObject(s).attr("decoded")(SplitIndexAt(s, position), config, options);
           }, py::arg("index"), py::arg("config") = py::none(), py::arg("options") = py::none(),
           "Split.decoded of the subset's example `index`.")
      .def("select", [](const SubsetRef& s, const std::string& text) {
             const Indices selected = SelectIndices(s.split, text);
             Indices both;
             std::set_intersection(s.indices->begin(), s.indices->end(), selected.begin(),
                                   selected.end(), std::back_inserter(both));
             const std::string query =
                 s.query.empty() ? text : "(" + s.query + ") AND (" + text + ")";
             return MakeSubset(s.split, std::move(both), query);
           }, py::arg("query"), "The examples of this subset that also meet `query` (Split.select).")
      .def("__repr__", &Repr)
      // Pickled as the store's path and options, the split and the indices
      // (spawned DataLoader workers): unpickling opens the store again.
      .def(py::pickle(
          [](const SubsetRef& s) {
            return py::make_tuple(s.split.handle->path(), OptionsDict(s.split.handle->options()),
                                  SplitNameOf(s.split), py::cast(*s.indices), s.query);
          },
          [](const py::tuple& t) {
            const py::object store =
                py::module_::import("oiv4kv").attr("Store")(t[0], **t[1].cast<py::dict>());
            const SplitRef split = store.attr("split")(t[2]).cast<SplitRef>();
            return MakeSubset(split, IndicesArg(split, t[3].cast<py::list>()),
                              t[4].cast<std::string>());
          }));
  DefSubsetScan(subset_class);

  auto split_class = py::reinterpret_borrow<py::class_<SplitRef>>(m.attr("Split"));
  split_class
      .def("select", [](const SplitRef& split, const std::string& text) {
             return MakeSubset(split, SelectIndices(split, text), text);
           }, py::arg("query"), R"doc(
The examples meeting `query` as an oiv4kv.Subset (the query text as in
select_indices; the query is kept for its repr). InvalidArgumentError for a
bad query, NotSupportedError for a store without a label index.
)doc")
      .def("subset", [](const SplitRef& split, const py::iterable& indices) {
             return MakeSubset(split, IndicesArg(split, indices), "");
           }, py::arg("indices"), R"doc(
The examples at `indices` (any iterable of ints, e.g. a numpy array; sorted
here) as an oiv4kv.Subset. InvalidArgumentError, naming the value, for an
index < 0 or >= len(split) or one given twice.
)doc");
}

}  // namespace oiv4kv::python
