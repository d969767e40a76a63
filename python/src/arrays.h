// Numpy arrays over the store's bytes, and the TFDS-shaped example dict.
//
// Zero-copy: every annotation array of an example is a read-only numpy view
// of the record in the store's mmap'ed files (or of the view's aligned copy
// when the record is misaligned); its `base` is a capsule that owns the
// ExampleView and a reference to the Store, so the bytes stay valid exactly
// as long as some array (or the dict) is alive, even after the Python Store
// object is gone. The same holds for image bytes (ImageView). Decoded pixels
// are a numpy array over the decoder's own buffer, moved, not copied.
//
// All functions REQUIRE the GIL.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "oiv4kv/decode.h"
#include "oiv4kv/store.h"

namespace oiv4kv::python {

// Text read from a store (display names, MIDs, file names) as a Python str.
// A store holds whatever bytes its download gave: bytes that are not UTF-8
// become U+FFFD (Python's "replace"), as in the CLI's JSON, so reading never
// raises UnicodeDecodeError.
pybind11::str Utf8Str(std::string_view text);

// Utf8Str of each string.
pybind11::list Utf8List(const std::vector<std::string>& texts);

// The TFDS-shaped dict of one example:
//   {"image/filename": str,
//    "objects": {"label": uint16[N], "confidence": uint8[N], "source": uint8[N]},
//    "objects_trainable": {... the same ...},
//    "bobjects": {"bbox": float32[M, 4], "label": uint16[M], "source": uint8[M],
//                 "is_occluded", "is_truncated", "is_group_of", "is_depiction",
//                 "is_inside": int8[M]}}
// Takes ownership of `view`; the arrays keep `store` alive.
pybind11::dict ExampleDict(std::shared_ptr<const Store> store, ExampleView view);

// The encoded image bytes as a read-only uint8[size] numpy view.
pybind11::array ImageArray(std::shared_ptr<const Store> store, ImageView view);

// Decoded pixels as uint8[H, W, 3] (RGB/BGR) or uint8[H, W] (gray), owning
// the moved buffer.
pybind11::array PixelArray(DecodedImage image);

// A read-only uint64 view of the split's ids that keeps `store` alive.
pybind11::array IdArray(std::shared_ptr<const Store> store, Split split);

}  // namespace oiv4kv::python
