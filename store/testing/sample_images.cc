#include "store/testing/sample_images.h"

// clang-format off
#include <cstdio>   // jpeglib.h needs FILE
#include <jpeglib.h>
// clang-format on
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <string>
#include <string_view>

namespace oiv4kv {
namespace {

// splitmix64: fixed output on every platform, unlike <random> distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() {
    return static_cast<double>(Next() >> 11) * 0x1.0p-53;
  }  // [0,1)
  double Range(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  double Gauss() {  // Box-Muller
    const double u1 = 1.0 - Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  uint64_t state_;
};

// Adds amplitude * value noise (lattice spacing `cell` px, smoothstep
// interpolation) to `acc` (width x height floats).
void AddValueNoise(std::vector<float>* acc, uint32_t width, uint32_t height,
                   double cell, double amplitude, Rng* rng) {
  const uint32_t gw = static_cast<uint32_t>(width / cell) + 2;
  const uint32_t gh = static_cast<uint32_t>(height / cell) + 2;
  std::vector<float> grid(static_cast<size_t>(gw) * gh);
  for (float& g : grid)
    g = static_cast<float>(rng->Range(-1.0, 1.0) * amplitude);
  auto smooth = [](double t) { return t * t * (3.0 - 2.0 * t); };
  for (uint32_t y = 0; y < height; ++y) {
    const double fy = y / cell;
    const uint32_t iy = static_cast<uint32_t>(fy);
    const double ty = smooth(fy - iy);
    float* row = acc->data() + static_cast<size_t>(y) * width;
    const float* g0 = grid.data() + static_cast<size_t>(iy) * gw;
    const float* g1 = g0 + gw;
    for (uint32_t x = 0; x < width; ++x) {
      const double fx = x / cell;
      const uint32_t ix = static_cast<uint32_t>(fx);
      const double tx = smooth(fx - ix);
      const double top = g0[ix] + (g0[ix + 1] - g0[ix]) * tx;
      const double bottom = g1[ix] + (g1[ix + 1] - g1[ix]) * tx;
      row[x] += static_cast<float>(top + (bottom - top) * ty);
    }
  }
}

struct Shape {
  bool ellipse;
  double cx, cy, rx, ry, cos_a, sin_a;
  double color[3];
  double stripe_period, stripe_cos, stripe_sin;  // period 0: no stripes
};

// Coverage of a pixel by the shape in [0,1], with a one-pixel soft edge.
double Coverage(const Shape& s, double x, double y) {
  const double dx = x - s.cx, dy = y - s.cy;
  const double u = dx * s.cos_a + dy * s.sin_a;
  const double v = -dx * s.sin_a + dy * s.cos_a;
  double dist;  // signed distance to the edge in pixels, negative inside
  if (s.ellipse) {
    const double r =
        std::sqrt((u * u) / (s.rx * s.rx) + (v * v) / (s.ry * s.ry));
    dist = (r - 1.0) * std::min(s.rx, s.ry);
  } else {
    dist = std::max(std::abs(u) - s.rx, std::abs(v) - s.ry);
  }
  return std::clamp(0.5 - dist, 0.0, 1.0);
}

}  // namespace

RgbImage SyntheticImage(uint32_t width, uint32_t height, uint64_t seed) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.pixels.assign(static_cast<size_t>(width) * height * 3, 0);
  if (width == 0 || height == 0) return img;
  Rng rng(seed * 0x2545F4914F6CDD1Dull + 17);
  const size_t n = static_cast<size_t>(width) * height;

  // Luminance texture with a roughly 1/f^0.6 amplitude spectrum, and smooth
  // chroma texture (chroma in photos is low-pass).
  std::vector<float> luma(n, 0.0f), chroma_a(n, 0.0f), chroma_b(n, 0.0f);
  const double big = std::max(width, height) / 3.0;
  for (double cell = big; cell >= 1.5; cell /= 2) {
    AddValueNoise(&luma, width, height, cell, 38.0 * std::pow(cell / big, 0.6),
                  &rng);
  }
  for (double cell = big; cell >= big / 8; cell /= 2) {
    AddValueNoise(&chroma_a, width, height, cell, 22.0 * cell / big, &rng);
    AddValueNoise(&chroma_b, width, height, cell, 22.0 * cell / big, &rng);
  }

  double base[3], gx[3], gy[3];
  for (int c = 0; c < 3; ++c) {
    base[c] = rng.Range(70, 170);
    gx[c] = rng.Range(-50, 50);
    gy[c] = rng.Range(-50, 50);
  }

