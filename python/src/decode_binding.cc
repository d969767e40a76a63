// oiv4kv.DecodeOptions and oiv4kv.decode: the C++ Decoder over any buffer.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <span>
#include <string>

#include "python/src/arrays.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

// DecodeOptions from the Python-facing values (the constructor's keywords,
// and the pickled state).
DecodeOptions MakeDecodeOptions(const std::string& pixel_format, uint32_t min_width,
                                uint32_t min_height, bool all_scale_factors,
                                bool apply_exif_orientation, const std::string& truncated,
                                bool fast_dct, uint64_t max_pixels) {
  DecodeOptions o;
  o.pixel_format =
      EnumArg<PixelFormat>("pixel_format", pixel_format, ParsePixelFormat, PixelFormatNames());
  o.min_width = min_width;
  o.min_height = min_height;
  o.all_scale_factors = all_scale_factors;
  o.apply_exif_orientation = apply_exif_orientation;
  o.truncated = EnumArg<TruncatedPolicy>("truncated", truncated, ParseTruncatedPolicy,
                                        TruncatedPolicyNames());
  o.fast_dct = fast_dct;
  o.max_pixels = max_pixels;
  return o;
}

// One Decoder per thread: it keeps a TurboJPEG handle and scratch buffers.
Decoder& ThreadDecoder() {
  thread_local Decoder decoder;
  return decoder;
}

}  // namespace

Status DecodeWithThreadDecoder(const ImageView& image, const DecodeOptions& options,
                               DecodedImage* out) {
  return ThreadDecoder().Decode(image, options, out);
}

void WarnIfTruncated(const DecodedImage& image) {
  if (!image.truncated) return;
  if (PyErr_WarnEx(PyExc_RuntimeWarning, image.warning.c_str(), 1) != 0) {
    throw py::error_already_set();  // warnings configured as errors
  }
}

void BindDecode(py::module_& m) {
  py::class_<DecodeOptions>(m, "DecodeOptions", R"doc(
How oiv4kv.decode (and Split.decoded, Split.scan(decode=...)) turns an
encoded image into pixels. The defaults give what TFDS gives: full-size
RGB, decoded as OpenCV's imdecode does.

pixel_format: 'rgb', 'bgr' or 'gray' (gray arrays are H x W).
min_width, min_height: JPEG only: decode at the smallest DCT scale (1/8,
  1/4, 1/2, 1) whose output still covers min_width x min_height; 0 x 0 is
  full size. Much faster for training crops.
all_scale_factors: also allow 3/8, 5/8, 3/4, 7/8 (slower than 1/2 or 1).
apply_exif_orientation: rotate by the EXIF tag (only `original` has tags;
  300k/200k were rotated at conversion). Boxes refer to the rotated image:
  this is how to decode `original` to draw its boxes.
truncated: 'error' raises CorruptionError for damaged data; 'warn' returns
  what decodes and issues a RuntimeWarning naming the image.
fast_dct: faster integer IDCT and upsampling; no longer OpenCV's pixels.
max_pixels: refuse larger images (InvalidArgumentError) before allocating.
)doc")
      .def(py::init(&MakeDecodeOptions),
           py::kw_only(), py::arg("pixel_format") = "rgb", py::arg("min_width") = 0,
           py::arg("min_height") = 0, py::arg("all_scale_factors") = false,
           py::arg("apply_exif_orientation") = false, py::arg("truncated") = "error",
           py::arg("fast_dct") = false, py::arg("max_pixels") = DecodeOptions{}.max_pixels)
      .def_property_readonly("pixel_format",
                             [](const DecodeOptions& o) {
                               return std::string(PixelFormatName(o.pixel_format));
                             })
      .def_readonly("min_width", &DecodeOptions::min_width)
      .def_readonly("min_height", &DecodeOptions::min_height)
      .def_readonly("all_scale_factors", &DecodeOptions::all_scale_factors)
      .def_readonly("apply_exif_orientation", &DecodeOptions::apply_exif_orientation)
      .def_property_readonly("truncated",
                             [](const DecodeOptions& o) {
                               return std::string(TruncatedPolicyName(o.truncated));
                             })
      .def_readonly("fast_dct", &DecodeOptions::fast_dct)
      .def_readonly("max_pixels", &DecodeOptions::max_pixels)
      .def(py::pickle(
          [](const DecodeOptions& o) {
            return py::make_tuple(std::string(PixelFormatName(o.pixel_format)), o.min_width,
                                  o.min_height, o.all_scale_factors, o.apply_exif_orientation,
                                  std::string(TruncatedPolicyName(o.truncated)), o.fast_dct,
                                  o.max_pixels);
          },
          [](const py::tuple& t) {
            return MakeDecodeOptions(t[0].cast<std::string>(), t[1].cast<uint32_t>(),
                                     t[2].cast<uint32_t>(), t[3].cast<bool>(), t[4].cast<bool>(),
                                     t[5].cast<std::string>(), t[6].cast<bool>(),
                                     t[7].cast<uint64_t>());
          }));

  m.def(
      "decode",
      [](py::object data, std::optional<DecodeOptions> options) {
        // PyBUF_SIMPLE asks for one contiguous run of bytes; a strided
        // exporter raises BufferError. The view keeps the bytes alive.
        Py_buffer view;
        if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) {
          throw py::error_already_set();
        }
        std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> release_view(&view, PyBuffer_Release);
        const std::span<const uint8_t> bytes(static_cast<const uint8_t*>(view.buf),
                                             static_cast<size_t>(view.len));
        DecodedImage image;
        Status status;
        {
          py::gil_scoped_release release;
          status = ThreadDecoder().Decode(bytes, options.value_or(DecodeOptions{}), &image);
        }
        ThrowIfError(status);
        WarnIfTruncated(image);
        return PixelArray(std::move(image));
      },
      py::arg("data"), py::arg("options") = py::none(), R"doc(
Decodes an encoded image (JPEG or PNG bytes: bytes, memoryview, numpy uint8
array, ...) into a new uint8 numpy array, H x W x 3 (or H x W for gray),
with the GIL released. Raises CorruptionError or InvalidArgumentError with
the decoder's reason.
)doc");
}

}  // namespace oiv4kv::python
