// Builds views around pinned RocksDB values (the only code that touches the
// views' private members besides Store).
#pragma once

#include <memory>

#include <rocksdb/slice.h>

#include "oiv4kv/status.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

namespace internal {
// A pinned RocksDB value a view points into. Heap-allocated so that moving
// a view never moves the bytes.
struct PinnedValue {
  rocksdb::PinnableSlice slice;
};
}  // namespace internal

struct ViewFactory {
  // Points `out` at the example record `value`, which lives in `pin` (taken
  // over) or, for a null `pin`, in memory that outlives the view.
  static Status MakeExample(std::unique_ptr<internal::PinnedValue> pin,
                            std::span<const uint8_t> value, Split split,
                            uint64_t image_id, bool verify, ExampleView* out);
  static Status MakeExample(std::unique_ptr<internal::PinnedValue> pin, Split split,
                            uint64_t image_id, bool verify, ExampleView* out) {
    const std::span<const uint8_t> value(
        reinterpret_cast<const uint8_t*>(pin->slice.data()), pin->slice.size());
    return MakeExample(std::move(pin), value, split, image_id, verify, out);
  }
  static Status MakeImage(std::unique_ptr<internal::PinnedValue> pin, Config config,
                          Split split, uint64_t image_id, ImageView* out);
};

}  // namespace oiv4kv
