#include "store/synth/png_writer.h"

#include <png.h>

#include <algorithm>
#include <cstring>

namespace oiv4kv::synth {
namespace {

void PngWriteToVector(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void PngFlush(png_structp) {}

// Row bytes of each kind, as libpng expects them.
std::vector<uint8_t> PngRows(const RgbImage& image, PngKind kind,
                             int* color_type, int* bit_depth,
                             std::vector<png_color>* palette) {
  const size_t n = static_cast<size_t>(image.width) * image.height;
  const uint8_t* p = image.pixels.data();
  std::vector<uint8_t> rows;
  auto gray = [&](size_t i) {
    return static_cast<uint8_t>(
        (p[i * 3] * 77 + p[i * 3 + 1] * 150 + p[i * 3 + 2] * 29 + 128) >> 8);
  };
  auto alpha = [&](size_t i) {
    return static_cast<uint8_t>((i % image.width) * 255 /
                                std::max<uint32_t>(1, image.width - 1));
  };
  *bit_depth = 8;
  switch (kind) {
    case PngKind::kRgb8:
    case PngKind::kRgb8Interlaced:
      *color_type = PNG_COLOR_TYPE_RGB;
      rows.assign(p, p + n * 3);
      break;
    case PngKind::kRgba8:
      *color_type = PNG_COLOR_TYPE_RGB_ALPHA;
      rows.resize(n * 4);
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(&rows[i * 4], p + i * 3, 3);
        rows[i * 4 + 3] = alpha(i);
      }
      break;
    case PngKind::kGray8:
      *color_type = PNG_COLOR_TYPE_GRAY;
      rows.resize(n);
      for (size_t i = 0; i < n; ++i) rows[i] = gray(i);
      break;
    case PngKind::kGrayAlpha8:
      *color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
      rows.resize(n * 2);
      for (size_t i = 0; i < n; ++i) {
        rows[i * 2] = gray(i);
        rows[i * 2 + 1] = alpha(i);
      }
      break;
    case PngKind::kPalette8:
      *color_type = PNG_COLOR_TYPE_PALETTE;
      palette->resize(216);
      for (int i = 0; i < 216; ++i) {
        (*palette)[i] = {static_cast<png_byte>(i / 36 * 51),
                         static_cast<png_byte>(i / 6 % 6 * 51),
                         static_cast<png_byte>(i % 6 * 51)};
      }
      rows.resize(n);
      for (size_t i = 0; i < n; ++i) {
        int idx = 0;
        for (int c = 0; c < 3; ++c) idx = idx * 6 + (p[i * 3 + c] + 25) / 51;
        rows[i] = static_cast<uint8_t>(idx);
      }
      break;
    case PngKind::kRgb16:
    case PngKind::kGray16: {
      const bool is_gray = kind == PngKind::kGray16;
      *color_type = is_gray ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
      *bit_depth = 16;
      const int channels = is_gray ? 1 : 3;
      rows.resize(n * channels * 2);
      uint32_t noise = 12345;
      for (size_t i = 0; i < n; ++i) {
        for (int c = 0; c < channels; ++c) {
          noise = noise * 1103515245u + 12345u;
          rows[(i * channels + c) * 2] =
              is_gray ? gray(i) : p[i * 3 + c];  // big-endian
          rows[(i * channels + c) * 2 + 1] = static_cast<uint8_t>(noise >> 24);
        }
      }
      break;
    }
  }
  return rows;
}

struct PngWriteState {
  const uint8_t* rows;
  size_t row_bytes;
  uint32_t width, height;
  int color_type, bit_depth;
  bool interlaced;
  const std::vector<png_color>* palette;
  std::span<const uint8_t> exif;
  std::vector<uint8_t>* out;
};

// libpng error handling longjmps: keep C++ objects out of this frame.
bool WritePng(const PngWriteState& st) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, st.out, PngWriteToVector, PngFlush);
  png_set_IHDR(png, info, st.width, st.height, st.bit_depth, st.color_type,
               st.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (st.color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_PLTE(png, info, st.palette->data(),
                 static_cast<int>(st.palette->size()));
  }
  if (!st.exif.empty()) {
    png_set_eXIf_1(png, info, static_cast<png_uint_32>(st.exif.size()),
                   const_cast<png_bytep>(st.exif.data()));
  }
  png_set_compression_level(png, 1);  // noisy content: higher levels cost time, save little
  png_write_info(png, info);
  const int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass) {
    for (uint32_t y = 0; y < st.height; ++y) {
      png_write_row(png, const_cast<png_bytep>(st.rows + y * st.row_bytes));
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

Status EncodePng(const RgbImage& image, PngKind kind, std::vector<uint8_t>* out,
                 std::span<const uint8_t> exif, RgbImage* expected) {
  int color_type = 0, bit_depth = 8;
  std::vector<png_color> palette;
  const std::vector<uint8_t> rows =
      PngRows(image, kind, &color_type, &bit_depth, &palette);
  if (expected != nullptr) {
    // The first byte of each sample is its value (or high byte); gray and
    // palette indices expand to three channels.
    const size_t n = static_cast<size_t>(image.width) * image.height;
    const bool gray = (color_type & PNG_COLOR_MASK_COLOR) == 0;
    const int channels = color_type == PNG_COLOR_TYPE_PALETTE ? 1
                         : gray
                             ? (color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1)
                             : (color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 3);
    const int bytes = bit_depth / 8;
    *expected = {image.width, image.height, std::vector<uint8_t>(n * 3)};
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* px = &rows[i * channels * bytes];
      for (int c = 0; c < 3; ++c) {
        uint8_t v;
        if (color_type == PNG_COLOR_TYPE_PALETTE) {
          const png_color& pc = palette[px[0]];
          v = c == 0 ? pc.red : c == 1 ? pc.green : pc.blue;
        } else {
          v = px[(gray ? 0 : c) * bytes];
        }
        expected->pixels[i * 3 + c] = v;
      }
    }
  }
  out->clear();
  PngWriteState st{rows.data(),
                   rows.size() / std::max<uint32_t>(1, image.height),
                   image.width,
                   image.height,
                   color_type,
                   bit_depth,
                   kind == PngKind::kRgb8Interlaced,
                   &palette,
                   exif,
                   out};
  if (!WritePng(st))
    return Status::IOError("libpng: write failed");
  return Status::OK();
}

}  // namespace oiv4kv::synth
