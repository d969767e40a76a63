#include "oiv4kv/decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <climits>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "store/core/image_probe.h"
#include "store/core/png_source.h"
#include "store/core/format/keys.h"

namespace oiv4kv {
namespace {

// A progressive JPEG costs a pass over its blocks per scan; real encoders
// write about 10. libjpeg-turbo's fuzzers and djpeg -maxscans use 500, as
// does the transcoder. TurboJPEG 2.1 has no scan limit of its own.
constexpr int kMaxJpegScans = 500;

// What we write for the rows of a PNG that libpng did not reach (libjpeg's
// fill for missing JPEG data is mid-gray too).
constexpr uint8_t kFill = 128;

// What a decode will produce, from the headers.
struct Plan {
  ImageProbe probe;
  int orientation = 1;                  // to apply: 1 when not asked
  uint32_t scaled_w = 0, scaled_h = 0;  // decoded size, before orientation
  ImageShape shape;                     // the output
};

std::string Dims(uint32_t w, uint32_t h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

// The smallest allowed DCT scaling factor (<= 1) whose output covers
// need_w x need_h; 1/1 when none does.
void ChooseScale(uint32_t w, uint32_t h, uint32_t need_w, uint32_t need_h,
                 bool all_factors, uint32_t* out_w, uint32_t* out_h) {
  *out_w = w;
  *out_h = h;
  if (need_w == 0 && need_h == 0) return;
  int n = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&n);
  if (factors == nullptr) return;
  tjscalingfactor best = {1, 1};
  for (int i = 0; i < n; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num <= 0 || f.denom <= 0 || f.num > f.denom) continue;
    if (!all_factors && f.num != 1) continue;  // 1/1, 1/2, 1/4, 1/8
    const auto sw = static_cast<uint32_t>(TJSCALED(static_cast<int>(w), f));
    const auto sh = static_cast<uint32_t>(TJSCALED(static_cast<int>(h), f));
    if (sw >= need_w && sh >= need_h &&
        int64_t{f.num} * best.denom < int64_t{best.num} * f.denom) {
      best = f;
    }
  }
  *out_w = static_cast<uint32_t>(TJSCALED(static_cast<int>(w), best));
  *out_h = static_cast<uint32_t>(TJSCALED(static_cast<int>(h), best));
}

Status MakePlan(std::span<const uint8_t> bytes, const DecodeOptions& options,
                Plan* plan) {
  const ImageFormat format = DetectImageFormat(bytes);
  if (format == ImageFormat::kUnknown) {
    return Status::InvalidArgument(bytes.empty() ? "not a JPEG or PNG (empty)"
                                                 : "not a JPEG or PNG");
  }
  // The pixel cap is ours to report (InvalidArgument); everything else the
  // probe rejects is a damaged header.
  const Status probed = ProbeImage(bytes, UINT64_MAX, &plan->probe);
  if (!probed.ok()) return Status::Corruption(probed.message());
  const ImageProbe& p = plan->probe;
  if (uint64_t{p.width} * p.height > options.max_pixels) {
    return Status::InvalidArgument("claims " + Dims(p.width, p.height) +
                                   " pixels, over max_pixels " +
                                   std::to_string(options.max_pixels));
  }
  plan->orientation =
      options.apply_exif_orientation ? plan->probe.exif_orientation : 1;
  const bool swap = plan->orientation >= 5;
  if (format == ImageFormat::kJpeg) {
    ChooseScale(p.width, p.height,
                swap ? options.min_height : options.min_width,
                swap ? options.min_width : options.min_height,
                options.all_scale_factors, &plan->scaled_w, &plan->scaled_h);
  } else {
    plan->scaled_w = p.width;
    plan->scaled_h = p.height;
  }
  plan->shape.width = swap ? plan->scaled_h : plan->scaled_w;
  plan->shape.height = swap ? plan->scaled_w : plan->scaled_h;
  plan->shape.channels = Channels(options.pixel_format);
  return Status::OK();
}

// Scans in a JPEG: SOS markers (FF DA), which entropy-coded data cannot
// contain (an FF there is followed by 00 or a restart marker). Stops
// counting past `limit`.
int CountScans(std::span<const uint8_t> b, int limit) {
  int n = 0;
  const uint8_t* p = b.data();
  const uint8_t* const end = p + b.size();
  while (n <= limit && p < end) {
    p = static_cast<const uint8_t*>(std::memchr(p, 0xFF, end - p));
    if (p == nullptr || p + 1 >= end) break;
    if (p[1] == 0xDA) ++n;
    ++p;
  }
  return n;
}

// A region of interleaved pixels.
struct Pixels {
  uint8_t* data = nullptr;
  size_t stride = 0;
};

// BT.601 luma as libjpeg computes it (jccolor.c rgb_gray: 16-bit fixed
// point, rounded).
inline uint8_t Luma(int r, int g, int b) {
  return static_cast<uint8_t>((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}

// Inverted Adobe CMYK (what libjpeg returns for every 4-component JPEG) to
// `format`, with OpenCV's icvCvt_CMYK2BGR_8u_C4C3R formula.
void ConvertCmyk(const uint8_t* src, size_t src_stride, uint32_t w, uint32_t h,
                 PixelFormat format, Pixels dst) {
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t* s = src + y * src_stride;
    uint8_t* d = dst.data + y * dst.stride;
    for (uint32_t x = 0; x < w; ++x, s += 4) {
      const int c = s[0], m = s[1], ye = s[2], k = s[3];
      const int b = k - (((255 - ye) * k) >> 8);
      const int g = k - (((255 - m) * k) >> 8);
      const int r = k - (((255 - c) * k) >> 8);
      switch (format) {
        case PixelFormat::kRGB:
          d[0] = static_cast<uint8_t>(r);
          d[1] = static_cast<uint8_t>(g);
          d[2] = static_cast<uint8_t>(b);
          d += 3;
          break;
        case PixelFormat::kBGR:
          d[0] = static_cast<uint8_t>(b);
          d[1] = static_cast<uint8_t>(g);
          d[2] = static_cast<uint8_t>(r);
          d += 3;
          break;
        case PixelFormat::kGray:
          *d++ = Luma(r, g, b);
          break;
      }
    }
  }
}

// Interleaved R,G,B to luma.
void RgbToGray(const uint8_t* src, size_t src_stride, uint32_t w, uint32_t h,
               Pixels dst) {
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t* s = src + y * src_stride;
    uint8_t* d = dst.data + y * dst.stride;
    for (uint32_t x = 0; x < w; ++x, s += 3) d[x] = Luma(s[0], s[1], s[2]);
  }
}

// OpenCV's ApplyExifOrientation of a w x h image: 2 flip x, 3 flip x and y,
// 4 flip y, 5 transpose, 6 transpose + flip x (90 clockwise), 7 transpose +
// flip x and y, 8 transpose + flip y (90 counter-clockwise). Each output row
// walks the source from a corner with a fixed step: ox/oy are the source
// pixel of output (0, 0), step_x/step_y the source offset of output x+1/y+1.
void Orient(const uint8_t* src, size_t src_stride, uint32_t w, uint32_t h,
            int channels, int orientation, Pixels dst) {
  const ptrdiff_t c = channels, s = static_cast<ptrdiff_t>(src_stride);
  const ptrdiff_t right = w - 1, bottom = h - 1;
  ptrdiff_t origin = 0, step_x = c, step_y = s;
  switch (orientation) {
    case 2:
      origin = right * c;
      step_x = -c;
      step_y = s;
      break;
    case 3:
      origin = bottom * s + right * c;
      step_x = -c;
      step_y = -s;
      break;
    case 4:
      origin = bottom * s;
      step_x = c;
      step_y = -s;
      break;
    case 5:
      origin = 0;
      step_x = s;
      step_y = c;
      break;
    case 6:
      origin = bottom * s;
      step_x = -s;
      step_y = c;
      break;
    case 7:
      origin = bottom * s + right * c;
      step_x = -s;
      step_y = -c;
      break;
    case 8:
      origin = right * c;
      step_x = s;
      step_y = -c;
      break;
    default:
      break;
  }
  const bool swap = orientation >= 5;
  const uint32_t ow = swap ? h : w, oh = swap ? w : h;
  for (uint32_t y = 0; y < oh; ++y) {
    // Offsets, not pointers: a walk may end one step outside the image.
    ptrdiff_t at = origin + static_cast<ptrdiff_t>(y) * step_y;
    uint8_t* d = dst.data + y * dst.stride;
    if (channels == 1) {
      for (uint32_t x = 0; x < ow; ++x, at += step_x) d[x] = src[at];
    } else {
      for (uint32_t x = 0; x < ow; ++x, at += step_x, d += 3) {
        d[0] = src[at];
        d[1] = src[at + 1];
        d[2] = src[at + 2];
      }
    }
  }
}

void FillRows(Pixels p, size_t row_bytes, uint32_t from, uint32_t to) {
  for (uint32_t y = from; y < to; ++y)
    std::memset(p.data + y * p.stride, kFill, row_bytes);
}

// --- libpng: its error handler longjmps, so plain values only -------------

constexpr size_t kPngReadSize = 1024;

struct PngRead {
  PngSource source;  // in: the bytes; out: libpng's message
  // In.
  uint8_t** rows;  // height of them
  uint32_t width, height;
  bool gray_to_rgb, bgr;
  size_t row_bytes;  // expected after the transforms
  // Out.
  int stage;           // 0 headers, 1 image rows, 2 after the last row, 3 done
  uint32_t rows_done;  // complete rows of the last pass
};

// Reads the PNG as OpenCV's PngDecoder does for IMREAD_COLOR (16-bit cut to
// the high byte, alpha stripped, palette and low-depth gray expanded), gray
// kept gray unless r->gray_to_rgb. False on error, with r->stage and
// r->source.message saying where and why.
bool ReadPng(PngRead* r) {
  r->stage = 0;
  r->rows_done = 0;
  char* message = r->source.message;
  message[0] = '\0';
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->source, PngSourceError,
                                           PngSourceWarning);
  if (png == nullptr) {
    std::snprintf(message, sizeof(r->source.message), "png_create_read_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    if (message[0] == '\0') std::snprintf(message, sizeof(r->source.message), "out of memory");
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &r->source, PngSourceRead);
  // libpng reads IDAT in pieces of this size (default 8 KB), and a piece the
  // file cannot fill is an error: smaller pieces keep more rows of a cut
  // file.
  png_set_compression_buffer_size(png, kPngReadSize);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &color, nullptr, nullptr, nullptr);
  if (w != r->width || h != r->height)
    png_error(png, "IHDR differs from the probed one");
  if (depth == 16) png_set_strip_16(png);  // keeps the high byte
  png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color & PNG_COLOR_MASK_COLOR) == 0 && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if ((color & PNG_COLOR_MASK_COLOR) != 0) {
    if (r->bgr) png_set_bgr(png);
  } else if (r->gray_to_rgb) {
    png_set_gray_to_rgb(png);
  }
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != r->row_bytes)
    png_error(png, "unexpected row size");
  r->stage = 1;
  for (int pass = 0; pass < passes; ++pass) {
    for (uint32_t y = 0; y < r->height; ++y) {
      png_read_row(png, r->rows[y], nullptr);
      if (pass == passes - 1) r->rows_done = y + 1;
    }
  }
  r->stage = 2;
  png_read_end(png, nullptr);  // a bad CRC, or no IEND: OpenCV fails too
  r->stage = 3;
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