  const double min_dim = std::min(width, height);
  const int num_shapes = 8 + static_cast<int>(n / 40000);
  std::vector<Shape> shapes(num_shapes);
  for (Shape& s : shapes) {
    s.ellipse = rng.Uniform() < 0.5;
    s.cx = rng.Range(0, width);
    s.cy = rng.Range(0, height);
    s.rx = std::max(1.5, rng.Range(0.03, 0.2) * min_dim);
    s.ry = std::max(1.5, rng.Range(0.03, 0.2) * min_dim);
    const double a = rng.Range(0, M_PI);
    s.cos_a = std::cos(a);
    s.sin_a = std::sin(a);
    for (double& c : s.color) c = rng.Range(10, 245);
    s.stripe_period = rng.Uniform() < 0.35 ? rng.Range(2.5, 7.0) : 0.0;
    const double sa = rng.Range(0, M_PI);
    s.stripe_cos = std::cos(sa);
    s.stripe_sin = std::sin(sa);
  }

  std::vector<double> px(3);
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      const size_t i = static_cast<size_t>(y) * width + x;
      const double fx = static_cast<double>(x) / width,
                   fy = static_cast<double>(y) / height;
      const double l = luma[i];
      px[0] = base[0] + gx[0] * fx + gy[0] * fy + l + chroma_a[i];
      px[1] = base[1] + gx[1] * fx + gy[1] * fy + l -
              0.5 * (chroma_a[i] + chroma_b[i]);
      px[2] = base[2] + gx[2] * fx + gy[2] * fy + l + chroma_b[i];
      for (const Shape& s : shapes) {
        const double reach = std::max(s.rx, s.ry) + 1.0;
        if (std::abs(x - s.cx) > reach || std::abs(y - s.cy) > reach) continue;
        const double cov = Coverage(s, x + 0.5, y + 0.5);
        if (cov <= 0.0) continue;
        double stripe = 0.0;
        if (s.stripe_period > 0) {
          stripe =
              45.0 * std::sin(2 * M_PI * (x * s.stripe_cos + y * s.stripe_sin) /
                              s.stripe_period);
        }
        for (int c = 0; c < 3; ++c) {
          const double inside = s.color[c] + stripe + 0.4 * l;
          px[c] = px[c] * (1.0 - cov) + inside * cov;
        }
      }
      for (int c = 0; c < 3; ++c) {
        const double v = px[c] + 2.0 * rng.Gauss();
        img.pixels[i * 3 + c] =
            static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return img;
}

Status EncodeJpeg(const RgbImage& image, const JpegSpec& spec,
                  std::vector<uint8_t>* out) {
  tjhandle tj = tjInitCompress();
  if (tj == nullptr) return Status::IOError("tjInitCompress failed");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  int flags = spec.progressive ? TJFLAG_PROGRESSIVE : 0;
  int rc;
  if (spec.subsamp == TJSAMP_GRAY) {
    // TurboJPEG makes a one-component JPEG from the luminance of RGB input.
    rc = tjCompress2(tj, image.pixels.data(), image.width, 0, image.height,
                     TJPF_RGB, &buf, &size, TJSAMP_GRAY, spec.quality, flags);
  } else {
    rc = tjCompress2(tj, image.pixels.data(), image.width, 0, image.height,
                     TJPF_RGB, &buf, &size, spec.subsamp, spec.quality, flags);
  }
  Status s;
  if (rc != 0) {
    s = Status::InvalidArgument(std::string("tjCompress2: ") +
                                tjGetErrorStr2(tj));
  } else {
    out->assign(buf, buf + size);
  }
  tjFree(buf);
  tjDestroy(tj);
  return s;
}

namespace {

struct JpegWriteError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegWriteErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegWriteError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

enum class Layout { kDefaults, kRgb, kCmyk, kYcck, kOddSampling, kManyScans };

// Runs libjpeg compression of `pixels` (3 or 4 bytes a pixel). No C++ objects
// with destructors live in this frame, so longjmp out of libjpeg is safe.
bool CompressLibjpeg(const uint8_t* pixels, uint32_t width, uint32_t height,
                     Layout layout, int quality, jpeg_scan_info* scans,
                     int num_scans, unsigned char** buf, unsigned long* size,
                     char* message) {
  jpeg_compress_struct cinfo;
  JpegWriteError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegWriteErrorExit;
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, sizeof(err.message));
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buf, size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  const bool cmyk = layout == Layout::kCmyk || layout == Layout::kYcck;
  cinfo.input_components = cmyk ? 4 : 3;
  cinfo.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  switch (layout) {
    case Layout::kDefaults:
      break;
    case Layout::kRgb:
      jpeg_set_colorspace(&cinfo, JCS_RGB);
      break;  // Adobe transform 0
    case Layout::kCmyk:
      jpeg_set_colorspace(&cinfo, JCS_CMYK);
      break;
    case Layout::kYcck:
      jpeg_set_colorspace(&cinfo, JCS_YCCK);
      break;
    case Layout::kOddSampling:
      cinfo.comp_info[0].h_samp_factor = 1;
      cinfo.comp_info[0].v_samp_factor = 2;
      cinfo.comp_info[1].h_samp_factor = 2;
      cinfo.comp_info[1].v_samp_factor = 1;
      cinfo.comp_info[2].h_samp_factor = 1;
      cinfo.comp_info[2].v_samp_factor = 1;
      break;
    case Layout::kManyScans:
      cinfo.scan_info = scans;
      cinfo.num_scans = num_scans;
      break;
  }
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = size_t{width} * cinfo.input_components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels) + cinfo.next_scanline * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

Status RunLibjpeg(const uint8_t* pixels, const RgbImage& image, Layout layout,
                  int quality, std::vector<jpeg_scan_info>* scans,
                  std::vector<uint8_t>* out) {
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  char message[JMSG_LENGTH_MAX] = {0};
  const bool ok =
      CompressLibjpeg(pixels, image.width, image.height, layout, quality,
                      scans == nullptr ? nullptr : scans->data(),
                      scans == nullptr ? 0 : static_cast<int>(scans->size()),
                      &buf, &size, message);
  if (ok) out->assign(buf, buf + size);
  free(buf);  // jpeg_mem_dest allocates with malloc
  return ok ? Status::OK()
            : Status::InvalidArgument(std::string("libjpeg: ") + message);
}

}  // namespace

