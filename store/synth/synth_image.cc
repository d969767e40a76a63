#include "store/synth/synth_image.h"

#include <jpeglib.h>
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

namespace oiv4kv::synth {
namespace {

uint8_t Clamp255(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

struct Rgb {
  float r, g, b;
};

// A colour from a scene-like palette: skies, foliage, earth, stone, skin,
// saturated objects.
Rgb PaletteColour(std::mt19937_64& rng) {
  static constexpr Rgb kBases[] = {
      {110, 160, 220}, {200, 220, 240}, {60, 110, 50},   {120, 150, 70},  {140, 110, 80},
      {90, 70, 50},    {160, 160, 150}, {60, 60, 65},    {220, 180, 150}, {200, 40, 40},
      {240, 200, 40},  {30, 60, 140},   {240, 240, 235}, {20, 20, 25}};
  const Rgb& base = kBases[std::uniform_int_distribution<size_t>(0, std::size(kBases) - 1)(rng)];
  std::normal_distribution<float> jitter(0.0f, 18.0f);
  return {base.r + jitter(rng), base.g + jitter(rng), base.b + jitter(rng)};
}

// A separable low-frequency swell: one sinusoid along one axis.
std::vector<int16_t> Wave(std::mt19937_64& rng, uint32_t n) {
  std::uniform_real_distribution<float> freq(0.3f, 3.0f), phase(0.0f, 6.2832f), amp(0.0f, 12.0f);
  const float f = freq(rng) * 6.2832f / static_cast<float>(n);
  const float p = phase(rng), a = amp(rng);
  std::vector<int16_t> t(n);
  for (uint32_t i = 0; i < n; ++i) {
    t[i] = static_cast<int16_t>(a * std::sin(f * static_cast<float>(i) + p));
  }
  return t;
}

// Value noise: random values on a grid of 2^shift pixels, bilinearly
// interpolated, so texture looks like foliage, clouds or fabric at that
// scale. `channels` 1 gives luminance only, 3 a luminance with some tint.
class ValueNoise {
 public:
  ValueNoise(uint32_t w, uint32_t h, int shift, int channels, int amp, uint64_t seed)
      : shift_(shift),
        channels_(channels),
        gw_((w >> shift) + 2),
        grid_(size_t{gw_} * ((h >> shift) + 2) * channels),
        vrow_(size_t{gw_} * channels) {
    uint64_t state = seed | 1;
    auto next = [&](int a) {  // uniform in [-a, a]; xorshift: grids are large
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      return static_cast<int>((state >> 32) % static_cast<uint64_t>(2 * a + 1)) - a;
    };
    for (size_t i = 0; i < grid_.size(); i += static_cast<size_t>(channels)) {
      const int luma = next(amp);
      for (int c = 0; c < channels; ++c) {
        grid_[i + c] = static_cast<int16_t>(luma + (c == 1 ? 0 : next(amp / 4)));
      }
    }
  }

  // Adds row y's noise to acc (w * channels values).
  void AddRow(uint32_t y, uint32_t w, int32_t* acc) {
    const int one = 1 << shift_, ch = channels_;
    const int fy = static_cast<int>(y & static_cast<uint32_t>(one - 1));
    const int16_t* g0 = grid_.data() + size_t{y >> shift_} * gw_ * ch;
    const int16_t* g1 = g0 + size_t{gw_} * ch;
    for (size_t i = 0; i < vrow_.size(); ++i) vrow_[i] = g0[i] * (one - fy) + g1[i] * fy;
    for (uint32_t k = 0; k + 1 < gw_; ++k) {
      const uint32_t x0 = k << shift_;
      if (x0 >= w) break;
      const uint32_t x1 = std::min(w, x0 + static_cast<uint32_t>(one));
      for (int c = 0; c < ch; ++c) {
        int32_t v = vrow_[k * ch + c] * one;
        const int32_t step = vrow_[(k + 1) * ch + c] - vrow_[k * ch + c];
        for (uint32_t x = x0; x < x1; ++x, v += step) acc[x * ch + c] += v >> (2 * shift_);
      }
    }
  }

 private:
  int shift_, channels_;
  uint32_t gw_;
  std::vector<int16_t> grid_;
  std::vector<int32_t> vrow_;
};

void Put16(std::vector<uint8_t>* v, uint16_t x, bool be) {
  if (be) {
    v->push_back(static_cast<uint8_t>(x >> 8)), v->push_back(static_cast<uint8_t>(x));
  } else {
    v->push_back(static_cast<uint8_t>(x)), v->push_back(static_cast<uint8_t>(x >> 8));
  }
}
void Put32(std::vector<uint8_t>* v, uint32_t x, bool be) {
  if (be) {
    Put16(v, static_cast<uint16_t>(x >> 16), true), Put16(v, static_cast<uint16_t>(x), true);
  } else {
    Put16(v, static_cast<uint16_t>(x), false), Put16(v, static_cast<uint16_t>(x >> 16), false);
  }
}

// An APP1 Exif segment whose IFD0 holds Make, Model and Orientation; Make
// and Model live past the IFD, so a parser must follow offsets.
std::vector<uint8_t> ExifSegment(int orientation, bool be, uint64_t seed) {
  static constexpr const char* kMakes[][2] = {{"Canon", "Canon EOS 5D Mark II"},
                                              {"NIKON CORPORATION", "NIKON D700"},
                                              {"Apple", "iPhone 4S"},
                                              {"SONY", "DSLR-A200"}};
  const auto& cam = kMakes[seed % std::size(kMakes)];
  const std::string make = cam[0], model = cam[1];
  std::vector<uint8_t> tiff;
  tiff.push_back(be ? 'M' : 'I'), tiff.push_back(be ? 'M' : 'I');
  Put16(&tiff, 42, be);
  Put32(&tiff, 8, be);
  constexpr uint16_t kEntries = 3;
  const uint32_t data_at = 8 + 2 + kEntries * 12 + 4;
  Put16(&tiff, kEntries, be);
  Put16(&tiff, 0x010F, be), Put16(&tiff, 2, be);  // Make, ASCII
  Put32(&tiff, static_cast<uint32_t>(make.size() + 1), be), Put32(&tiff, data_at, be);
  Put16(&tiff, 0x0110, be), Put16(&tiff, 2, be);  // Model, ASCII
  Put32(&tiff, static_cast<uint32_t>(model.size() + 1), be);
  Put32(&tiff, data_at + static_cast<uint32_t>(make.size() + 1), be);
  Put16(&tiff, 0x0112, be), Put16(&tiff, 3, be);  // Orientation, SHORT
  Put32(&tiff, 1, be);
  Put16(&tiff, static_cast<uint16_t>(orientation), be), Put16(&tiff, 0, be);
  Put32(&tiff, 0, be);  // no IFD1
  tiff.insert(tiff.end(), make.begin(), make.end()), tiff.push_back(0);
  tiff.insert(tiff.end(), model.begin(), model.end()), tiff.push_back(0);

  std::vector<uint8_t> seg = {0xFF, 0xE1};
  Put16(&seg, static_cast<uint16_t>(2 + 6 + tiff.size()), true);
  for (char c : std::string_view("Exif\0\0", 6)) seg.push_back(static_cast<uint8_t>(c));
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  return seg;
}

// `jpeg` with the Exif segment after SOI; a JFIF APP0 is dropped
// (cameras write none) or, with keep_jfif, kept before the Exif segment.
void InsertExif(std::vector<uint8_t>* jpeg, const std::vector<uint8_t>& exif, bool keep_jfif) {
  size_t at = 2;
  size_t drop = 0;
  if (jpeg->size() > 6 && (*jpeg)[2] == 0xFF && (*jpeg)[3] == 0xE0) {
    const size_t app0 = 2 + (size_t{(*jpeg)[4]} << 8 | (*jpeg)[5]);
    if (keep_jfif) {
      at += app0;
    } else {
      drop = app0;
    }
  }
  jpeg->erase(jpeg->begin() + 2, jpeg->begin() + 2 + static_cast<ptrdiff_t>(drop));
  jpeg->insert(jpeg->begin() + static_cast<ptrdiff_t>(at), exif.begin(), exif.end());
}

// Offset of the 0xFF of the first marker segment, up to and including the
// first SOS, for which pred(marker) holds; 0 if none or malformed.
template <typename Pred>
size_t FindMarker(const std::vector<uint8_t>& j, Pred pred) {
  if (j.size() < 4 || j[0] != 0xFF || j[1] != 0xD8) return 0;
  size_t p = 2;
  while (p + 4 <= j.size() && j[p] == 0xFF) {
    const uint8_t marker = j[p + 1];
    if (pred(marker)) return p;
    if (marker == 0xDA) return 0;
    p += 2 + (size_t{j[p + 2]} << 8 | j[p + 3]);
  }
  return 0;
}

std::string HtmlErrorPage(uint64_t seed) {
  return "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>\n"
         "<h1>Not Found</h1>\n<p>The requested URL /photos/" +
         std::to_string(seed % 100000000) +
         "_o.jpg was not found on this server.</p>\n</body></html>\n";
}

struct JpegErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorMgr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Inverted (Adobe/Photoshop) CMYK through the libjpeg API: TurboJPEG's
// compressor takes no CMYK from RGB. Only trivially destructible locals
// live across setjmp. Returns false and fills `message` on failure.
bool CompressCmyk(const uint8_t* cmyk, uint32_t w, uint32_t h, int quality, unsigned char** out,
                  unsigned long* out_size, char* message) {
  jpeg_compress_struct cinfo;
  JpegErrorMgr err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = JpegErrorExit;
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, sizeof(err.message));
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, out_size);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);  // CMYK in -> CMYK out with an Adobe marker
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(cmyk + size_t{cinfo.next_scanline} * w * 4);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

void PngWrite(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void PngFlush(png_structp) {}

// Same setjmp discipline as CompressCmyk.
bool CompressPng(const uint8_t* rgb, uint32_t w, uint32_t h, std::vector<uint8_t>* out) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, PngWrite, PngFlush);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 3);  // noisy content: higher levels cost time, save little
  png_write_info(png, info);
  for (uint32_t y = 0; y < h; ++y) {
    png_write_row(png, const_cast<png_bytep>(rgb + size_t{y} * w * 3));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

void PaintNatural(uint32_t w, uint32_t h, uint64_t seed, std::vector<uint8_t>* rgb) {
  std::mt19937_64 rng(seed);
  rgb->resize(size_t{w} * h * 3);
  uint8_t* px = rgb->data();

  // Background: a bilinear gradient between four corner colours (sky-like
  // above, ground-like below) with a gentle swell.
  const Rgb top_l = PaletteColour(rng), top_r = PaletteColour(rng);
  const Rgb bot_l = PaletteColour(rng), bot_r = PaletteColour(rng);
  const std::vector<int16_t> row_wave = Wave(rng, h), col_wave = Wave(rng, w);
  for (uint32_t y = 0; y < h; ++y) {
    const float t = h > 1 ? static_cast<float>(y) / static_cast<float>(h - 1) : 0.0f;
    const float l[3] = {top_l.r + (bot_l.r - top_l.r) * t, top_l.g + (bot_l.g - top_l.g) * t,
                        top_l.b + (bot_l.b - top_l.b) * t};
    const float r[3] = {top_r.r + (bot_r.r - top_r.r) * t, top_r.g + (bot_r.g - top_r.g) * t,
                        top_r.b + (bot_r.b - top_r.b) * t};
    int32_t v[3], step[3];  // 16.16 fixed point along the row
    for (int c = 0; c < 3; ++c) {
      v[c] = static_cast<int32_t>(l[c] * 65536.0f);
      step[c] = static_cast<int32_t>((r[c] - l[c]) * 65536.0f / static_cast<float>(w));
    }
    uint8_t* row = px + size_t{y} * w * 3;
    const int rw = row_wave[y];
    for (uint32_t x = 0; x < w; ++x) {
      const int wave = rw + col_wave[x];
      for (int c = 0; c < 3; ++c) {
        row[x * 3 + c] = Clamp255((v[c] >> 16) + wave);
        v[c] += step[c];
      }
    }
  }

  // Objects: shaded ellipses and rectangles, some translucent.
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int shapes = std::uniform_int_distribution<int>(2, 9)(rng);
  for (int s = 0; s < shapes; ++s) {
    const bool ellipse = unit(rng) < 0.6f;
    const float cx = unit(rng) * static_cast<float>(w), cy = unit(rng) * static_cast<float>(h);
    const float rx = (0.04f + 0.3f * unit(rng)) * static_cast<float>(w);
    const float ry = (0.04f + 0.3f * unit(rng)) * static_cast<float>(h);
    const Rgb colour = PaletteColour(rng);
    const float shade = (unit(rng) - 0.5f) * 120.0f;  // light from above or below
    const int alpha = unit(rng) < 0.7f ? 256 : std::uniform_int_distribution<int>(90, 200)(rng);
    const int y0 = std::max(0, static_cast<int>(cy - ry));
    const int y1 = std::min(static_cast<int>(h) - 1, static_cast<int>(cy + ry));
    for (int y = y0; y <= y1; ++y) {
      const float dy = (static_cast<float>(y) - cy) / ry;
      const float half = ellipse ? rx * std::sqrt(std::max(0.0f, 1.0f - dy * dy)) : rx;
      const int x0 = std::max(0, static_cast<int>(cx - half));
      const int x1 = std::min(static_cast<int>(w) - 1, static_cast<int>(cx + half));
      const float lit = shade * dy * 0.5f;
      const int cr = static_cast<int>(colour.r + lit), cg = static_cast<int>(colour.g + lit),
                cb = static_cast<int>(colour.b + lit);
      uint8_t* row = px + size_t(y) * w * 3;
      for (int x = x0; x <= x1; ++x) {
        uint8_t* p = row + x * 3;
        p[0] = Clamp255(p[0] + (((cr - p[0]) * alpha) >> 8));
        p[1] = Clamp255(p[1] + (((cg - p[1]) * alpha) >> 8));
        p[2] = Clamp255(p[2] + (((cb - p[2]) * alpha) >> 8));
      }
    }
  }

  // Texture at three scales, each image with its own mix (smooth skies to
  // busy foliage), and sensor noise; added row by row in one pass. Only
  // the coarse scale is tinted: fine chroma would be subsampled away.
  std::uniform_int_distribution<int> amp_coarse(6, 30), amp_medium(2, 18), amp_fine(0, 14);
  ValueNoise coarse(w, h, 6, 3, amp_coarse(rng), rng());
  ValueNoise medium(w, h, 4, 1, amp_medium(rng), rng());
  ValueNoise fine(w, h, 2, 1, amp_fine(rng), rng());
  const int amp = std::uniform_int_distribution<int>(1, 6)(rng);
  uint32_t state = static_cast<uint32_t>(seed) | 1u;
  std::vector<int32_t> tint(size_t{w} * 3), luma(w);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {  // sensor noise
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      luma[x] = static_cast<int>(((state & 0xFF) * (2 * amp + 1)) >> 8) - amp;
    }
    std::fill(tint.begin(), tint.end(), 0);
    coarse.AddRow(y, w, tint.data());
    medium.AddRow(y, w, luma.data());
    fine.AddRow(y, w, luma.data());
    uint8_t* row = px + size_t{y} * w * 3;
    for (uint32_t x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c)
        row[x * 3 + c] = Clamp255(row[x * 3 + c] + luma[x] + tint[x * 3 + c]);
    }
  }
}

