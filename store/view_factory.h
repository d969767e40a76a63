// Builds views around pinned RocksDB values (the only code that touches the
// views' private members besides Store).
#pragma once

#include <memory>

#include <rocksdb/slice.h>

#include "oiv4kv/status.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

namespace internal {
// The bytes a view points into: the pinned value, plus an aligned copy of a
// record whose pinned address is not 8-byte aligned. Heap-allocated so that
// moving a view never moves the bytes.
struct PinnedValue {
  rocksdb::PinnableSlice slice;
  std::unique_ptr<uint64_t[]> aligned;
  size_t aligned_size = 0;
};
}  // namespace internal

struct ViewFactory {
  // Takes ownership of `pin` and points `out` at the example in it.
  static Status MakeExample(std::unique_ptr<internal::PinnedValue> pin, Split split,
                            uint64_t image_id, bool verify, ExampleView* out);
  static Status MakeImage(std::unique_ptr<internal::PinnedValue> pin, Config config,
                          Split split, uint64_t image_id, ImageView* out);
};

}  // namespace oiv4kv
