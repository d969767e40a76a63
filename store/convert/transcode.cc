#include "store/convert/transcode.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
#include <jerror.h>
// clang-format on
#include <libyuv/planar_functions.h>
#include <libyuv/rotate.h>
#include <libyuv/rotate_argb.h>
#include <png.h>
#include <turbojpeg.h>

#include <cmath>
#include <csetjmp>
#include <cstring>
#include <new>
#include <string>

#include "store/core/image_probe.h"
#include "store/core/png_source.h"
#include "store/convert/resample.h"

namespace oiv4kv {
namespace {

// A progressive JPEG costs a pass over its blocks per scan; real encoders
// write about 10. libjpeg-turbo's fuzzers and djpeg -maxscans use 500.
constexpr int kMaxJpegScans = 500;

// cvRound for the values TargetSize produces: nearest, ties to even,
// independent of the floating-point environment.
uint32_t RoundHalfEven(double x) {
  const double floor = std::floor(x);
  const double frac = x - floor;  // exact for these magnitudes
  double r = floor;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(floor, 2.0) != 0.0)) r += 1.0;
  return static_cast<uint32_t>(r);
}

// An image in one of our buffers: one plane, or interleaved 4-byte pixels.
struct View {
  uint8_t* data = nullptr;
  size_t stride = 0;
  uint32_t width = 0, height = 0;
};

// libjpeg's error manager plus what we learn while decoding. No C++ objects
// with destructors: libjpeg leaves through longjmp.
struct JpegError {
  jpeg_error_mgr mgr;  // first: libjpeg casts cinfo->err to this type
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char first_warning[JMSG_LENGTH_MAX];
  int warnings;
  bool ran_out;      // the data ended and a fake EOI was inserted
  int ran_out_scan;  // input_scan_number then (0: still in the headers)
  unsigned
      ran_out_row;  // input_iMCU_row then: complete rows of blocks in that scan
  bool too_many_scans;
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

// Warnings (corrupt data, premature end) let decoding go on, as in OpenCV;
// we keep the first for the caller. Trace messages are dropped.
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  if (e->warnings++ == 0)
    (*cinfo->err->format_message)(cinfo, e->first_warning);
}

void JpegProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    e->too_many_scans = true;
    std::snprintf(e->message, sizeof(e->message),
                  "progressive JPEG with over %d scans", kMaxJpegScans);
    longjmp(e->jump, 1);
  }
}

// Source manager over the whole file in memory. At its end it inserts a fake
// EOI as jpeg_mem_src does, and notes how far decoding had got.
void SrcInit(j_decompress_ptr) {}
void SrcTerm(j_decompress_ptr) {}

boolean SrcFill(j_decompress_ptr cinfo) {
  static const JOCTET kEoi[2] = {0xFF, JPEG_EOI};
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  if (!e->ran_out) {
    e->ran_out = true;
    e->ran_out_scan = cinfo->input_scan_number;
    e->ran_out_row = cinfo->input_iMCU_row;
  }
  WARNMS(cinfo, JWRN_JPEG_EOF);
  cinfo->src->next_input_byte = kEoi;
  cinfo->src->bytes_in_buffer = 2;
  return TRUE;
}

void SrcSkip(j_decompress_ptr cinfo, long n) {
  if (n <= 0) return;
  if (static_cast<size_t>(n) > cinfo->src->bytes_in_buffer) {
    SrcFill(cinfo);  // skipping past the end: what follows is the fake EOI
    return;
  }
  cinfo->src->next_input_byte += n;
  cinfo->src->bytes_in_buffer -= static_cast<size_t>(n);
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R (inverted Adobe CMYK, which it assumes
// for every 4-component JPEG), in place, writing B,G,R,X.
void CmykToBgrx(uint8_t* p, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i, p += 4) {
    const int c = p[0], m = p[1], y = p[2], k = p[3];
    p[0] = static_cast<uint8_t>(k - (((255 - y) * k) >> 8));
    p[1] = static_cast<uint8_t>(k - (((255 - m) * k) >> 8));
    p[2] = static_cast<uint8_t>(k - (((255 - c) * k) >> 8));
    p[3] = 255;
  }
}


// DCT scaling: the smallest of 1/8, 1/4, 1/2 that keeps 1.5x the target
// size. Keeping just 1x would leave an area step near 1:1 after the DCT's
// own low-pass, blurring twice (1300x1000 to 624x480: -1.5 dB); the 1.5x
// rule costs 0.4 dB at 2048x1536 and saves a fifth of the time.
unsigned DctDenominator(uint32_t image_width, uint32_t image_height,
                        uint32_t tw, uint32_t th) {
  for (unsigned d : {8u, 4u, 2u}) {
    if ((image_width + d - 1) / d * 2 >= 3 * tw &&
        (image_height + d - 1) / d * 2 >= 3 * th) {
      return d;
    }
  }
  return 1;
}

}  // namespace