Status EncodeJpegLibjpeg(const RgbImage& image, JpegColorKind kind, int quality,
                         std::vector<uint8_t>* out) {
  if (kind == JpegColorKind::kRgb || kind == JpegColorKind::kOddSampling) {
    return RunLibjpeg(
        image.pixels.data(), image,
        kind == JpegColorKind::kRgb ? Layout::kRgb : Layout::kOddSampling,
        quality, nullptr, out);
  }
  // Inverted (Adobe) CMYK with grey component replacement: k' = max(R,G,B)
  // and c' = 255 * R / k', so that R = c' * k' / 255.
  const size_t n = static_cast<size_t>(image.width) * image.height;
  std::vector<uint8_t> cmyk(n * 4);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.pixels[i * 3];
    const int k = std::max({p[0], p[1], p[2]});
    for (int c = 0; c < 3; ++c) {
      cmyk[i * 4 + c] =
          k == 0 ? 0 : static_cast<uint8_t>((p[c] * 255 + k / 2) / k);
    }
    cmyk[i * 4 + 3] = static_cast<uint8_t>(k);
  }
  return RunLibjpeg(
      cmyk.data(), image,
      kind == JpegColorKind::kCmyk ? Layout::kCmyk : Layout::kYcck, quality,
      nullptr, out);
}

Status EncodeJpegLikeOpenCv(const RgbImage& image, int quality,
                            std::vector<uint8_t>* out) {
  return RunLibjpeg(image.pixels.data(), image, Layout::kDefaults, quality,
                    nullptr, out);
}

Status EncodeJpegManyScans(const RgbImage& image, int refinements,
                           std::vector<uint8_t>* out) {
  std::vector<jpeg_scan_info> scans;
  scans.push_back(
      {3, {0, 1, 2, 0}, 0, 0, 0, 0});  // DC of all components, full precision
  for (int c = 0; c < 3; ++c) {
    for (int k = 1; k < 64; ++k) {
      scans.push_back({1, {c, 0, 0, 0}, k, k, 0, refinements});
      for (int a = refinements; a > 0; --a)
        scans.push_back({1, {c, 0, 0, 0}, k, k, a, a - 1});
    }
  }
  return RunLibjpeg(image.pixels.data(), image, Layout::kManyScans, 90, &scans,
                    out);
}

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
  png_set_compression_level(png, 1);
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
    return Status::InvalidArgument("libpng failed to write the sample PNG");
  return Status::OK();
}

