// libpng reading from memory: the state and callbacks that both PNG readers
// (store/core/decode.cc and store/convert/transcode.cc) hand to libpng. libpng's
// error handler longjmps, so the state is plain values. Header-only: the
// readers live in different libraries.
#pragma once

#include <png.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace oiv4kv {

struct PngSource {
  const uint8_t* data;
  size_t size, pos;
  char message[256];  // libpng's error, set before it longjmps
};

// png_create_read_struct(..., source, PngSourceError, PngSourceWarning) and
// png_set_read_fn(png, source, PngSourceRead), `source` a PngSource*.
inline void PngSourceError(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof(s->message), "%s", message);
  png_longjmp(png, 1);
}

inline void PngSourceWarning(png_structp, png_const_charp) {}

inline void PngSourceRead(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<PngSource*>(png_get_io_ptr(png));
  if (s->size - s->pos < n) png_error(png, "the file ends early (truncated)");
  std::memcpy(out, s->data + s->pos, n);
  s->pos += n;
}

}  // namespace oiv4kv