size_t JpegScanStart(const std::vector<uint8_t>& jpeg) {
  const size_t sos = FindMarker(jpeg, [](uint8_t m) { return m == 0xDA; });
  return sos == 0 ? 0 : sos + 2 + (size_t{jpeg[sos + 2]} << 8 | jpeg[sos + 3]);
}

size_t JpegSofOffset(const std::vector<uint8_t>& jpeg) {
  return FindMarker(jpeg, [](uint8_t m) {
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
  });
}

bool ClaimJpegSize(std::vector<uint8_t>* jpeg, uint16_t width, uint16_t height) {
  const size_t sof = JpegSofOffset(*jpeg);
  if (sof == 0 || sof + 8 >= jpeg->size()) return false;
  // SOF: FF Cn len(2) precision(1) height(2) width(2)
  (*jpeg)[sof + 5] = static_cast<uint8_t>(height >> 8);
  (*jpeg)[sof + 6] = static_cast<uint8_t>(height & 0xFF);
  (*jpeg)[sof + 7] = static_cast<uint8_t>(width >> 8);
  (*jpeg)[sof + 8] = static_cast<uint8_t>(width & 0xFF);
  return true;
}

ImageEncoder::ImageEncoder() : tj_(tjInitCompress()), tj_progressive_(tjInitCompress()) {}
ImageEncoder::~ImageEncoder() {
  if (tj_ != nullptr) tjDestroy(tj_);
  if (tj_progressive_ != nullptr) tjDestroy(tj_progressive_);
}