int Channels(PixelFormat format) {
  return format == PixelFormat::kGray ? 1 : 3;
}

std::string_view PixelFormatName(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRGB: return "rgb";
    case PixelFormat::kBGR: return "bgr";
    case PixelFormat::kGray: return "gray";
  }
  return "?";
}

std::optional<PixelFormat> ParsePixelFormat(std::string_view name) {
  for (PixelFormat f : kAllPixelFormats) {
    if (PixelFormatName(f) == name) return f;
  }
  return std::nullopt;
}

std::vector<std::string> PixelFormatNames() {
  std::vector<std::string> names;
  for (PixelFormat f : kAllPixelFormats) names.emplace_back(PixelFormatName(f));
  return names;
}

std::string_view TruncatedPolicyName(TruncatedPolicy policy) {
  switch (policy) {
    case TruncatedPolicy::kError: return "error";
    case TruncatedPolicy::kWarn: return "warn";
  }
  return "?";
}

std::optional<TruncatedPolicy> ParseTruncatedPolicy(std::string_view name) {
  for (TruncatedPolicy p : kAllTruncatedPolicies) {
    if (TruncatedPolicyName(p) == name) return p;
  }
  return std::nullopt;
}

std::vector<std::string> TruncatedPolicyNames() {
  std::vector<std::string> names;
  for (TruncatedPolicy p : kAllTruncatedPolicies) names.emplace_back(TruncatedPolicyName(p));
  return names;
}