void TargetSize(uint32_t width, uint32_t height, uint64_t target_pixels,
                uint32_t* out_w, uint32_t* out_h) {
  const uint64_t pixels = uint64_t{width} * height;
  if (pixels <= target_pixels) {
    *out_w = width;
    *out_h = height;
    return;
  }
  // As TFDS: factor = np.sqrt(target / actual); cv2.resize(fx=factor,
  // fy=factor) computes saturate_cast<int>(width * factor).
  const double factor = std::sqrt(static_cast<double>(target_pixels) /
                                  static_cast<double>(pixels));
  *out_w = RoundHalfEven(width * factor);
  *out_h = RoundHalfEven(height * factor);
}

struct Transcoder::Impl {
  ~Impl() {
    if (dinfo_created) jpeg_destroy_decompress(&dinfo);
    if (tj != nullptr) tjDestroy(tj);
    tjFree(enc);
  }

  bool DecodeJpeg(const uint8_t* data, size_t size, uint32_t tw, uint32_t th);
  bool DecodePng(const uint8_t* data, size_t size, uint32_t width,
                 uint32_t height);
  Status Run(std::span<const uint8_t> bytes, const ImageProbe& probe,
             uint32_t tw, uint32_t th, int quality, TranscodeResult* out);
  Status Decode(std::span<const uint8_t> bytes, const ImageProbe& probe,
                uint32_t tw, uint32_t th);
  Status ResizeEncode(const ImageProbe& probe, uint32_t tw, uint32_t th,
                      int quality, TranscodeResult* out);
  View Scale(const View& src, uint32_t w, uint32_t h, int channels,
             std::vector<uint8_t>* buf, const AxisMap& x, const AxisMap& y);
  View Orient(const View& src, int orientation, int channels,
              std::vector<uint8_t>* buf);
  Status Encode(const View* planes, int num_planes, int quality,
                TranscodeResult* out);
  void AbortJpeg() {
    if (dinfo_created) jpeg_abort_decompress(&dinfo);
  }

  // libjpeg decompressor, created for each image (DecodeJpeg).
  jpeg_decompress_struct dinfo{};
  JpegError jerr{};
  jpeg_source_mgr src{};
  jpeg_progress_mgr progress{};
  bool dinfo_created = false;
  bool rows_done =
      false;  // every row was read: a later error is ignored, as OpenCV does

  tjhandle tj = nullptr;
  unsigned char* enc = nullptr;  // tjAlloc'd output buffer
  unsigned long enc_capacity = 0;
  Resampler resampler;

  // The decoded image: YCbCr or gray planes (num_planes 3 or 1), or
  // interleaved B,G,R,X (num_planes 0).
  int num_planes = 0;
  View planes[3];
  double luma_per_sample_x[3] = {1, 1, 1}, luma_per_sample_y[3] = {1, 1, 1};
  View pixels;
  std::vector<uint8_t> plane_buf[3], pixel_buf;
  std::vector<JSAMPROW> row_ptrs;
  std::vector<png_bytep> png_rows;
  std::vector<uint8_t> scaled[3], oriented[3], neutral_chroma;

  PngSource png_state{};
  // The last JPEG decode's header size and DCT denominator.
  uint32_t decoded_width = 0, decoded_height = 0;
  unsigned decoded_denom = 0;
};

