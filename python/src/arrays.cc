#include "python/src/arrays.h"

#include "python/src/store_handle.h"

#include <span>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

// What a capsule owns for the arrays of one example or image. The view is
// declared after the store so that it is destroyed first.
template <typename View>
struct Pinned {
  std::shared_ptr<const Store> store;
  View view;
};

// A capsule that deletes `owned` with the last array, unless that happens
// in a process forked after the capsule was made: there the store's objects
// are the parent's, which the child must not touch (store_handle.h), so the
// child leaks them.
template <typename T>
py::capsule Own(T* owned) {
  struct Owner {
    T* owned;
    uint64_t generation;
  };
  return py::capsule(new Owner{owned, ForkGeneration()}, [](void* p) {
    auto* owner = static_cast<Owner*>(p);
    if (owner->generation == ForkGeneration()) delete owner->owned;
    delete owner;
  });
}

// A read-only array of `shape` over `data`, kept alive by `base`.
template <typename T>
py::array ReadOnly(const T* data, std::vector<py::ssize_t> shape, py::handle base) {
  py::array_t<T> array(std::move(shape), data, base);
  py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return array;
}

template <typename T>
py::array ReadOnly(std::span<const T> span, py::handle base) {
  return ReadOnly(span.data(), {static_cast<py::ssize_t>(span.size())}, base);
}

py::dict LabelsDict(const LabelsView& labels, py::handle base) {
  py::dict d;
  d["label"] = ReadOnly(labels.label, base);
  d["confidence"] = ReadOnly(labels.confidence, base);
  d["source"] = ReadOnly(labels.source, base);
  return d;
}

}  // namespace

py::str Utf8Str(std::string_view text) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

py::list Utf8List(const std::vector<std::string>& texts) {
  py::list out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) out[i] = Utf8Str(texts[i]);
  return out;
}

py::dict ExampleDict(std::shared_ptr<const Store> store, ExampleView view) {
  auto* pinned = new Pinned<ExampleView>{std::move(store), std::move(view)};
  py::capsule base = Own(pinned);
  const ExampleView& ex = pinned->view;
  py::dict d;
  const std::string_view filename = ex.filename();
  d["image/filename"] = Utf8Str(filename);
  d["objects"] = LabelsDict(ex.objects(), base);
  d["objects_trainable"] = LabelsDict(ex.objects_trainable(), base);
  const BoxesView b = ex.bobjects();
  py::dict boxes;
  boxes["bbox"] = ReadOnly(b.bbox.data(), {static_cast<py::ssize_t>(b.size()), 4}, base);
  boxes["label"] = ReadOnly(b.label, base);
  boxes["source"] = ReadOnly(b.source, base);
  boxes["is_occluded"] = ReadOnly(b.is_occluded, base);
  boxes["is_truncated"] = ReadOnly(b.is_truncated, base);
  boxes["is_group_of"] = ReadOnly(b.is_group_of, base);
  boxes["is_depiction"] = ReadOnly(b.is_depiction, base);
  boxes["is_inside"] = ReadOnly(b.is_inside, base);
  d["bobjects"] = std::move(boxes);
  return d;
}

py::array ImageArray(std::shared_ptr<const Store> store, ImageView view) {
  auto* pinned = new Pinned<ImageView>{std::move(store), std::move(view)};
  py::capsule base = Own(pinned);
  return ReadOnly(pinned->view.bytes(), base);
}

py::array PixelArray(DecodedImage image) {
  auto* pixels = new std::vector<uint8_t>(std::move(image.pixels));
  py::capsule base(pixels, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
  std::vector<py::ssize_t> shape = {image.height, image.width};
  if (image.channels != 1) shape.push_back(image.channels);
  return py::array_t<uint8_t>(std::move(shape), pixels->data(), base);
}

py::array IdArray(std::shared_ptr<const Store> store, Split split) {
  const std::span<const uint64_t> ids = store->ImageIds(split);
  auto* owner = new std::shared_ptr<const Store>(std::move(store));
  return ReadOnly(ids, Own(owner));
}

}  // namespace oiv4kv::python