struct Decoder::Impl {
  ~Impl() {
    if (tj != nullptr) tjDestroy(tj);
  }

  Status Run(std::span<const uint8_t> bytes, const DecodeOptions& options,
             const Plan& plan, Pixels dst, DecodeInfo* info);
  Status DecodeJpeg(std::span<const uint8_t> bytes,
                    const DecodeOptions& options, const Plan& plan, Pixels dst,
                    DecodeInfo* info);
  Status DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options,
                   const Plan& plan, Pixels dst, DecodeInfo* info);
  // The decoder's output for `plan`: dst itself when no conversion or
  // orientation follows, else `scratch` sized for w x h x bpp.
  Pixels Target(const Plan& plan, bool direct, int bpp, Pixels dst,
                std::vector<uint8_t>* scratch);
  // Colour conversion (if any) has produced `src` (the decoded size, output
  // channels); orients it into dst.
  void Finish(const Plan& plan, Pixels src, Pixels dst);

  tjhandle tj = nullptr;
  std::vector<uint8_t> decoded, converted;  // scratch, kept between calls
  std::vector<uint8_t*> png_rows;
};

Pixels Decoder::Impl::Target(const Plan& plan, bool direct, int bpp, Pixels dst,
                             std::vector<uint8_t>* scratch) {
  if (direct) return dst;
  const size_t stride = size_t{plan.scaled_w} * bpp;
  scratch->resize(stride * plan.scaled_h);
  return {scratch->data(), stride};
}