// Locals here are plain values set before setjmp or not read after a jump;
// buffers are members, so nothing is skipped by longjmp.
bool Transcoder::Impl::DecodeJpeg(const uint8_t* data, size_t size, uint32_t tw,
                                  uint32_t th) {
  jerr.warnings = 0;
  jerr.ran_out = false;
  jerr.ran_out_scan = 0;
  jerr.ran_out_row = 0;
  jerr.too_many_scans = false;
  jerr.message[0] = jerr.first_warning[0] = '\0';
  rows_done = false;
  if (setjmp(jerr.jump)) {
    AbortJpeg();
    return rows_done;
  }
  // A fresh decompressor for every image: libjpeg keeps the quantization
  // and Huffman tables it has read and uses them for a later JPEG that lacks
  // its own, so a reused one would make an image's output depend on the
  // images before it (tests/fuzz found it in Decoder). OpenCV's imdecode
  // uses a fresh one too.
  if (dinfo_created) {
    jpeg_destroy_decompress(&dinfo);
    dinfo_created = false;
  }
  {
    dinfo.err = jpeg_std_error(&jerr.mgr);
    jerr.mgr.error_exit = JpegErrorExit;
    jerr.mgr.emit_message = JpegEmitMessage;
    jpeg_create_decompress(&dinfo);  // zeroes all but err
    dinfo_created = true;
    progress.progress_monitor = JpegProgress;
    dinfo.progress = &progress;
    src.init_source = SrcInit;
    src.fill_input_buffer = SrcFill;
    src.skip_input_data = SrcSkip;
    src.resync_to_restart = jpeg_resync_to_restart;
    src.term_source = SrcTerm;
    dinfo.src = &src;
  }
  src.next_input_byte = data;
  src.bytes_in_buffer = size;
  jpeg_read_header(&dinfo, TRUE);

  // YCbCr and gray are decoded to planes without colour conversion or
  // upsampling; RGB (Adobe transform 0) and CMYK/YCCK to 4-byte pixels,
  // choosing CMYK output for any 4-component image, as OpenCV does.
  const bool planar =
      (dinfo.jpeg_color_space == JCS_YCbCr && dinfo.num_components == 3) ||
      (dinfo.jpeg_color_space == JCS_GRAYSCALE && dinfo.num_components == 1);
  const unsigned denom =
      DctDenominator(dinfo.image_width, dinfo.image_height, tw, th);
  // Kept for TranscodeEach: whether another target may reuse these planes.
  decoded_width = dinfo.image_width;
  decoded_height = dinfo.image_height;
  decoded_denom = denom;
  dinfo.scale_num = 1;
  dinfo.scale_denom = denom;
  dinfo.dct_method = JDCT_ISLOW;
  if (planar) {
    dinfo.raw_data_out = TRUE;
    dinfo.out_color_space = dinfo.jpeg_color_space;
  } else {
    dinfo.raw_data_out = FALSE;
    dinfo.out_color_space = dinfo.num_components == 4 ? JCS_CMYK : JCS_EXT_BGRX;
  }
  jpeg_start_decompress(&dinfo);

  if (planar) {
    num_planes = dinfo.num_components;
    size_t total_rows = 0;
    for (int c = 0; c < num_planes; ++c) {
      const jpeg_component_info& comp = dinfo.comp_info[c];
      // Whole blocks, whole iMCU rows: what jpeg_read_raw_data writes.
      const size_t stride =
          (size_t{comp.width_in_blocks} * comp.DCT_scaled_size + 63) &
          ~size_t{63};
      const size_t rows = size_t{dinfo.total_iMCU_rows} * comp.v_samp_factor *
                          comp.DCT_scaled_size;
      plane_buf[c].resize(stride * rows);
      planes[c] = {plane_buf[c].data(), stride, comp.downsampled_width,
                   comp.downsampled_height};
      const jpeg_component_info& luma = dinfo.comp_info[0];
      luma_per_sample_x[c] =
          static_cast<double>(luma.h_samp_factor * luma.DCT_scaled_size) /
          (comp.h_samp_factor * comp.DCT_scaled_size);
      luma_per_sample_y[c] =
          static_cast<double>(luma.v_samp_factor * luma.DCT_scaled_size) /
          (comp.v_samp_factor * comp.DCT_scaled_size);
      total_rows += size_t{
          static_cast<unsigned>(comp.v_samp_factor * comp.DCT_scaled_size)};
    }
    row_ptrs.resize(total_rows);
    const JDIMENSION imcu_lines =
        dinfo.max_v_samp_factor * dinfo.min_DCT_scaled_size;
    while (dinfo.output_scanline < dinfo.output_height) {
      const size_t imcu = dinfo.output_scanline / imcu_lines;
      JSAMPARRAY arrays[3];
      JSAMPROW* next = row_ptrs.data();
      for (int c = 0; c < num_planes; ++c) {
        const jpeg_component_info& comp = dinfo.comp_info[c];
        const size_t n =
            static_cast<size_t>(comp.v_samp_factor) * comp.DCT_scaled_size;
        arrays[c] = next;
        for (size_t i = 0; i < n; ++i) {
          next[i] = plane_buf[c].data() + (imcu * n + i) * planes[c].stride;
        }
        next += n;
      }
      if (jpeg_read_raw_data(&dinfo, arrays, imcu_lines) == 0)
        break;  // cannot suspend
    }
  } else {
    num_planes = 0;
    const size_t stride = size_t{dinfo.output_width} * 4;
    pixel_buf.resize(stride * dinfo.output_height);
    pixels = {pixel_buf.data(), stride, dinfo.output_width,
              dinfo.output_height};
    while (dinfo.output_scanline < dinfo.output_height) {
      JSAMPROW row = pixel_buf.data() + size_t{dinfo.output_scanline} * stride;
      if (jpeg_read_scanlines(&dinfo, &row, 1) == 0) break;
    }
    if (dinfo.out_color_space == JCS_CMYK) {
      CmykToBgrx(pixel_buf.data(),
                 size_t{dinfo.output_width} * dinfo.output_height);
    }
  }
  rows_done = true;
  jpeg_finish_decompress(&dinfo);
  return true;
}

