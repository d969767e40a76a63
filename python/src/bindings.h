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
void BindStats(pybind11::module_& m);  // stats_binding.cc

}  // namespace oiv4kv::python
