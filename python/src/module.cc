// The native module oiv4kv._oiv4kv; python/oiv4kv/__init__.py re-exports it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "oiv4kv/dataset.h"
#include "oiv4kv/version.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

PYBIND11_MODULE(_oiv4kv, m) {
  m.doc() = "oiv4-kv: Open Images V4 (as TFDS defines it) from a RocksDB store, zero-copy.";
  m.attr("__version__") = std::string(oiv4kv::LibraryVersion());
  m.attr("SCHEMA_VERSION") = oiv4kv::kSchemaVersion;
  // The library's names, so that Python keeps no list of its own.
  m.attr("SPLITS") = pybind11::tuple(pybind11::cast(oiv4kv::SplitNames()));
  m.attr("CONFIGS") = pybind11::tuple(pybind11::cast(oiv4kv::ConfigNames()));
  oiv4kv::python::RegisterErrors(m);
  oiv4kv::python::BindStore(m);
  oiv4kv::python::BindScan(m);
  oiv4kv::python::BindDecode(m);
  oiv4kv::python::BindLoader(m);
  oiv4kv::python::BindQuery(m);
  oiv4kv::python::BindSubset(m);  // after BindQuery: Subset extends Split
  oiv4kv::python::BindSampling(m);
  oiv4kv::python::BindStats(m);
}