void Decoder::Impl::Finish(const Plan& plan, Pixels src, Pixels dst) {
  if (plan.orientation == 1) return;  // src is dst
  Orient(src.data, src.stride, plan.scaled_w, plan.scaled_h,
         plan.shape.channels, plan.orientation, dst);
}

Status Decoder::Impl::DecodeJpeg(std::span<const uint8_t> bytes,
                                 const DecodeOptions& options, const Plan& plan,
                                 Pixels dst, DecodeInfo* info) {
  if (CountScans(bytes, kMaxJpegScans) > kMaxJpegScans) {
    return Status::InvalidArgument("JPEG with over " +
                                   std::to_string(kMaxJpegScans) + " scans");
  }
  // A fresh handle for every decompression: libjpeg keeps the quantization
  // and Huffman tables a handle has read and uses them for a later JPEG that
  // lacks its own (an "abbreviated" one), so a reused handle would make what
  // an image decodes to depend on the images decoded before it
  // (tests/fuzz/decoder_fuzz found it). OpenCV uses a fresh one too.
  auto fresh_handle = [&]() {
    if (tj != nullptr) tjDestroy(tj);
    tj = tjInitDecompress();
    return tj != nullptr;
  };
  if (!fresh_handle()) {
    return Status::IOError(std::string("tjInitDecompress: ") +
                           tjGetErrorStr2(nullptr));
  }
  // libjpeg returns every 4-component JPEG (CMYK or YCCK) as CMYK; TurboJPEG
  // converts it to nothing else. The probe, not tjDecompressHeader3, counts
  // the components: TurboJPEG 2.1's header call rejects sampling factors it
  // has no TJSAMP for, which tjDecompress2 decodes.
  const bool cmyk = plan.probe.components == 4;
  const bool oriented = plan.orientation != 1;
  int pixel_format = TJPF_RGB;
  int bpp = plan.shape.channels;
  if (cmyk) {
    pixel_format = TJPF_CMYK;
    bpp = 4;
  } else if (options.pixel_format == PixelFormat::kBGR) {
    pixel_format = TJPF_BGR;
  } else if (options.pixel_format == PixelFormat::kGray) {
    pixel_format = TJPF_GRAY;
  }
  const Pixels out = Target(plan, !cmyk && !oriented, bpp, dst, &decoded);
  if (out.stride > static_cast<size_t>(INT_MAX))
    return Status::InvalidArgument("row stride over INT_MAX");
  const int flags = options.fast_dct ? TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE : 0;
  auto decompress = [&](int extra_flags) {
    return tjDecompress2(tj, bytes.data(), bytes.size(), out.data,
                         static_cast<int>(plan.scaled_w),
                         static_cast<int>(out.stride),
                         static_cast<int>(plan.scaled_h), pixel_format,
                         flags | extra_flags) == 0;
  };
  // First to the first warning, if any: a clean file is decoded once.
  if (!decompress(TJFLAG_STOPONWARNING)) {
    std::string why = std::string("JPEG: ") + tjGetErrorStr2(tj);
    if (tjGetErrorCode(tj) != TJERR_WARNING ||
        options.truncated == TruncatedPolicy::kError) {
      return Status::Corruption(why);
    }
    // Then in full. TurboJPEG 2.1 reports a fatal error that follows a
    // warning as a warning too (tjGetErrorCode), having stopped early; but
    // libjpeg prints only its first warning, so a changed message is that
    // fatal error.
    if (!fresh_handle()) {
      return Status::IOError(std::string("tjInitDecompress: ") + tjGetErrorStr2(nullptr));
    }
    if (!decompress(0)) {
      const std::string second = std::string("JPEG: ") + tjGetErrorStr2(tj);
      if (tjGetErrorCode(tj) != TJERR_WARNING || second != why)
        return Status::Corruption(second);
      info->truncated = true;
      info->warning = std::move(why);
    }
  }
  Pixels converted_px = out;
  if (cmyk) {
    converted_px =
        Target(plan, !oriented, plan.shape.channels, dst, &converted);
    ConvertCmyk(out.data, out.stride, plan.scaled_w, plan.scaled_h,
                options.pixel_format, converted_px);
  }
  Finish(plan, converted_px, dst);
  return Status::OK();
}

