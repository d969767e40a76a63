// Status -> Python exceptions. Every error the library returns reaches Python
// as a subclass of oiv4kv.Error that also derives from the matching builtin,
// so `except LookupError` or `except ValueError` keep working:
//   NotFound -> NotFoundError(Error, LookupError)
//   InvalidArgument -> InvalidArgumentError(Error, ValueError)
//   IOError -> StoreIOError(Error, OSError)
//   Corruption -> CorruptionError(Error); NotSupported -> NotSupportedError(Error)
#pragma once

#include <pybind11/pybind11.h>

#include "oiv4kv/status.h"

namespace oiv4kv::python {

// Creates the exception classes in `m`.
void RegisterErrors(pybind11::module_& m);

// Sets the Python error for `status` and throws error_already_set.
// REQUIRES: !status.ok(); the GIL is held.
[[noreturn]] void ThrowStatus(const Status& status);

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

}  // namespace oiv4kv::python
