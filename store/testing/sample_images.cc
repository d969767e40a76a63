#include "store/testing/sample_images.h"

#include <turbojpeg.h>

#include <string>

namespace oiv4kv {

Status EncodeJpegLikeOpenCv(const RgbImage& image, int quality,
                            std::vector<uint8_t>* out) {
  return EncodeJpegLibjpeg(image, JpegColorKind::kYcbcr, quality, out);
}

Status EncodeJpegManyScans(const RgbImage& image, int refinements,
                           std::vector<uint8_t>* out) {
  std::vector<synth::JpegScan> scans;
  scans.push_back({3, {0, 1, 2, 0}, 0, 0, 0, 0});  // DC of all components, full precision
  for (int c = 0; c < 3; ++c) {
    for (int k = 1; k < 64; ++k) {
      scans.push_back({1, {c, 0, 0, 0}, k, k, 0, refinements});
      for (int a = refinements; a > 0; --a) scans.push_back({1, {c, 0, 0, 0}, k, k, a, a - 1});
    }
  }
  return EncodeJpegLibjpeg(image, JpegColorKind::kYcbcr, 90, out, scans);
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