Status Decoder::Impl::DecodePng(std::span<const uint8_t> bytes,
                                const DecodeOptions& options, const Plan& plan,
                                Pixels dst, DecodeInfo* info) {
  // IHDR, which the probe checked: colour type at byte 25, interlace at 28.
  const bool png_gray = (bytes[25] & PNG_COLOR_MASK_COLOR) == 0;
  const bool interlaced = bytes[28] != 0;
  const bool want_gray = options.pixel_format == PixelFormat::kGray;
  const bool oriented = plan.orientation != 1;
  // Gray output from a colour PNG goes through RGB and our luma.
  const int read_channels = want_gray && png_gray ? 1 : 3;
  const bool to_gray = want_gray && !png_gray;
  const uint32_t w = plan.scaled_w, h = plan.scaled_h;
  const size_t row_bytes = size_t{w} * read_channels;
  const Pixels out =
      Target(plan, !to_gray && !oriented, read_channels, dst, &decoded);
  png_rows.resize(h);
  for (uint32_t y = 0; y < h; ++y) png_rows[y] = out.data + y * out.stride;
  // Earlier passes of an interlaced image leave most pixels unwritten.
  if (interlaced) FillRows(out, row_bytes, 0, h);

  PngRead r{};
  r.source.data = bytes.data();
  r.source.size = bytes.size();
  r.rows = png_rows.data();
  r.width = w;
  r.height = h;
  r.gray_to_rgb = !want_gray;
  r.bgr = options.pixel_format == PixelFormat::kBGR;
  r.row_bytes = row_bytes;
  if (!ReadPng(&r)) {
    const std::string why = std::string("PNG: ") + r.source.message;
    if (r.stage == 0 || options.truncated == TruncatedPolicy::kError)
      return Status::Corruption(why);
    info->truncated = true;
    info->warning = why;
    if (!interlaced) FillRows(out, row_bytes, r.rows_done, h);
  }
  Pixels converted_px = out;
  if (to_gray) {
    converted_px = Target(plan, !oriented, 1, dst, &converted);
    RgbToGray(out.data, out.stride, w, h, converted_px);
  }
  Finish(plan, converted_px, dst);
  return Status::OK();
}

Status Decoder::Impl::Run(std::span<const uint8_t> bytes,
                          const DecodeOptions& options, const Plan& plan,
                          Pixels dst, DecodeInfo* info) {
  info->shape = plan.shape;
  info->truncated = false;
  info->warning.clear();
  if (plan.probe.format == ImageFormat::kJpeg)
    return DecodeJpeg(bytes, options, plan, dst, info);
  return DecodePng(bytes, options, plan, dst, info);
}

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;

