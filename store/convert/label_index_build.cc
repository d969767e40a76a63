#include "store/convert/label_index_build.h"

#include <memory>

#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {

Status IndexStore(const std::string& path,
                  const std::function<void(Split, uint64_t, uint64_t)>& progress) {
  {
    // A read-only open first: it says what is wrong with a path that is no
    // (complete) store, where a writer would create an empty one.
    std::unique_ptr<Store> store;
    OIV4KV_RETURN_IF_ERROR(Store::Open(path, StoreOptions(), &store));
  }
  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(path, WriterOptions(), &writer));
  return WriteLabelIndex(*writer, progress);
}

}  // namespace oiv4kv