std::vector<uint8_t> ExifTiffBlock(int orientation, bool big_endian) {
  std::vector<uint8_t> b;
  b.reserve(80);
  auto u16 = [&](uint32_t v) {
    if (big_endian) {
      b.push_back(static_cast<uint8_t>(v >> 8));
      b.push_back(static_cast<uint8_t>(v));
    } else {
      b.push_back(static_cast<uint8_t>(v));
      b.push_back(static_cast<uint8_t>(v >> 8));
    }
  };
  auto u32 = [&](uint32_t v) {
    if (big_endian) {
      u16(v >> 16);
      u16(v & 0xFFFF);
    } else {
      u16(v & 0xFFFF);
      u16(v >> 16);
    }
  };
  b.push_back(big_endian ? 'M' : 'I');
  b.push_back(big_endian ? 'M' : 'I');
  u16(0x2A);
  u32(8);  // IFD0 right after the header
  const uint32_t entries = 3;
  const uint32_t data_at = 8 + 2 + entries * 12 + 4;
  u16(entries);
  u16(0x010F);  // Make, ASCII, out of line
  u16(2);
  u32(12);
  u32(data_at);
  u16(0x0112);  // Orientation, SHORT, inline
  u16(3);
  u32(1);
  u16(static_cast<uint32_t>(orientation));
  u16(0);
  u16(0x011A);  // XResolution, RATIONAL, out of line
  u16(5);
  u32(1);
  u32(data_at + 12);
  u32(0);  // no IFD1
  for (char c : std::string_view("oiv4kv-test"))
    b.push_back(static_cast<uint8_t>(c));
  b.push_back(0);  // 12 bytes with the NUL
  u32(72);
  u32(1);
  return b;
}

