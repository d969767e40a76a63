#include "store/synth/synth_image.h"

#include <turbojpeg.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>

#include "store/synth/jpeg_bytes.h"
#include "store/synth/png_writer.h"

namespace oiv4kv::synth {
namespace {

// The camera an EXIF block names: the seed picks one of a few real ones.
struct Camera {
  const char* make;
  const char* model;
};
constexpr Camera kCameras[] = {{"Canon", "Canon EOS 5D Mark II"},
                               {"NIKON CORPORATION", "NIKON D700"},
                               {"Apple", "iPhone 4S"},
                               {"SONY", "DSLR-A200"}};

std::string HtmlErrorPage(uint64_t seed) {
  return "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>\n"
         "<h1>Not Found</h1>\n<p>The requested URL /photos/" +
         std::to_string(seed % 100000000) +
         "_o.jpg was not found on this server.</p>\n</body></html>\n";
}

}  // namespace

Status ImageEncoder::Encode(const ImageSpec& spec, std::vector<uint8_t>* out) {
  out->clear();
  std::mt19937_64 rng(spec.seed ^ 0x5EED5EED5EED5EEDULL);
  auto paint = [&](uint32_t w, uint32_t h) {
    image_.width = w, image_.height = h;
    PaintNatural(w, h, spec.seed, &image_.pixels);
  };
  auto jpeg = [&](int subsamp, bool progressive = false) {
    return jpeg_.Compress(image_.pixels.data(), image_.width, image_.height,
                          {spec.quality, subsamp, progressive}, out);
  };
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
      paint(64, 48);
      OIV4KV_RETURN_IF_ERROR(jpeg(TJSAMP_420));
      if (!ClaimJpegSize(out, kHugeSide, kHugeSide)) {
        return Status::Corruption("synth: no SOF in encoded JPEG");
      }
      return Status::OK();
    }
    default:
      break;
  }

  paint(spec.width, spec.height);
  switch (spec.kind) {
    case SynthKind::kGray:
      OIV4KV_RETURN_IF_ERROR(jpeg(TJSAMP_GRAY));
      break;
    case SynthKind::kProgressive:
      OIV4KV_RETURN_IF_ERROR(jpeg(TJSAMP_420, /*progressive=*/true));
      break;
    case SynthKind::kChroma444:
      OIV4KV_RETURN_IF_ERROR(jpeg(TJSAMP_444));
      break;
    case SynthKind::kCmyk:
      // Inverted, so that a decoder applying the Adobe convention gets the
      // RGB back.
      OIV4KV_RETURN_IF_ERROR(EncodeJpegLibjpeg(image_, JpegColorKind::kCmyk, spec.quality, out));
      break;
    case SynthKind::kPngNamedJpg:
      return EncodePng(image_, PngKind::kRgb8, out);
    case SynthKind::kNormal:
    case SynthKind::kExifRotated:
    case SynthKind::kTruncated:
    default:
      OIV4KV_RETURN_IF_ERROR(jpeg(TJSAMP_420));
      break;
  }

  if (spec.kind == SynthKind::kExifRotated || spec.exif) {
    const Camera& camera = kCameras[spec.seed % std::size(kCameras)];
    *out = WithApp1(*out,
                    ExifTiffBlock(spec.exif_orientation, spec.exif_big_endian, camera.make,
                                  camera.model),
                    spec.kind == SynthKind::kExifRotated ? Jfif::kDrop : Jfif::kBeforeApp1);
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
