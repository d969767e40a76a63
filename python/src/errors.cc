#include "python/src/errors.h"

#include <Python.h>

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

// Borrowed from the module, which keeps them alive for the interpreter's life.
PyObject* g_error = nullptr;
PyObject* g_not_found = nullptr;
PyObject* g_corruption = nullptr;
PyObject* g_invalid_argument = nullptr;
PyObject* g_io_error = nullptr;
PyObject* g_not_supported = nullptr;

PyObject* NewError(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  std::string qualified = std::string("oiv4kv.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // steals the new reference
  return type;
}

}  // namespace

void RegisterErrors(py::module_& m) {
  py::handle runtime_error(PyExc_RuntimeError);
  g_error = NewError(m, "Error", py::make_tuple(runtime_error),
                     "Base of every error oiv4kv raises.");
  py::handle error(g_error);
  g_not_found = NewError(m, "NotFoundError", py::make_tuple(error, py::handle(PyExc_LookupError)),
                         "No such example, image or store.");
  g_corruption = NewError(m, "CorruptionError", py::make_tuple(error),
                          "Stored bytes failed a checksum or verification, or an image "
                          "could not be decoded.");
  g_invalid_argument =
      NewError(m, "InvalidArgumentError", py::make_tuple(error, py::handle(PyExc_ValueError)),
               "A bad argument, or a path that holds no complete store.");
  g_io_error = NewError(m, "StoreIOError", py::make_tuple(error, py::handle(PyExc_OSError)),
                        "The operating system failed a read, or memory ran out.");
  g_not_supported = NewError(m, "NotSupportedError", py::make_tuple(error),
                             "A config the store does not hold, or a foreign schema version.");
}

void ThrowStatus(const Status& status) {
  PyObject* type = g_error;
  switch (status.code()) {
    case Status::Code::kNotFound: type = g_not_found; break;
    case Status::Code::kCorruption: type = g_corruption; break;
    case Status::Code::kInvalidArgument: type = g_invalid_argument; break;
    case Status::Code::kIOError: type = g_io_error; break;
    case Status::Code::kNotSupported: type = g_not_supported; break;
    case Status::Code::kOk: break;
  }
  // The message may quote stored bytes that are not UTF-8: replace them
  // rather than fail with UnicodeDecodeError.
  const std::string& msg = status.message();
  PyObject* text = PyUnicode_DecodeUTF8(msg.data(), static_cast<Py_ssize_t>(msg.size()), "replace");
  if (text == nullptr) throw py::error_already_set();
  PyErr_SetObject(type, text);
  Py_DECREF(text);
  throw py::error_already_set();
}

}  // namespace oiv4kv::python