std::vector<uint8_t> WithApp1(std::span<const uint8_t> jpeg,
                              std::span<const uint8_t> tiff) {
  std::vector<uint8_t> out;
  out.reserve(jpeg.size() + tiff.size() + 10);
  out.insert(out.end(), jpeg.begin(), jpeg.begin() + 2);  // SOI
  const size_t len = 2 + 6 + tiff.size();
  out.push_back(0xFF);
  out.push_back(0xE1);
  out.push_back(static_cast<uint8_t>(len >> 8));
  out.push_back(static_cast<uint8_t>(len));
  const char ident[6] = {'E', 'x', 'i', 'f', 0, 0};
  out.insert(out.end(), ident, ident + 6);
  out.insert(out.end(), tiff.begin(), tiff.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

std::vector<double> AreaResample(const RgbImage& image, uint32_t width,
                                 uint32_t height) {
  const uint32_t sw = image.width, sh = image.height;
  // Coverage of source pixel j by output pixel i along one axis.
  auto weights = [](uint32_t src, uint32_t dst) {
    std::vector<std::vector<std::pair<uint32_t, double>>> w(dst);
    const double scale = static_cast<double>(src) / dst;
    for (uint32_t i = 0; i < dst; ++i) {
      const double lo = i * scale, hi = (i + 1) * scale;
      for (uint32_t j = static_cast<uint32_t>(lo); j < src && j < hi; ++j) {
        const double overlap =
            std::min<double>(hi, j + 1) - std::max<double>(lo, j);
        if (overlap > 0) w[i].push_back({j, overlap / scale});
      }
    }
    return w;
  };
  const auto wx = weights(sw, width), wy = weights(sh, height);
  std::vector<double> rows(size_t{width} * sh * 3, 0.0);
  for (uint32_t y = 0; y < sh; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      for (const auto& [j, w] : wx[x]) {
        for (int c = 0; c < 3; ++c) {
          rows[(size_t{y} * width + x) * 3 + c] +=
              w * image.pixels[(size_t{y} * sw + j) * 3 + c];
        }
      }
    }
  }
  std::vector<double> out(size_t{width} * height * 3, 0.0);
  for (uint32_t y = 0; y < height; ++y) {
    for (const auto& [j, w] : wy[y]) {
      for (size_t x = 0; x < size_t{width} * 3; ++x) {
        out[size_t{y} * width * 3 + x] += w * rows[size_t{j} * width * 3 + x];
      }
    }
  }
  return out;
}

std::vector<double> BilinearResample(const RgbImage& image, uint32_t width,
                                     uint32_t height, double scale_x,
                                     double scale_y) {
  // Two taps per axis: (first source pixel, weight of the second).
  auto taps = [](uint32_t src, uint32_t dst, double scale) {
    std::vector<std::pair<uint32_t, double>> t(dst);
    for (uint32_t i = 0; i < dst; ++i) {
      const double x = (i + 0.5) * scale - 0.5;
      const double fl = std::floor(x);
      if (x < 0) {
        t[i] = {0, 0.0};
      } else if (fl >= src - 1) {
        t[i] = {src - 1, 0.0};
      } else {
        t[i] = {static_cast<uint32_t>(fl), x - fl};
      }
    }
    return t;
  };
  const auto tx = taps(image.width, width, scale_x),
             ty = taps(image.height, height, scale_y);
  auto at = [&](uint32_t x, uint32_t y, int c) -> double {
    return image.pixels[(size_t{y} * image.width + x) * 3 + c];
  };
  std::vector<double> out(size_t{width} * height * 3);
  for (uint32_t y = 0; y < height; ++y) {
    const auto [y0, fy] = ty[y];
    const uint32_t y1 = std::min(y0 + 1, image.height - 1);
    for (uint32_t x = 0; x < width; ++x) {
      const auto [x0, fx] = tx[x];
      const uint32_t x1 = std::min(x0 + 1, image.width - 1);
      for (int c = 0; c < 3; ++c) {
        const double top = at(x0, y0, c) * (1 - fx) + at(x1, y0, c) * fx;
        const double bottom = at(x0, y1, c) * (1 - fx) + at(x1, y1, c) * fx;
        out[(size_t{y} * width + x) * 3 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

std::vector<double> ApplyOrientation(const std::vector<double>& rgb,
                                     uint32_t width, uint32_t height,
                                     int orientation, uint32_t* out_width,
                                     uint32_t* out_height) {
  std::vector<double> img = rgb;
  uint32_t w = width, h = height;
  auto transpose = [&]() {
    std::vector<double> t(img.size());
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c)
          t[(size_t{x} * h + y) * 3 + c] = img[(size_t{y} * w + x) * 3 + c];
      }
    }
    img.swap(t);
    std::swap(w, h);
  };
  auto flip = [&](bool flip_x, bool flip_y) {
    std::vector<double> t(img.size());
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        const uint32_t sx = flip_x ? w - 1 - x : x, sy = flip_y ? h - 1 - y : y;
        for (int c = 0; c < 3; ++c)
          t[(size_t{y} * w + x) * 3 + c] = img[(size_t{sy} * w + sx) * 3 + c];
      }
    }
    img.swap(t);
  };
  switch (orientation) {
    case 2:
      flip(true, false);
      break;
    case 3:
      flip(true, true);
      break;
    case 4:
      flip(false, true);
      break;
    case 5:
      transpose();
      break;
    case 6:
      transpose();
      flip(true, false);
      break;
    case 7:
      transpose();
      flip(true, true);
      break;
    case 8:
      transpose();
      flip(false, true);
      break;
    default:
      break;
  }
  *out_width = w;
  *out_height = h;
  return img;
}

double Psnr(const std::vector<double>& reference,
            std::span<const uint8_t> rgb) {
  if (reference.size() != rgb.size() || rgb.empty()) return 0.0;
  double se = 0.0;
  for (size_t i = 0; i < rgb.size(); ++i) {
    const double d = reference[i] - rgb[i];
    se += d * d;
  }
  const double mse = se / rgb.size();
  return mse == 0.0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

Status DecodeJpegRgb(std::span<const uint8_t> jpeg, RgbImage* out) {
  tjhandle tj = tjInitDecompress();
  if (tj == nullptr) return Status::IOError("tjInitDecompress failed");
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  Status s;
  if (tjDecompressHeader3(tj, jpeg.data(), jpeg.size(), &w, &h, &subsamp,
                          &colorspace) != 0) {
    s = Status::Corruption(std::string("tjDecompressHeader3: ") +
                           tjGetErrorStr2(tj));
  } else {
    *out = {static_cast<uint32_t>(w), static_cast<uint32_t>(h),
            std::vector<uint8_t>(size_t(w) * h * 3)};
    if (tjDecompress2(tj, jpeg.data(), jpeg.size(), out->pixels.data(), w, 0, h,
                      TJPF_RGB, 0) != 0 &&
        tjGetErrorCode(tj) != TJERR_WARNING) {
      s = Status::Corruption(std::string("tjDecompress2: ") +
                             tjGetErrorStr2(tj));
    }
  }
  tjDestroy(tj);
  return s;
}

}  // namespace oiv4kv
