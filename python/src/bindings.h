// What the binding's files share: the Python-side objects and the functions
// that register each part of the module.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>

#include "oiv4kv/dataset.h"
#include "oiv4kv/decode.h"
#include "oiv4kv/sampling.h"
#include "python/src/store_handle.h"

namespace oiv4kv::python {

// oiv4kv.Split: one split of a store.
struct SplitRef {
  std::shared_ptr<StoreHandle> handle;
  Split split;
};

// The store's default config when the caller names none: Store::DefaultConfig,
// the first complete of 300k, 200k, original (the CLI's rule too). Raises
// NotSupportedError if there is none.
Config DefaultConfig(const Store& store);
// An image id argument: an int, or text by the rule of oiv4kv/image_id.h
// (16 hex digits, with or without ".jpg"); ValueError / TypeError otherwise.
uint64_t ImageIdArg(const pybind11::handle& id);
// A store's options as the keyword arguments of oiv4kv.Store (pickling).
pybind11::dict OptionsDict(const StoreOptions& options);
// The positions a slice of a sequence of `size` selects, in its order.
std::vector<int64_t> SlicePositions(const pybind11::slice& slice, size_t size);
// Parses a config name or None (the default); raises ValueError on others.
Config ConfigArg(const Store& store, const std::optional<std::string>& name);

// An enum argument named `what`, parsed with the library's Parse helper;
// ValueError "<what> must be 'a', 'b' or 'c', not '<name>'" from its Names.
template <typename T, typename Parse>
T EnumArg(const char* what, const std::string& name, Parse parse,
          const std::vector<std::string>& names) {
  if (const auto value = parse(name)) return *value;
  throw pybind11::value_error(std::string(what) + " must be " + JoinNames(names, true) +
                              ", not '" + name + "'");
}

// Decodes `image` with the calling thread's Decoder. Call without the GIL.
Status DecodeWithThreadDecoder(const ImageView& image, const DecodeOptions& options,
                               DecodedImage* out);
// Issues a RuntimeWarning naming the image when the decode was truncated
// (TruncatedPolicy::kWarn). REQUIRES: the GIL.
void WarnIfTruncated(const DecodedImage& image);

void BindStore(pybind11::module_& m);
void BindScan(pybind11::module_& m);
void BindDecode(pybind11::module_& m);
void BindLoader(pybind11::module_& m);
void BindQuery(pybind11::module_& m);  // query_binding.cc
void BindSampling(pybind11::module_& m);  // sampling_binding.cc

// The C++ sampler of `sampler` (an oiv4kv.Sampler, or None: null) for a scan
// of `split`; TypeError for another object, ValueError for a sampler built
// on another store's directory. REQUIRES: BindSampling has run.
std::shared_ptr<const Sampler> SamplerArg(const SplitRef& split, const pybind11::object& sampler);

// oiv4kv.Subset: some examples of a split, as split indices (subset_binding.cc).
struct SubsetRef {
  SplitRef split;
  // Strictly ascending split indices; shared with the scans and loaders
  // over the subset (ScanOptions::subset), never copied.
  std::shared_ptr<const std::vector<uint64_t>> indices;
  std::string query;  // the select() text it came from; empty for subset()
};
void BindSubset(pybind11::module_& m);
// Defines Subset.scan, with Split.scan's arguments (scan_binding.cc).
void DefSubsetScan(pybind11::class_<SubsetRef>& subset_class);
void BindStats(pybind11::module_& m);  // stats_binding.cc

}  // namespace oiv4kv::python
