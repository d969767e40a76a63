// Split.select_indices: the examples of a split that meet a query
// (oiv4kv/query.h), as a sorted uint64 numpy array.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "oiv4kv/query.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {

void BindQuery(py::module_& m) {
  auto split_class = py::reinterpret_borrow<py::class_<SplitRef>>(m.attr("Split"));
  split_class.def(
      "select_indices",
      [](const SplitRef& split, const std::string& text) {
        std::shared_ptr<const Store> store = split.handle->Get();
        Query query;
        ThrowIfError(ParseQuery(text, *store, &query));
        auto* indices = new std::vector<uint64_t>();
        py::capsule owner(indices, [](void* p) { delete static_cast<std::vector<uint64_t>*>(p); });
        Status s;
        {
          py::gil_scoped_release release;
          s = store->Select(split.split, query, indices);
        }
        ThrowIfError(s);
        return py::array_t<uint64_t>({indices->size()}, {sizeof(uint64_t)}, indices->data(),
                                     owner);
      },
      py::arg("query"), R"doc(
The indices (sorted, a uint64 numpy array) of this split's examples that meet
`query`, computed on the store's label index without the GIL. The text form:

  box:Dog                           an image with a Dog box
  box:Person[!group_of]>=3          3 Person boxes that are not group-of
  box:Dog AND box:Person>=3 AND NOT group_of
  label:Cat@0.7                     image-level Cat, confidence >= 0.7
  trainable:"Tennis ball" OR box:#12

(oiv4kv/query.h lists the grammar.) Raises InvalidArgumentError for a bad
query (an unknown class name lists close ones) and NotSupportedError for a
store without a label index: run `oiv4-kv index STORE` once.
)doc");
}

}  // namespace oiv4kv::python
