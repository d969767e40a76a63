// IndexStore: `oiv4-kv index STORE`, the label index (store/core/label_index.h)
// of a committed store built from its records and written, replacing any
// there. For stores converted before the index existed; a conversion writes
// it when it commits the annotations.
#pragma once

#include <functional>
#include <string>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

// `progress(split, done, total)` is called as records are read, when set.
// InvalidArgument for no store or an incomplete one (checked read-only
// first, so a wrong path creates nothing); whatever a write returns else.
Status IndexStore(const std::string& path,
                  const std::function<void(Split, uint64_t, uint64_t)>& progress);

}  // namespace oiv4kv