bool Transcoder::Impl::DecodePng(const uint8_t* data, size_t size,
                                 uint32_t width, uint32_t height) {
  png_state = {data, size, 0, {0}};
  char* message = png_state.message;
  // Allocated before libpng runs, so that nothing can throw past it.
  const size_t stride = size_t{width} * 4;
  pixel_buf.resize(stride * height);
  png_rows.resize(height);
  for (uint32_t y = 0; y < height; ++y)
    png_rows[y] = pixel_buf.data() + y * stride;
  num_planes = 0;
  pixels = {pixel_buf.data(), stride, width, height};

  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &png_state,
                                           PngSourceError, PngSourceWarning);
  if (png == nullptr) {
    std::snprintf(message, sizeof(png_state.message),
                  "png_create_read_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  png_infop end_info = png_create_info_struct(png);
  if (info == nullptr || end_info == nullptr || setjmp(png_jmpbuf(png))) {
    if (message[0] == '\0')
      std::snprintf(message, sizeof(png_state.message), "out of memory");
    png_destroy_read_struct(&png, &info, &end_info);
    return false;
  }
  png_set_read_fn(png, &png_state, PngSourceRead);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &color, nullptr, nullptr, nullptr);
  if (w != width || h != height)
    png_error(png, "IHDR differs from the probed one");
  // OpenCV's PngDecoder::readData for IMREAD_COLOR, then a filler byte for
  // the 4-byte pixels the resampler and encoder take.
  if (depth == 16) png_set_strip_16(png);
  png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color & PNG_COLOR_MASK_COLOR) == 0 && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if ((color & PNG_COLOR_MASK_COLOR) != 0) {
    png_set_bgr(png);
  } else {
    png_set_gray_to_rgb(png);
  }
  png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != stride)
    png_error(png, "unexpected row size");
  png_read_image(png, png_rows.data());
  png_read_end(
      png, end_info);  // OpenCV fails on a bad end too (missing IEND, bad CRC)
  png_destroy_read_struct(&png, &info, &end_info);
  return true;
}

// Planes get an even width and height of storage: TurboJPEG reads 4:2:0 luma
// padded to whole chroma samples (tjPlaneWidth/Height), and EdgePad fills it.
size_t PaddedStride(uint32_t w, int channels) {
  return channels == 1 ? (size_t{w} + 1) & ~size_t{1} : size_t{w} * channels;
}
size_t PaddedRows(uint32_t h, int channels) {
  return channels == 1 ? (size_t{h} + 1) & ~size_t{1} : h;
}

View Transcoder::Impl::Scale(const View& src, uint32_t w, uint32_t h,
                             int channels, std::vector<uint8_t>* buf,
                             const AxisMap& x, const AxisMap& y) {
  if (src.width == w && src.height == h && x == AxisMap() && y == AxisMap())
    return src;
  const size_t stride = PaddedStride(w, channels);
  buf->resize(stride * PaddedRows(h, channels));
  resampler.Resample(src.data, src.stride, src.width, src.height, buf->data(),
                     stride, w, h, channels, x, y);
  return {buf->data(), stride, w, h};
}

