#include "store/synth/jpeg_writer.h"

// clang-format off
#include <cstdio>   // jpeglib.h needs FILE
#include <jpeglib.h>
// clang-format on
#include <turbojpeg.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <string>

namespace oiv4kv::synth {

JpegCompressor::JpegCompressor() : tj_(tjInitCompress()), tj_progressive_(tjInitCompress()) {}

JpegCompressor::~JpegCompressor() {
  if (tj_ != nullptr) tjDestroy(tj_);
  if (tj_progressive_ != nullptr) tjDestroy(tj_progressive_);
}

Status JpegCompressor::Compress(const uint8_t* rgb, uint32_t width, uint32_t height,
                                const JpegSpec& spec, std::vector<uint8_t>* out) {
  void* tj = spec.progressive ? tj_progressive_ : tj_;
  if (tj == nullptr) return Status::IOError("tjInitCompress failed");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  // For TJSAMP_GRAY TurboJPEG makes a one-component JPEG from the luminance.
  if (tjCompress2(tj, rgb, static_cast<int>(width), 0, static_cast<int>(height), TJPF_RGB, &buf,
                  &size, spec.subsamp, spec.quality,
                  spec.progressive ? TJFLAG_PROGRESSIVE : 0) != 0) {
    const std::string msg = tjGetErrorStr2(tj);
    tjFree(buf);
    return Status::IOError("TurboJPEG: " + msg);
  }
  out->assign(buf, buf + size);
  tjFree(buf);
  return Status::OK();
}

Status EncodeJpeg(const RgbImage& image, const JpegSpec& spec, std::vector<uint8_t>* out) {
  JpegCompressor compressor;
  return compressor.Compress(image.pixels.data(), image.width, image.height, spec, out);
}

namespace {

struct JpegWriteError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegWriteErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegWriteError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Runs libjpeg compression of `pixels` (3 bytes a pixel, 4 for CMYK and
// YCCK). No C++ objects with destructors live in this frame, so longjmp out
// of libjpeg is safe.
bool CompressLibjpeg(const uint8_t* pixels, uint32_t width, uint32_t height, JpegColorKind kind,
                     int quality, jpeg_scan_info* scans, int num_scans, unsigned char** buf,
                     unsigned long* size, char* message) {
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
  const bool cmyk = kind == JpegColorKind::kCmyk || kind == JpegColorKind::kYcck;
  cinfo.input_components = cmyk ? 4 : 3;
  cinfo.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  switch (kind) {
    case JpegColorKind::kYcbcr:
      break;
    case JpegColorKind::kRgb:
      jpeg_set_colorspace(&cinfo, JCS_RGB);  // Adobe transform 0
      break;
    case JpegColorKind::kCmyk:
      jpeg_set_colorspace(&cinfo, JCS_CMYK);
      break;
    case JpegColorKind::kYcck:
      jpeg_set_colorspace(&cinfo, JCS_YCCK);
      break;
    case JpegColorKind::kOddSampling:
      cinfo.comp_info[0].h_samp_factor = 1;
      cinfo.comp_info[0].v_samp_factor = 2;
      cinfo.comp_info[1].h_samp_factor = 2;
      cinfo.comp_info[1].v_samp_factor = 1;
      cinfo.comp_info[2].h_samp_factor = 1;
      cinfo.comp_info[2].v_samp_factor = 1;
      break;
  }
  if (num_scans > 0) {
    cinfo.scan_info = scans;
    cinfo.num_scans = num_scans;
  }
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = size_t{width} * static_cast<size_t>(cinfo.input_components);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels) + cinfo.next_scanline * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

Status EncodeJpegLibjpeg(const RgbImage& image, JpegColorKind kind, int quality,
                         std::vector<uint8_t>* out, std::span<const JpegScan> scans) {
  const uint8_t* pixels = image.pixels.data();
  std::vector<uint8_t> cmyk;
  if (kind == JpegColorKind::kCmyk || kind == JpegColorKind::kYcck) {
    // Inverted (Adobe) CMYK with grey component replacement: K' = max(R,G,B)
    // and C' = 255 * R / K', rounded, so that R = C' * K' / 255.
    const size_t n = size_t{image.width} * image.height;
    cmyk.resize(n * 4);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = &image.pixels[i * 3];
      const int k = std::max({p[0], p[1], p[2]});
      for (int c = 0; c < 3; ++c) {
        cmyk[i * 4 + c] = k == 0 ? 0 : static_cast<uint8_t>((p[c] * 255 + k / 2) / k);
      }
      cmyk[i * 4 + 3] = static_cast<uint8_t>(k);
    }
    pixels = cmyk.data();
  }
  std::vector<jpeg_scan_info> script;
  for (const JpegScan& s : scans) {
    jpeg_scan_info info{};
    info.comps_in_scan = s.num_components;
    for (int c = 0; c < 4; ++c) info.component_index[c] = s.component[c];
    info.Ss = s.ss, info.Se = s.se, info.Ah = s.ah, info.Al = s.al;
    script.push_back(info);
  }
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  char message[JMSG_LENGTH_MAX] = {0};
  const bool ok = CompressLibjpeg(pixels, image.width, image.height, kind, quality,
                                  script.empty() ? nullptr : script.data(),
                                  static_cast<int>(script.size()), &buf, &size, message);
  if (ok) out->assign(buf, buf + size);
  std::free(buf);  // jpeg_mem_dest allocates with malloc
  return ok ? Status::OK() : Status::InvalidArgument(std::string("libjpeg: ") + message);
}

}  // namespace oiv4kv::synth