namespace {

std::string ImageName(const ImageView& view) {
  return std::string(ConfigName(view.config())) + " image " +
         ExampleName(view.split(), view.image_id());
}

Status InvalidView() {
  return Status::InvalidArgument("Decode: an invalid (empty) ImageView");
}

Status OutOfMemory(const Plan& plan) {
  return Status::IOError("out of memory decoding a " +
                         Dims(plan.probe.width, plan.probe.height) + " image");
}

}  // namespace

Status DecodedSize(std::span<const uint8_t> bytes, const DecodeOptions& options,
                   ImageShape* out) {
  Plan plan;
  OIV4KV_RETURN_IF_ERROR(MakePlan(bytes, options, &plan));
  *out = plan.shape;
  return Status::OK();
}

Status DecodedSize(const ImageView& view, const DecodeOptions& options,
                   ImageShape* out) {
  if (!view.valid()) return InvalidView();
  return DecodedSize(view.bytes(), options, out).WithContext(ImageName(view));
}

Status Decoder::Decode(std::span<const uint8_t> bytes,
                       const DecodeOptions& options, DecodedImage* out) {
  Plan plan;
  OIV4KV_RETURN_IF_ERROR(MakePlan(bytes, options, &plan));
  const ImageShape& shape = plan.shape;
  DecodeInfo info;
  try {
    out->pixels.resize(shape.row_bytes() * shape.height);
    OIV4KV_RETURN_IF_ERROR(impl_->Run(
        bytes, options, plan, {out->pixels.data(), shape.row_bytes()}, &info));
  } catch (const std::bad_alloc&) {
    return OutOfMemory(plan);
  }
  out->width = shape.width;
  out->height = shape.height;
  out->channels = shape.channels;
  out->truncated = info.truncated;
  out->warning = std::move(info.warning);
  return Status::OK();
}

Status Decoder::DecodeInto(std::span<const uint8_t> bytes,
                           const DecodeOptions& options, std::span<uint8_t> dst,
                           size_t dst_stride, DecodeInfo* info) {
  Plan plan;
  OIV4KV_RETURN_IF_ERROR(MakePlan(bytes, options, &plan));
  const ImageShape& shape = plan.shape;
  const std::string what = Dims(shape.width, shape.height) + "x" +
                           std::to_string(shape.channels) + " image";
  if (dst_stride < shape.row_bytes()) {
    return Status::InvalidArgument(
        "DecodeInto: stride " + std::to_string(dst_stride) + " < the " +
        std::to_string(shape.row_bytes()) + " bytes of a row of a " + what);
  }
  const size_t need = shape.bytes_at_stride(dst_stride);
  if (dst.size() < need) {
    return Status::InvalidArgument(
        "DecodeInto: a " + what + " at stride " + std::to_string(dst_stride) +
        " needs " + std::to_string(need) + " bytes, the buffer holds " +
        std::to_string(dst.size()));
  }
  try {
    return impl_->Run(bytes, options, plan, {dst.data(), dst_stride}, info);
  } catch (const std::bad_alloc&) {
    return OutOfMemory(plan);
  }
}

Status Decoder::Decode(const ImageView& view, const DecodeOptions& options,
                       DecodedImage* out) {
  if (!view.valid()) return InvalidView();
  const std::string name = ImageName(view);
  OIV4KV_RETURN_IF_ERROR(Decode(view.bytes(), options, out).WithContext(name));
  if (out->truncated) out->warning = name + ": " + out->warning;
  return Status::OK();
}

Status Decoder::DecodeInto(const ImageView& view, const DecodeOptions& options,
                           std::span<uint8_t> dst, size_t dst_stride,
                           DecodeInfo* info) {
  if (!view.valid()) return InvalidView();
  const std::string name = ImageName(view);
  OIV4KV_RETURN_IF_ERROR(
      DecodeInto(view.bytes(), options, dst, dst_stride, info)
          .WithContext(name));
  if (info->truncated) info->warning = name + ": " + info->warning;
  return Status::OK();
}

}  // namespace oiv4kv