// OpenCV's ApplyExifOrientation: 2 flip x, 3 flip both, 4 flip y,
// 5 transpose, 6 transpose + flip x (90 clockwise), 7 transpose + flip both,
// 8 transpose + flip y (90 counter-clockwise). Negative heights make libyuv
// read the source bottom-up, which turns its rotations into transposes.
View Transcoder::Impl::Orient(const View& src, int orientation, int channels,
                              std::vector<uint8_t>* buf) {
  if (orientation < 2 || orientation > 8) return src;
  const bool swap = orientation >= 5;
  const uint32_t w = swap ? src.height : src.width,
                 h = swap ? src.width : src.height;
  const size_t stride = PaddedStride(w, channels);
  buf->resize(stride * PaddedRows(h, channels));
  const uint8_t* s = src.data;
  const int ss = static_cast<int>(src.stride), ds = static_cast<int>(stride);
  const int sw = static_cast<int>(src.width), sh = static_cast<int>(src.height);
  uint8_t* d = buf->data();
  using libyuv::kRotate180, libyuv::kRotate270, libyuv::kRotate90;
  if (channels == 1) {
    switch (orientation) {
      case 2:
        libyuv::MirrorPlane(s, ss, d, ds, sw, sh);
        break;
      case 3:
        libyuv::RotatePlane(s, ss, d, ds, sw, sh, kRotate180);
        break;
      case 4:
        libyuv::CopyPlane(s, ss, d, ds, sw, -sh);
        break;
      case 5:
        libyuv::RotatePlane(s, ss, d, ds, sw, -sh, kRotate90);
        break;
      case 6:
        libyuv::RotatePlane(s, ss, d, ds, sw, sh, kRotate90);
        break;
      case 7:
        libyuv::RotatePlane(s, ss, d, ds, sw, -sh, kRotate270);
        break;
      case 8:
        libyuv::RotatePlane(s, ss, d, ds, sw, sh, kRotate270);
        break;
    }
  } else {
    switch (orientation) {
      case 2:
        libyuv::ARGBMirror(s, ss, d, ds, sw, sh);
        break;
      case 3:
        libyuv::ARGBRotate(s, ss, d, ds, sw, sh, kRotate180);
        break;
      case 4:
        libyuv::ARGBCopy(s, ss, d, ds, sw, -sh);
        break;
      case 5:
        libyuv::ARGBRotate(s, ss, d, ds, sw, -sh, kRotate90);
        break;
      case 6:
        libyuv::ARGBRotate(s, ss, d, ds, sw, sh, kRotate90);
        break;
      case 7:
        libyuv::ARGBRotate(s, ss, d, ds, sw, -sh, kRotate270);
        break;
      case 8:
        libyuv::ARGBRotate(s, ss, d, ds, sw, sh, kRotate270);
        break;
    }
  }
  return {buf->data(), stride, w, h};
}

// Repeats the last column and row of a plane into its padding (see
// PaddedStride), as libjpeg extends edges; decoder planes have whole blocks.
void EdgePad(const View& v) {
  if (v.width % 2 != 0) {
    for (uint32_t y = 0; y < v.height; ++y) {
      uint8_t* row = v.data + y * v.stride;
      row[v.width] = row[v.width - 1];
    }
  }
  if (v.height % 2 != 0) {
    std::memcpy(v.data + v.height * v.stride,
                v.data + (v.height - 1) * v.stride, v.width + v.width % 2);
  }
}

