// Decoder (oiv4kv/decode.h) on any bytes: every output format (RGB, BGR,
// gray) under both truncation policies, then DecodeInto a buffer of exactly
// the size DecodedSize asks for (ASan sees any write past it), with the
// scaling, EXIF and IDCT options from the first input byte and a pixel cap of
// 1 Mpixel. Checks that hold for any input:
//  - a decode that succeeds has the shape DecodedSize gives, and
//    width * height * channels pixel bytes;
//  - BGR is RGB with R and B swapped;
//  - what kError decodes, kWarn decodes the same, not marked truncated; what
//    kWarn marks truncated (with a warning), kError refuses as Corruption;
//  - DecodeInto writes the same pixels as Decode;
//  - errors are InvalidArgument, Corruption or IOError.
#include <cstring>
#include <vector>

#include "oiv4kv/decode.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using oiv4kv::Status;

void CheckError(const Status& s) {
  FUZZ_CHECK(s.IsInvalidArgument() || s.IsCorruption() || s.IsIOError(), "%s",
             s.ToString().c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* decoder = new oiv4kv::Decoder();  // reused across inputs, as callers do
  oiv4kv::fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  const uint8_t min_side = in.Byte();
  const std::span<const uint8_t> bytes = in.rest();
  oiv4kv::DecodeOptions base;
  base.max_pixels = uint64_t{1} << 20;
  base.all_scale_factors = flags & 1;
  base.apply_exif_orientation = flags & 2;
  base.fast_dct = flags & 4;
  if (flags & 8) {
    base.min_width = min_side;
    base.min_height = (flags >> 4) * 16u;
  }

  std::vector<uint8_t> rgb;
  for (const oiv4kv::PixelFormat format : oiv4kv::kAllPixelFormats) {
    oiv4kv::DecodeOptions o = base;
    o.pixel_format = format;
    oiv4kv::DecodedImage strict, lenient;
    o.truncated = oiv4kv::TruncatedPolicy::kError;
    const Status s_strict = decoder->Decode(bytes, o, &strict);
    o.truncated = oiv4kv::TruncatedPolicy::kWarn;
    const Status s_lenient = decoder->Decode(bytes, o, &lenient);
    oiv4kv::ImageShape shape;
    const Status s_size = oiv4kv::DecodedSize(bytes, o, &shape);
    if (!s_strict.ok()) CheckError(s_strict);
    if (!s_lenient.ok()) {
      CheckError(s_lenient);
      FUZZ_CHECK(!s_strict.ok(), "kError decodes what kWarn refuses: %s",
                 s_lenient.ToString().c_str());
      continue;
    }
    FUZZ_CHECK(s_size.ok(), "decodes, but DecodedSize fails: %s", s_size.ToString().c_str());
    const oiv4kv::ImageShape got = lenient.shape();
    FUZZ_CHECK(got.width == shape.width && got.height == shape.height &&
                   got.channels == shape.channels,
               "decoded %ux%ux%d, DecodedSize %ux%ux%d", got.width, got.height, got.channels,
               shape.width, shape.height, shape.channels);
    FUZZ_CHECK(got.channels == oiv4kv::Channels(format), "%d channels", got.channels);
    FUZZ_CHECK(got.width > 0 && got.height > 0, "an empty image");
    FUZZ_CHECK(uint64_t{got.width} * got.height <= base.max_pixels, "over the cap");
    FUZZ_CHECK(lenient.pixels.size() == size_t{got.width} * got.height * got.channels,
               "%zu pixel bytes for %ux%ux%d", lenient.pixels.size(), got.width, got.height,
               got.channels);
    FUZZ_CHECK(lenient.truncated == !lenient.warning.empty(), "truncated %d, warning '%s'",
               lenient.truncated, lenient.warning.c_str());
    if (s_strict.ok()) {
      FUZZ_CHECK(!lenient.truncated, "kError decodes what kWarn marks truncated: %s",
                 lenient.warning.c_str());
      FUZZ_CHECK(strict.pixels == lenient.pixels && strict.width == lenient.width &&
                     strict.height == lenient.height,
                 "kError and kWarn decode differently");
    } else {
      FUZZ_CHECK(lenient.truncated && s_strict.IsCorruption(),
                 "kError refuses (%s) what kWarn decodes untruncated",
                 s_strict.ToString().c_str());
    }
    if (format == oiv4kv::PixelFormat::kRGB) rgb = lenient.pixels;
    if (format == oiv4kv::PixelFormat::kBGR) {
      FUZZ_CHECK(rgb.size() == lenient.pixels.size(), "RGB and BGR sizes differ");
      for (size_t i = 0; i + 2 < rgb.size(); i += 3) {
        FUZZ_CHECK(rgb[i] == lenient.pixels[i + 2] && rgb[i + 1] == lenient.pixels[i + 1] &&
                       rgb[i + 2] == lenient.pixels[i],
                   "BGR is not RGB swapped at byte %zu", i);
      }
    }

    // Into a buffer of exactly the size needed, rows padded by 0..3 bytes.
    const size_t stride = shape.row_bytes() + (flags >> 6);
    std::vector<uint8_t> dst(shape.bytes_at_stride(stride));
    oiv4kv::DecodeInfo info;
    const Status s_into = decoder->DecodeInto(bytes, o, dst, stride, &info);
    FUZZ_CHECK(s_into.ok(), "Decode works, DecodeInto fails: %s", s_into.ToString().c_str());
    FUZZ_CHECK(info.shape.width == shape.width && info.shape.height == shape.height &&
                   info.truncated == lenient.truncated,
               "DecodeInto's info differs");
    for (uint32_t y = 0; y < shape.height; ++y) {
      FUZZ_CHECK(std::memcmp(dst.data() + y * stride,
                             lenient.pixels.data() + size_t{y} * shape.row_bytes(),
                             shape.row_bytes()) == 0,
                 "DecodeInto's row %u differs from Decode's", y);
    }
    // Too small a buffer is refused before anything is written.
    if (!dst.empty()) {
      std::vector<uint8_t> small(dst.size() - 1);
      const Status s_small = decoder->DecodeInto(bytes, o, small, stride, &info);
      FUZZ_CHECK(s_small.IsInvalidArgument(), "a short buffer: %s", s_small.ToString().c_str());
    }
  }
  return 0;
}