Status ImageEncoder::Jpeg(uint32_t w, uint32_t h, int subsamp, int quality, int flags,
                          std::vector<uint8_t>* out) {
  void* tj = (flags & TJFLAG_PROGRESSIVE) ? tj_progressive_ : tj_;
  if (tj == nullptr) return Status::IOError("tjInitCompress failed");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompress2(tj, rgb_.data(), static_cast<int>(w), 0, static_cast<int>(h), TJPF_RGB, &buf,
                  &size, subsamp, quality, flags) != 0) {
    const std::string msg = tjGetErrorStr2(tj);
    tjFree(buf);
    return Status::IOError("TurboJPEG: " + msg);
  }
  out->assign(buf, buf + size);
  tjFree(buf);
  return Status::OK();
}

Status ImageEncoder::Encode(const ImageSpec& spec, std::vector<uint8_t>* out) {
  out->clear();
  std::mt19937_64 rng(spec.seed ^ 0x5EED5EED5EED5EEDULL);
  switch (spec.kind) {
    case SynthKind::kNotAnImage: {
      if (spec.variant == 0) {
        const std::string page = HtmlErrorPage(spec.seed);
        out->assign(page.begin(), page.end());
      } else if (spec.variant == 2) {
        out->resize(std::uniform_int_distribution<size_t>(100, 20'000)(rng));
        for (auto& b : *out) b = static_cast<uint8_t>(rng());
        (*out)[0] = 0x00;  // never a JPEG or PNG signature by chance
      }
      return Status::OK();  // variant 1: an empty file
    }
    case SynthKind::kHugeHeader: {
      PaintNatural(64, 48, spec.seed, &rgb_);
      OIV4KV_RETURN_IF_ERROR(Jpeg(64, 48, TJSAMP_420, spec.quality, 0, out));
      if (!ClaimJpegSize(out, kHugeSide, kHugeSide)) {
        return Status::Corruption("synth: no SOF in encoded JPEG");
      }
      return Status::OK();
    }
    default:
      break;
  }

  const uint32_t w = spec.width, h = spec.height;
  PaintNatural(w, h, spec.seed, &rgb_);
  switch (spec.kind) {
    case SynthKind::kGray:
      OIV4KV_RETURN_IF_ERROR(Jpeg(w, h, TJSAMP_GRAY, spec.quality, 0, out));
      break;
    case SynthKind::kProgressive:
      OIV4KV_RETURN_IF_ERROR(Jpeg(w, h, TJSAMP_420, spec.quality, TJFLAG_PROGRESSIVE, out));
      break;
    case SynthKind::kChroma444:
      OIV4KV_RETURN_IF_ERROR(Jpeg(w, h, TJSAMP_444, spec.quality, 0, out));
      break;
    case SynthKind::kCmyk: {
      // Stored inverted, so that C' = R * 255 / max(R,G,B) and K' = max:
      // a decoder applying the Adobe convention gets the RGB back.
      std::vector<uint8_t> cmyk(size_t{w} * h * 4);
      for (size_t i = 0, n = size_t{w} * h; i < n; ++i) {
        const uint8_t* p = rgb_.data() + i * 3;
        const int k = std::max({p[0], p[1], p[2], uint8_t{1}});
        uint8_t* q = cmyk.data() + i * 4;
        q[0] = static_cast<uint8_t>(p[0] * 255 / k);
        q[1] = static_cast<uint8_t>(p[1] * 255 / k);
        q[2] = static_cast<uint8_t>(p[2] * 255 / k);
        q[3] = static_cast<uint8_t>(k);
      }
      unsigned char* buf = nullptr;
      unsigned long size = 0;
      char message[JMSG_LENGTH_MAX] = {};
      const bool ok = CompressCmyk(cmyk.data(), w, h, spec.quality, &buf, &size, message);
      if (ok) out->assign(buf, buf + size);
      std::free(buf);  // jpeg_mem_dest allocates with malloc
      if (!ok) return Status::IOError(std::string("libjpeg CMYK: ") + message);
      break;
    }
    case SynthKind::kPngNamedJpg:
      if (!CompressPng(rgb_.data(), w, h, out)) return Status::IOError("libpng: write failed");
      return Status::OK();
    case SynthKind::kNormal:
    case SynthKind::kExifRotated:
    case SynthKind::kTruncated:
    default:
      OIV4KV_RETURN_IF_ERROR(Jpeg(w, h, TJSAMP_420, spec.quality, 0, out));
      break;
  }

  if (spec.kind == SynthKind::kExifRotated || spec.exif) {
    InsertExif(out, ExifSegment(spec.exif_orientation, spec.exif_big_endian, spec.seed),
               /*keep_jfif=*/spec.kind != SynthKind::kExifRotated);
  }
  if (spec.kind == SynthKind::kTruncated) {
    const size_t scan = JpegScanStart(*out);
    if (scan == 0 || scan + 8 > out->size()) {
      return Status::Corruption("synth: no entropy-coded data to truncate");
    }
    const size_t data = out->size() - scan;
    // Somewhere in the middle 80% of the scan data: never the EOI.
    const size_t cut =
        scan + 1 + std::uniform_int_distribution<size_t>(data / 10, data * 9 / 10)(rng);
    out->resize(std::min(cut, out->size() - 2));
  }
  return Status::OK();
}

}  // namespace oiv4kv::synth