// Baseline, 4:2:0, standard Huffman tables, accurate DCT: what OpenCV's
// imencode writes. num_planes 3 or 1 (gray: neutral chroma), or 0 for
// interleaved B,G,R,X in planes[0].
Status Transcoder::Impl::Encode(const View* planes_in, int n, int quality,
                                TranscodeResult* out) {
  if (tj == nullptr && (tj = tjInitCompress()) == nullptr) {
    return Status::IOError(std::string("tjInitCompress: ") +
                           tjGetErrorStr2(nullptr));
  }
  const uint32_t w = planes_in[0].width, h = planes_in[0].height;
  const unsigned long need =
      tjBufSize(static_cast<int>(w), static_cast<int>(h), TJSAMP_420);
  if (need > 0x7FFFFFFF)
    return Status::InvalidArgument("output too large for TurboJPEG");
  if (enc_capacity < need) {
    tjFree(enc);
    enc = tjAlloc(static_cast<int>(need));
    enc_capacity = enc == nullptr ? 0 : need;
    if (enc == nullptr) return Status::IOError("tjAlloc failed");
  }
  unsigned long size = enc_capacity;
  int rc;
  if (n == 0) {
    rc = tjCompress2(tj, planes_in[0].data, static_cast<int>(w),
                     static_cast<int>(planes_in[0].stride), static_cast<int>(h),
                     TJPF_BGRX, &enc, &size, TJSAMP_420, quality,
                     TJFLAG_NOREALLOC);
  } else {
    const unsigned char* p[3];
    int strides[3];
    if (n == 1) {
      const uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
      neutral_chroma.assign(size_t{cw} * ch, 128);  // gray: Cb = Cr = 128
      p[1] = p[2] = neutral_chroma.data();
      strides[1] = strides[2] = static_cast<int>(cw);
    }
    EdgePad(planes_in[0]);
    for (int c = 0; c < n; ++c) {
      p[c] = planes_in[c].data;
      strides[c] = static_cast<int>(planes_in[c].stride);
    }
    rc = tjCompressFromYUVPlanes(tj, p, static_cast<int>(w), strides,
                                 static_cast<int>(h), TJSAMP_420, &enc, &size,
                                 quality, TJFLAG_NOREALLOC);
  }
  if (rc != 0)
    return Status::IOError(std::string("TurboJPEG encode: ") +
                           tjGetErrorStr2(tj));
  out->jpeg.assign(enc, enc + size);
  out->width = w;
  out->height = h;
  return Status::OK();
}

Status Transcoder::Impl::Run(std::span<const uint8_t> bytes,
                             const ImageProbe& probe, uint32_t tw, uint32_t th,
                             int quality, TranscodeResult* out) {
  OIV4KV_RETURN_IF_ERROR(Decode(bytes, probe, tw, th));
  return ResizeEncode(probe, tw, th, quality, out);
}

Status Transcoder::Impl::Decode(std::span<const uint8_t> bytes,
                                const ImageProbe& probe, uint32_t tw,
                                uint32_t th) {
  decoded_denom = 0;
  if (probe.format == ImageFormat::kJpeg) {
    if (!DecodeJpeg(bytes.data(), bytes.size(), tw, th)) {
      const std::string why = jerr.message;
      if (jerr.too_many_scans) return Status::InvalidArgument(why);
      return Status::Corruption("JPEG: " + why);
    }
    // Truncation is fine: the rest is gray, as in OpenCV, even when the file
    // ends before its first row of blocks (OpenCV then returns a gray image,
    // so TFDS stores one; `original` keeps such a file as it is).
  } else if (!DecodePng(bytes.data(), bytes.size(), probe.width,
                        probe.height)) {
    return Status::Corruption(std::string("PNG: ") + png_state.message);
  }
  return Status::OK();
}

// Resizes the decoded image to tw x th, orients it and encodes it; the
// decoded planes are only read, so several targets can share one decode.
Status Transcoder::Impl::ResizeEncode(const ImageProbe& probe, uint32_t tw,
                                      uint32_t th, int quality,
                                      TranscodeResult* out) {
  const int o = probe.exif_orientation;
  View result[3];
  int n = num_planes;
  if (n == 0) {
    const View& p = pixels;
    const AxisMap x{static_cast<double>(p.width) / tw},
        y{static_cast<double>(p.height) / th};
    result[0] =
        Orient(Scale(p, tw, th, 4, &scaled[0], x, y), o, 4, &oriented[0]);
    return Encode(result, n, quality, out);
  }
  // Source luma pixels per target luma pixel.
  const double rx = static_cast<double>(planes[0].width) / tw;
  const double ry = static_cast<double>(planes[0].height) / th;
  result[0] = Orient(Scale(planes[0], tw, th, 1, &scaled[0], {rx}, {ry}), o, 1,
                     &oriented[0]);
  // Target chroma sample k covers target luma [2k, 2k+2): mapped through
  // luma coordinates, so it stays registered when the size is odd. An odd
  // axis that the orientation reverses needs the grid one luma pixel back,
  // to land on the chroma grid of the turned image.
  const bool reverse_x = o == 2 || o == 3 || o == 7 || o == 8;
  const bool reverse_y = o == 3 || o == 4 || o == 6 || o == 7;
  for (int c = 1; c < n; ++c) {
    const double kx = rx / luma_per_sample_x[c], ky = ry / luma_per_sample_y[c];
    const AxisMap x{2 * kx, reverse_x && tw % 2 != 0 ? -kx : 0.0};
    const AxisMap y{2 * ky, reverse_y && th % 2 != 0 ? -ky : 0.0};
    const View s =
        Scale(planes[c], (tw + 1) / 2, (th + 1) / 2, 1, &scaled[c], x, y);
    result[c] = Orient(s, o, 1, &oriented[c]);
  }
  return Encode(result, n, quality, out);
}

namespace {

// The checks Transcode makes before decoding; tw x th the target size.
Status CheckOptions(std::span<const uint8_t> bytes,
                    const TranscodeOptions& options, ImageProbe* probe,
                    uint32_t* tw, uint32_t* th) {
  if (options.quality < 1 || options.quality > 100) {
    return Status::InvalidArgument("quality must be 1..100, not " +
                                   std::to_string(options.quality));
  }
  if (options.target_pixels == 0)
    return Status::InvalidArgument("target_pixels must be > 0");
  OIV4KV_RETURN_IF_ERROR(ProbeImage(bytes, options.max_pixels, probe));
  TargetSize(probe->width, probe->height, options.target_pixels, tw, th);
  if (*tw == 0 || *th == 0) {
    return Status::InvalidArgument(
        "resizes " + std::to_string(probe->width) + "x" +
        std::to_string(probe->height) + " to " + std::to_string(*tw) + "x" +
        std::to_string(*th) + " (OpenCV's resize fails)");
  }
  return Status::OK();
}

}  // namespace

Transcoder::Transcoder() : impl_(std::make_unique<Impl>()) {}
Transcoder::~Transcoder() = default;

Status Transcoder::Transcode(std::span<const uint8_t> bytes,
                             const TranscodeOptions& options,
                             TranscodeResult* out) {
  ImageProbe probe;
  uint32_t tw = 0, th = 0;
  OIV4KV_RETURN_IF_ERROR(CheckOptions(bytes, options, &probe, &tw, &th));
  try {
    return impl_->Run(bytes, probe, tw, th, options.quality, out);
  } catch (const std::bad_alloc&) {
    impl_->AbortJpeg();
    return Status::IOError("out of memory transcoding a " +
                           std::to_string(probe.width) + "x" +
                           std::to_string(probe.height) + " image");
  }
}

void Transcoder::TranscodeEach(std::span<const uint8_t> bytes,
                               std::span<const TranscodeOptions> options,
                               std::vector<TranscodeResult>* out,
                               std::vector<Status>* status) {
  out->resize(options.size());
  status->assign(options.size(), Status::OK());
  // Whether the decoded planes hold `bytes` (and, for a JPEG, at which DCT
  // denominator), and what that decode returned.
  bool decoded = false;
  Status decode_status;
  for (size_t i = 0; i < options.size(); ++i) {
    ImageProbe probe;
    uint32_t tw = 0, th = 0;
    Status& s = (*status)[i];
    s = CheckOptions(bytes, options[i], &probe, &tw, &th);
    if (!s.ok()) continue;
    try {
      const bool reuse =
          decoded && (probe.format != ImageFormat::kJpeg ||
                      (impl_->decoded_denom != 0 &&
                       DctDenominator(impl_->decoded_width,
                                      impl_->decoded_height, tw, th) ==
                           impl_->decoded_denom));
      if (!reuse) {
        decode_status = impl_->Decode(bytes, probe, tw, th);
        decoded = true;
      }
      s = decode_status;
      if (s.ok()) s = impl_->ResizeEncode(probe, tw, th, options[i].quality, &(*out)[i]);
    } catch (const std::bad_alloc&) {
      impl_->AbortJpeg();
      decoded = false;
      s = Status::IOError("out of memory transcoding a " +
                          std::to_string(probe.width) + "x" +
                          std::to_string(probe.height) + " image");
    }
  }
}

}  // namespace oiv4kv
