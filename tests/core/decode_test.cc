#include "oiv4kv/decode.h"

#include <gtest/gtest.h>
// clang-format off
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
// clang-format on
#include <turbojpeg.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/testing/sample_images.h"
#include "store/synth/jpeg_bytes.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

// --- An independent reference: the libjpeg API ------------------------------
// The decoder goes through TurboJPEG; these references read the same file
// with libjpeg's own API (jpeg_mem_src, jpeg_read_scanlines), so each
// expected pixel comes from another code path with the settings OpenCV uses.

struct Ref {
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
  int warnings = 0;
};

struct RefDecompressor {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr mgr;
  jmp_buf jump;
  int warnings;
  char message[JMSG_LENGTH_MAX];
};

void RefErrorExit(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<RefDecompressor*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, d->message);
  longjmp(d->jump, 1);
}

void RefEmitMessage(j_common_ptr cinfo, int level) {
  if (level < 0)
    ++reinterpret_cast<RefDecompressor*>(cinfo->client_data)->warnings;
}

// Decodes with libjpeg to `space` (JCS_RGB, JCS_GRAYSCALE or JCS_CMYK),
// scaled by 1/denom; `fast`: JDCT_IFAST and no fancy upsampling.
Ref LibjpegDecode(std::span<const uint8_t> jpeg, J_COLOR_SPACE space,
                  unsigned denom = 1, bool fast = false) {
  Ref ref;
  auto d = std::make_unique<RefDecompressor>();
  d->warnings = 0;
  d->cinfo.err = jpeg_std_error(&d->mgr);
  d->mgr.error_exit = RefErrorExit;
  d->mgr.emit_message = RefEmitMessage;
  if (setjmp(d->jump)) {
    ADD_FAILURE() << "libjpeg: " << d->message;
    jpeg_destroy_decompress(&d->cinfo);
    return Ref();
  }
  jpeg_create_decompress(&d->cinfo);
  d->cinfo.client_data = d.get();
  jpeg_mem_src(&d->cinfo, jpeg.data(), jpeg.size());
  jpeg_read_header(&d->cinfo, TRUE);
  d->cinfo.out_color_space = space;
  d->cinfo.scale_num = 1;
  d->cinfo.scale_denom = denom;
  if (fast) {
    d->cinfo.dct_method = JDCT_IFAST;
    d->cinfo.do_fancy_upsampling = FALSE;
  }
  jpeg_start_decompress(&d->cinfo);
  ref.width = d->cinfo.output_width;
  ref.height = d->cinfo.output_height;
  ref.channels = d->cinfo.output_components;
  const size_t stride = size_t{ref.width} * ref.channels;
  ref.pixels.resize(stride * ref.height);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = ref.pixels.data() + d->cinfo.output_scanline * stride;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  jpeg_destroy_decompress(&d->cinfo);
  ref.warnings = d->warnings;
  return ref;
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R, as its source writes it, to RGB.
Ref CmykToRgbLikeOpenCv(const Ref& cmyk) {
  Ref rgb{cmyk.width, cmyk.height, 3, {}, 0};
  const size_t n = size_t{cmyk.width} * cmyk.height;
  rgb.pixels.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* s = &cmyk.pixels[i * 4];
    const int c = s[0], m = s[1], y = s[2], k = s[3];
    rgb.pixels[i * 3 + 0] = static_cast<uint8_t>(k - ((255 - c) * k >> 8));
    rgb.pixels[i * 3 + 1] = static_cast<uint8_t>(k - ((255 - m) * k >> 8));
    rgb.pixels[i * 3 + 2] = static_cast<uint8_t>(k - ((255 - y) * k >> 8));
  }
  return rgb;
}

// --- Helpers ----------------------------------------------------------------

std::vector<uint8_t> Jpeg(const RgbImage& image, JpegSpec spec = {}) {
  std::vector<uint8_t> out;
  EXPECT_OK(EncodeJpeg(image, spec, &out));
  return out;
}

std::vector<uint8_t> LibjpegKind(const RgbImage& image, JpegColorKind kind) {
  std::vector<uint8_t> out;
  EXPECT_OK(EncodeJpegLibjpeg(image, kind, 90, &out));
  return out;
}

DecodeOptions Options(PixelFormat format) {
  DecodeOptions o;
  o.pixel_format = format;
  return o;
}

DecodedImage MustDecode(Decoder* decoder, std::span<const uint8_t> bytes,
                        const DecodeOptions& options) {
  DecodedImage img;
  const Status s = decoder->Decode(bytes, options, &img);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return img;
}

// Every pixel of `rgb` with its channels in reverse order.
std::vector<uint8_t> Swapped(const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> out(rgb.size());
  for (size_t i = 0; i + 2 < rgb.size(); i += 3) {
    out[i] = rgb[i + 2];
    out[i + 1] = rgb[i + 1];
    out[i + 2] = rgb[i];
  }
  return out;
}

// Each gray value three times.
std::vector<uint8_t> Replicated(const std::vector<uint8_t>& gray) {
  std::vector<uint8_t> out;
  out.reserve(gray.size() * 3);
  for (uint8_t g : gray) out.insert(out.end(), {g, g, g});
  return out;
}

std::vector<double> ToDouble(std::span<const uint8_t> v) {
  return std::vector<double>(v.begin(), v.end());
}

// |gray - round(0.299 R + 0.587 G + 0.114 B)| over the pixels: the largest
// and the mean.
struct LumaError {
  int max = 0;
  double mean = 0;
};
LumaError LumaErrors(const std::vector<uint8_t>& gray,
                     const std::vector<uint8_t>& rgb) {
  LumaError e;
  for (size_t i = 0; i < gray.size(); ++i) {
    const double y =
        0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    const int d = std::abs(gray[i] - static_cast<int>(y + 0.5));
    e.max = std::max(e.max, d);
    e.mean += d;
  }
  if (!gray.empty()) e.mean /= static_cast<double>(gray.size());
  return e;
}

// Repeats each 1-channel or 3-channel pixel of a w x h image as 3 doubles,
// for ApplyOrientation, which takes RGB.
std::vector<double> AsRgbDouble(const DecodedImage& img) {
  return ToDouble(img.channels == 3 ? img.pixels : Replicated(img.pixels));
}

// --- Pixels against libjpeg --------------------------------------------------

enum class JpegKind {
  k420,
  k422,
  k444,
  k440,
  kProgressive,
  kRgbTransform,
  kOddSampling,
  kGray
};

std::vector<uint8_t> MakeJpeg(JpegKind kind, const RgbImage& image) {
  switch (kind) {
    case JpegKind::k420:
      return Jpeg(image, {90, TJSAMP_420, false});
    case JpegKind::k422:
      return Jpeg(image, {90, TJSAMP_422, false});
    case JpegKind::k444:
      return Jpeg(image, {90, TJSAMP_444, false});
    case JpegKind::k440:
      return Jpeg(image, {90, TJSAMP_440, false});
    case JpegKind::kProgressive:
      return Jpeg(image, {85, TJSAMP_420, true});
    case JpegKind::kRgbTransform:
      return LibjpegKind(image, JpegColorKind::kRgb);
    case JpegKind::kOddSampling:
      return LibjpegKind(image, JpegColorKind::kOddSampling);
    case JpegKind::kGray:
      return Jpeg(image, {90, TJSAMP_GRAY, false});
  }
  return {};
}

class DecodeJpegKindTest : public ::testing::TestWithParam<JpegKind> {};

// RGB equals libjpeg's RGB, BGR is it swapped, gray is libjpeg's gray (the
// luma plane of a YCbCr JPEG), on odd sizes.
TEST_P(DecodeJpegKindTest, MatchesLibjpegInEveryPixelFormat) {
  const RgbImage image = SyntheticImage(131, 77, 3);
  const std::vector<uint8_t> jpeg = MakeJpeg(GetParam(), image);
  Decoder decoder;
  const Ref rgb = LibjpegDecode(jpeg, JCS_RGB);
  const Ref gray = LibjpegDecode(jpeg, JCS_GRAYSCALE);
  ASSERT_EQ(131u, rgb.width);
  ASSERT_EQ(77u, rgb.height);

  const DecodedImage a = MustDecode(&decoder, jpeg, Options(PixelFormat::kRGB));
  EXPECT_EQ(131u, a.width);
  EXPECT_EQ(77u, a.height);
  EXPECT_EQ(3, a.channels);
  EXPECT_FALSE(a.truncated);
  EXPECT_TRUE(a.warning.empty());
  EXPECT_TRUE(a.pixels == rgb.pixels);

  const DecodedImage b = MustDecode(&decoder, jpeg, Options(PixelFormat::kBGR));
  EXPECT_EQ(3, b.channels);
  EXPECT_TRUE(b.pixels == Swapped(rgb.pixels));

  const DecodedImage g =
      MustDecode(&decoder, jpeg, Options(PixelFormat::kGray));
  EXPECT_EQ(1, g.channels);
  EXPECT_EQ(131u, g.width);
  EXPECT_TRUE(g.pixels == gray.pixels);
  // BT.601 luma of the colour decode, but for its rounding and clamping
  // (measured: a mean of 0.04 at most, and up to 7 where R, G or B clamps).
  EXPECT_LT(LumaErrors(g.pixels, a.pixels).mean, 0.1);
}

INSTANTIATE_TEST_SUITE_P(Kinds, DecodeJpegKindTest,
                         ::testing::Values(JpegKind::k420, JpegKind::k422,
                                           JpegKind::k444, JpegKind::k440,
                                           JpegKind::kProgressive,
                                           JpegKind::kRgbTransform,
                                           JpegKind::kOddSampling,
                                           JpegKind::kGray));

// A grayscale JPEG gives its one channel three times (as OpenCV's
// IMREAD_COLOR does), or once for kGray.
TEST(Decode, GrayJpegIsReplicated) {
  const std::vector<uint8_t> jpeg =
      Jpeg(SyntheticImage(64, 48, 5), {90, TJSAMP_GRAY, false});
  const Ref gray = LibjpegDecode(jpeg, JCS_GRAYSCALE);
  ASSERT_EQ(1, gray.channels);
  RgbImage reference;
  ASSERT_OK(DecodeJpegRgb(jpeg, &reference));  // the generator's decode
  EXPECT_TRUE(reference.pixels == Replicated(gray.pixels));
  Decoder decoder;
  const DecodedImage rgb =
      MustDecode(&decoder, jpeg, Options(PixelFormat::kRGB));
  EXPECT_EQ(3, rgb.channels);
  EXPECT_TRUE(rgb.pixels == Replicated(gray.pixels));
  const DecodedImage bgr =
      MustDecode(&decoder, jpeg, Options(PixelFormat::kBGR));
  EXPECT_TRUE(bgr.pixels == Replicated(gray.pixels));
  const DecodedImage g =
      MustDecode(&decoder, jpeg, Options(PixelFormat::kGray));
  EXPECT_EQ(1, g.channels);
  EXPECT_TRUE(g.pixels == gray.pixels);
}

// Inverted Adobe CMYK and YCCK: OpenCV's formula applied to libjpeg's raw
// CMYK, and close to the pixels the file was made from.
TEST(Decode, CmykAndYcckUseOpenCvsFormula) {
  const RgbImage image = SyntheticImage(90, 70, 11);
  for (JpegColorKind kind : {JpegColorKind::kCmyk, JpegColorKind::kYcck}) {
    SCOPED_TRACE(kind == JpegColorKind::kCmyk ? "CMYK" : "YCCK");
    const std::vector<uint8_t> jpeg = LibjpegKind(image, kind);
    const Ref cmyk = LibjpegDecode(jpeg, JCS_CMYK);
    ASSERT_EQ(4, cmyk.channels);
    const Ref expected = CmykToRgbLikeOpenCv(cmyk);
    Decoder decoder;
    const DecodedImage rgb =
        MustDecode(&decoder, jpeg, Options(PixelFormat::kRGB));
    EXPECT_EQ(3, rgb.channels);
    EXPECT_TRUE(rgb.pixels == expected.pixels);
    // Measured: 40.2 dB (CMYK) and 31.2 dB (YCCK, chroma subsampled) at q90.
    EXPECT_GT(Psnr(ToDouble(image.pixels), rgb.pixels), 30.0);
    const DecodedImage bgr =
        MustDecode(&decoder, jpeg, Options(PixelFormat::kBGR));
    EXPECT_TRUE(bgr.pixels == Swapped(expected.pixels));
    const DecodedImage gray =
        MustDecode(&decoder, jpeg, Options(PixelFormat::kGray));
    EXPECT_EQ(1, gray.channels);
    EXPECT_LE(LumaErrors(gray.pixels, expected.pixels).max, 1);
  }
}

// --- DCT scaling -------------------------------------------------------------

using Size = std::pair<uint32_t, uint32_t>;

Size Scaled(std::span<const uint8_t> bytes, uint32_t min_w, uint32_t min_h,
            bool all_factors = false, bool orient = false) {
  DecodeOptions o;
  o.min_width = min_w;
  o.min_height = min_h;
  o.all_scale_factors = all_factors;
  o.apply_exif_orientation = orient;
  ImageShape shape;
  const Status s = DecodedSize(bytes, o, &shape);
  EXPECT_TRUE(s.ok()) << s.ToString();
  Decoder decoder;
  const DecodedImage img = MustDecode(&decoder, bytes, o);
  EXPECT_EQ(Size(shape.width, shape.height), Size(img.width, img.height))
      << "DecodedSize disagrees with Decode";
  EXPECT_EQ(3, shape.channels);
  EXPECT_EQ(size_t{shape.width} * shape.height * 3, img.pixels.size());
  return {shape.width, shape.height};
}

// Sides are ceil(side * factor); the factor is the smallest that covers the
// minimum. Hand-computed.
TEST(DecodeScaling, PicksTheDocumentedSize) {
  const std::vector<uint8_t> jpeg = Jpeg(SyntheticImage(1000, 600, 2));
  EXPECT_EQ(Size(1000, 600), Scaled(jpeg, 0, 0));
  EXPECT_EQ(Size(250, 150), Scaled(jpeg, 200, 100));  // 1/4
  EXPECT_EQ(Size(125, 75), Scaled(jpeg, 125, 75));    // 1/8, exactly
  EXPECT_EQ(Size(250, 150), Scaled(jpeg, 126, 75));   // 1/8 too narrow
  EXPECT_EQ(Size(250, 150), Scaled(jpeg, 125, 76));   // 1/8 too short
  EXPECT_EQ(Size(500, 300), Scaled(jpeg, 300, 0));    // one side given
  EXPECT_EQ(Size(500, 300), Scaled(jpeg, 0, 151));
  EXPECT_EQ(Size(1000, 600), Scaled(jpeg, 501, 300));  // only 1/1 covers
  EXPECT_EQ(Size(1000, 600), Scaled(jpeg, 4000, 10));  // never upscales
  // Every factor up to 1: 3/8 = 375x225, 5/8 = 625x375, 7/8 = 875x525.
  EXPECT_EQ(Size(250, 150), Scaled(jpeg, 200, 100, true));
  EXPECT_EQ(Size(375, 225), Scaled(jpeg, 300, 100, true));
  EXPECT_EQ(Size(625, 375), Scaled(jpeg, 501, 300, true));
  EXPECT_EQ(Size(875, 525), Scaled(jpeg, 751, 0, true));
  EXPECT_EQ(Size(1000, 600), Scaled(jpeg, 876, 0, true));

  // Odd sides round up: 1001x601 at 1/8 is 126x76 (125.1, 75.1).
  const std::vector<uint8_t> odd = Jpeg(SyntheticImage(1001, 601, 3));
  EXPECT_EQ(Size(126, 76), Scaled(odd, 1, 1));
  EXPECT_EQ(Size(126, 76), Scaled(odd, 126, 76));
  EXPECT_EQ(Size(251, 151), Scaled(odd, 127, 76));  // 1/4: 250.25, 150.25

  // The minimum is in output orientation: rotated 90 degrees, 600x1000.
  // 200x100 there needs 100x200 stored: 1/4 (250x150) is too short.
  const std::vector<uint8_t> rotated = WithApp1(jpeg, ExifTiffBlock(6, false));
  EXPECT_EQ(Size(150, 250), Scaled(rotated, 100, 200, false, true));
  EXPECT_EQ(Size(300, 500), Scaled(rotated, 200, 100, false, true));
  EXPECT_EQ(Size(250, 150), Scaled(rotated, 200, 100, false, false));

  // PNG is never scaled.
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(SyntheticImage(80, 40, 1), PngKind::kRgb8, &png));
  EXPECT_EQ(Size(80, 40), Scaled(png, 10, 5));
}

// A scaled decode is libjpeg's scaled decode, pixel for pixel.
TEST(DecodeScaling, PixelsMatchLibjpegScaledDecode) {
  const RgbImage image = SyntheticImage(203, 117, 9);
  Decoder decoder;
  for (JpegKind kind :
       {JpegKind::k420, JpegKind::kProgressive, JpegKind::kGray}) {
    const std::vector<uint8_t> jpeg = MakeJpeg(kind, image);
    for (unsigned denom : {1u, 2u, 4u, 8u}) {
      SCOPED_TRACE(denom);
      const Ref ref = LibjpegDecode(jpeg, JCS_RGB, denom);
      DecodeOptions o;
      o.min_width = ref.width;
      o.min_height = ref.height;
      const DecodedImage img = MustDecode(&decoder, jpeg, o);
      EXPECT_EQ(Size(ref.width, ref.height), Size(img.width, img.height));
      EXPECT_TRUE(img.pixels == ref.pixels);
    }
  }
  // CMYK scales too.
  const std::vector<uint8_t> cmyk = LibjpegKind(image, JpegColorKind::kCmyk);
  DecodeOptions o;
  o.min_width = 40;  // 1/4: 51x30
  const DecodedImage img = MustDecode(&decoder, cmyk, o);
  EXPECT_EQ(Size(51, 30), Size(img.width, img.height));
  EXPECT_TRUE(img.pixels ==
              CmykToRgbLikeOpenCv(LibjpegDecode(cmyk, JCS_CMYK, 4)).pixels);
}

// fast_dct is libjpeg's fast integer IDCT with plain upsampling.
TEST(Decode, FastDctIsLibjpegIfastWithoutFancyUpsampling) {
  const std::vector<uint8_t> jpeg = Jpeg(SyntheticImage(120, 90, 4));
  Decoder decoder;
  DecodeOptions o;
  o.fast_dct = true;
  const DecodedImage fast = MustDecode(&decoder, jpeg, o);
  const Ref ref = LibjpegDecode(jpeg, JCS_RGB, 1, true);
  EXPECT_TRUE(fast.pixels == ref.pixels);
  const DecodedImage accurate = MustDecode(&decoder, jpeg, DecodeOptions());
  EXPECT_FALSE(fast.pixels == accurate.pixels);
}

// --- EXIF orientation --------------------------------------------------------

// Every orientation, both byte orders, through each path that orients:
// YCbCr straight from TurboJPEG, gray, CMYK after conversion, PNG (eXIf).
// Expected: the generator's ApplyOrientation of the upright decode.
TEST(DecodeOrientation, MatchesApplyOrientationOfTheUprightDecode) {
  const RgbImage image = SyntheticImage(37, 22, 12);  // odd, not square
  std::vector<uint8_t> cmyk = LibjpegKind(image, JpegColorKind::kCmyk);
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(image, PngKind::kRgb8, &png));
  const std::vector<uint8_t> jpeg = Jpeg(image);
  Decoder decoder;
  for (PixelFormat format :
       {PixelFormat::kRGB, PixelFormat::kBGR, PixelFormat::kGray}) {
    for (int kind = 0; kind < 3; ++kind) {
      for (int o = 1; o <= 8; ++o) {
        for (bool big_endian : {false, true}) {
          SCOPED_TRACE(::testing::Message()
                       << "format " << static_cast<int>(format) << " kind "
                       << kind << " orientation " << o << " big endian "
                       << big_endian);
          std::vector<uint8_t> bytes;
          const std::vector<uint8_t> tiff = ExifTiffBlock(o, big_endian);
          if (kind == 0) bytes = WithApp1(jpeg, tiff);
          if (kind == 1) bytes = WithApp1(cmyk, tiff);
          if (kind == 2)
            ASSERT_OK(EncodePng(image, PngKind::kRgb8, &bytes, tiff));
          const std::vector<uint8_t>& upright_bytes = kind == 0   ? jpeg
                                                      : kind == 1 ? cmyk
                                                                  : png;
          DecodeOptions opts = Options(format);
          const DecodedImage upright =
              MustDecode(&decoder, upright_bytes, opts);
          const DecodedImage ignored = MustDecode(&decoder, bytes, opts);
          EXPECT_TRUE(ignored.pixels == upright.pixels) << "applied unasked";
          opts.apply_exif_orientation = true;
          const DecodedImage img = MustDecode(&decoder, bytes, opts);
          uint32_t w = 0, h = 0;
          const std::vector<double> expected = ApplyOrientation(
              AsRgbDouble(upright), upright.width, upright.height, o, &w, &h);
          EXPECT_EQ(Size(w, h), Size(img.width, img.height));
          EXPECT_TRUE(ToDouble(img.channels == 3
                                   ? img.pixels
                                   : Replicated(img.pixels)) == expected);
          ImageShape shape;
          ASSERT_OK(DecodedSize(bytes, opts, &shape));
          EXPECT_EQ(Size(w, h), Size(shape.width, shape.height));
        }
      }
    }
  }
}

// --- Truncated and damaged files ---------------------------------------------

// The rows (from the top) where `a` and `b` agree.
uint32_t SameTopRows(const DecodedImage& a, const std::vector<uint8_t>& b) {
  const size_t row = a.shape().row_bytes();
  uint32_t y = 0;
  while (y < a.height &&
         std::memcmp(&a.pixels[y * row], &b[y * row], row) == 0) {
    ++y;
  }
  return y;
}

TEST(DecodeTruncated, JpegCutAt60Percent) {
  const RgbImage image = SyntheticImage(160, 120, 13);
  Decoder decoder;
  for (bool progressive : {false, true}) {
    SCOPED_TRACE(progressive ? "progressive" : "baseline");
    const std::vector<uint8_t> full =
        Jpeg(image, {90, TJSAMP_420, progressive});
    const std::vector<uint8_t> cut(full.begin(),
                                   full.begin() + full.size() * 6 / 10);
    const std::vector<uint8_t> good = LibjpegDecode(full, JCS_RGB).pixels;
    for (int round = 0; round < 2; ++round) {  // no message left over
      DecodedImage img;
      const Status s = decoder.Decode(cut, DecodeOptions(), &img);
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_EQ("JPEG: Premature end of JPEG file", s.message());

      DecodeOptions warn;
      warn.truncated = TruncatedPolicy::kWarn;
      ASSERT_OK(decoder.Decode(cut, warn, &img));
      EXPECT_TRUE(img.truncated);
      EXPECT_EQ("JPEG: Premature end of JPEG file", img.warning);
      EXPECT_EQ(Size(160, 120), Size(img.width, img.height));
      // What libjpeg makes of the cut file, and what OpenCV would get.
      const Ref ref = LibjpegDecode(cut, JCS_RGB);
      EXPECT_GT(ref.warnings, 0);
      EXPECT_TRUE(img.pixels == ref.pixels);
      if (!progressive) {
        // The known-good top rows match the full file; the last row is
        // libjpeg's mid-gray fill.
        const uint32_t same = SameTopRows(img, good);
        EXPECT_GE(same, 120u * 4 / 10);
        EXPECT_LT(same, 120u);
        const size_t row = img.shape().row_bytes();
        EXPECT_TRUE(std::all_of(img.pixels.end() - row, img.pixels.end(),
                                [](uint8_t v) { return v == 128; }));
      }
      // A good file after it carries no warning.
      const DecodedImage ok = MustDecode(&decoder, full, warn);
      EXPECT_FALSE(ok.truncated);
      EXPECT_TRUE(ok.warning.empty());
      EXPECT_TRUE(ok.pixels == good);
    }
  }
}

// Cut at 60 %: kError fails; kWarn keeps the rows libpng read and fills the
// rest with 128. Without IEND every row is there but the file is still cut.
TEST(DecodeTruncated, Png) {
  const RgbImage image = SyntheticImage(90, 80, 14);
  Decoder decoder;
  DecodeOptions warn;
  warn.truncated = TruncatedPolicy::kWarn;
  for (PngKind kind :
       {PngKind::kRgb8, PngKind::kGray16, PngKind::kRgb8Interlaced}) {
    SCOPED_TRACE(static_cast<int>(kind));
    std::vector<uint8_t> png;
    RgbImage expected;
    ASSERT_OK(EncodePng(image, kind, &png, {}, &expected));
    const std::vector<uint8_t> cut(png.begin(),
                                   png.begin() + png.size() * 6 / 10);
    DecodedImage img;
    const Status s = decoder.Decode(cut, DecodeOptions(), &img);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ("PNG: the file ends early (truncated)", s.message());

    ASSERT_OK(decoder.Decode(cut, warn, &img));
    EXPECT_TRUE(img.truncated);
    EXPECT_EQ("PNG: the file ends early (truncated)", img.warning);
    ASSERT_EQ(expected.pixels.size(), img.pixels.size());
    const size_t row = img.shape().row_bytes();
    if (kind != PngKind::kRgb8Interlaced) {
      const uint32_t same = SameTopRows(img, expected.pixels);
      EXPECT_GE(same, 80u * 4 / 10);
      EXPECT_LT(same, 80u);
      EXPECT_TRUE(std::all_of(img.pixels.begin() + same * row, img.pixels.end(),
                              [](uint8_t v) { return v == 128; }));
    } else {  // the first passes' pixels are right, the rest 128
      size_t right = 0, fill = 0;
      for (size_t i = 0; i < img.pixels.size(); ++i) {
        if (img.pixels[i] == 128 && expected.pixels[i] != 128) {
          ++fill;
        } else {
          ASSERT_EQ(expected.pixels[i], img.pixels[i]) << "byte " << i;
          ++right;
        }
      }
      EXPECT_GT(right, img.pixels.size() / 8);
      EXPECT_GT(fill, img.pixels.size() / 8);
    }

    const std::vector<uint8_t> no_end(png.begin(), png.end() - 12);
    EXPECT_TRUE(decoder.Decode(no_end, DecodeOptions(), &img).IsCorruption());
    ASSERT_OK(decoder.Decode(no_end, warn, &img));
    EXPECT_TRUE(img.truncated);
    EXPECT_TRUE(img.pixels == expected.pixels);
  }
}

TEST(DecodeErrors, UnknownEmptyAndCorruptHeaders) {
  Decoder decoder;
  DecodedImage img;
  Status s = decoder.Decode(std::span<const uint8_t>(), DecodeOptions(), &img);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ("not a JPEG or PNG (empty)", s.message());
  std::vector<uint8_t> garbage(3000);
  std::mt19937 rng(3);
  for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
  garbage[0] = 0x42;
  s = decoder.Decode(garbage, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ("not a JPEG or PNG", s.message());
  ImageShape shape;
  EXPECT_TRUE(
      DecodedSize(garbage, DecodeOptions(), &shape).IsInvalidArgument());

  // JPEG magic, then garbage: a corrupt header.
  garbage[0] = 0xFF;
  garbage[1] = 0xD8;
  garbage[2] = 0xFF;
  s = decoder.Decode(garbage, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(0u, s.message().rfind("corrupt JPEG header: ", 0)) << s.message();
  EXPECT_TRUE(DecodedSize(garbage, DecodeOptions(), &shape).IsCorruption());

  // Header cut before the first scan.
  const std::vector<uint8_t> jpeg = Jpeg(SyntheticImage(40, 30, 1));
  const std::vector<uint8_t> header(jpeg.begin(), jpeg.begin() + 100);
  EXPECT_TRUE(decoder.Decode(header, DecodeOptions(), &img).IsCorruption());

  // A bad PNG IHDR CRC.
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(SyntheticImage(20, 10, 1), PngKind::kRgb8, &png));
  png[20] ^= 1;
  s = decoder.Decode(png, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ("corrupt PNG header: IHDR CRC error", s.message());

  // A bad palette CRC: libpng fails before the first row, which is
  // Corruption under either policy.
  ASSERT_OK(EncodePng(SyntheticImage(20, 10, 1), PngKind::kPalette8, &png));
  const std::string text(png.begin(), png.end());
  png[text.find("PLTE") + 10] ^= 1;
  DecodeOptions warn;
  warn.truncated = TruncatedPolicy::kWarn;
  for (const DecodeOptions& o : {DecodeOptions(), warn}) {
    s = decoder.Decode(png, o, &img);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ("PNG: PLTE: CRC error", s.message());
  }
}

// Damaged scan data: libjpeg's fatal errors are Corruption under either
// policy; its warnings are Corruption under kError only.
TEST(DecodeErrors, DamagedScanData) {
  const std::vector<uint8_t> jpeg = Jpeg(SyntheticImage(64, 64, 2));
  // Point the SOS at a component id the frame does not have.
  std::vector<uint8_t> bad_id = jpeg;
  size_t pos = 2;
  while (bad_id[pos + 1] != 0xDA)
    pos += 2 + ((bad_id[pos + 2] << 8) | bad_id[pos + 3]);
  bad_id[pos + 5] = 91;
  Decoder decoder;
  DecodedImage img;
  DecodeOptions warn;
  warn.truncated = TruncatedPolicy::kWarn;
  for (const DecodeOptions& o : {DecodeOptions(), warn}) {
    const Status s = decoder.Decode(bad_id, o, &img);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ("JPEG: Invalid component ID 91 in SOS", s.message());
  }

  // Extraneous bytes before the frame header: a libjpeg warning, every
  // pixel decoded.
  size_t sof = 2;
  while (jpeg[sof + 1] != 0xC0)
    sof += 2 + ((jpeg[sof + 2] << 8) | jpeg[sof + 3]);
  std::vector<uint8_t> extra = jpeg;
  extra.insert(extra.begin() + sof, {0x12, 0x34});
  Status s = decoder.Decode(extra, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ("JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xc0",
            s.message());
  ASSERT_OK(decoder.Decode(extra, warn, &img));
  EXPECT_TRUE(img.truncated);
  EXPECT_EQ("JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xc0",
            img.warning);
  EXPECT_TRUE(img.pixels == LibjpegDecode(jpeg, JCS_RGB).pixels);

  // Each file gets its own first warning, not one left from the last file.
  const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ("JPEG: Premature end of JPEG file",
              decoder.Decode(cut, DecodeOptions(), &img).message());
    EXPECT_EQ("JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xc0",
              decoder.Decode(extra, DecodeOptions(), &img).message());
    ASSERT_OK(decoder.Decode(cut, warn, &img));
    EXPECT_EQ("JPEG: Premature end of JPEG file", img.warning);
    ASSERT_OK(decoder.Decode(extra, warn, &img));
    EXPECT_EQ("JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xc0",
              img.warning);
  }

  // A warning, then a fatal error: Corruption under either policy, though
  // TurboJPEG reports the pair as a warning.
  std::vector<uint8_t> both = bad_id;
  both.insert(both.begin() + sof, {0x12, 0x34});
  for (const DecodeOptions& o : {DecodeOptions(), warn}) {
    s = decoder.Decode(both, o, &img);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  s = decoder.Decode(both, warn, &img);
  EXPECT_EQ("JPEG: Invalid component ID 91 in SOS", s.message());
}

// Random damage anywhere: a status every time, never a crash or an access
// out of bounds (ASan); when OK, the size DecodedSize gives.
TEST(DecodeErrors, MutatedInputsAreSafe) {
  const RgbImage image = SyntheticImage(60, 44, 8);
  std::vector<std::vector<uint8_t>> seeds = {
      Jpeg(image), Jpeg(image, {90, TJSAMP_444, true}),
      Jpeg(image, {90, TJSAMP_GRAY, false})};
  std::vector<uint8_t> png, interlaced;
  ASSERT_OK(
      EncodePng(image, PngKind::kPalette8, &png, ExifTiffBlock(6, false)));
  ASSERT_OK(EncodePng(image, PngKind::kRgb8Interlaced, &interlaced));
  seeds.push_back(png);
  seeds.push_back(interlaced);
  seeds.push_back(WithApp1(LibjpegKind(image, JpegColorKind::kYcck),
                           ExifTiffBlock(7, true)));
  std::mt19937 rng(17);
  std::map<Status::Code, int> outcomes;
  int truncated = 0;
  Decoder decoder;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 100; ++i) {
      std::vector<uint8_t> b = seed;
      for (int k = 0; k < 1 + i % 6; ++k)
        b[rng() % b.size()] = static_cast<uint8_t>(rng());
      if (i % 4 == 0) {  // cut, into a buffer of just that size for ASan
        b = std::vector<uint8_t>(b.begin(), b.begin() + rng() % b.size());
      }
      DecodeOptions o;
      o.truncated = i % 2 ? TruncatedPolicy::kWarn : TruncatedPolicy::kError;
      o.apply_exif_orientation = i % 3 == 0;
      o.pixel_format = static_cast<PixelFormat>(i % 3);
      o.min_width = i % 5 == 0 ? 20 : 0;
      DecodedImage img;
      const Status s = decoder.Decode(b, o, &img);
      ++outcomes[s.code()];
      if (s.ok()) {
        truncated += img.truncated;
        EXPECT_EQ(img.truncated, !img.warning.empty());
        if (o.truncated == TruncatedPolicy::kError) {
          EXPECT_FALSE(img.truncated);
        }
        ImageShape shape;
        ASSERT_OK(DecodedSize(b, o, &shape));
        EXPECT_EQ(Size(shape.width, shape.height), Size(img.width, img.height));
        EXPECT_EQ(shape.row_bytes() * shape.height, img.pixels.size());
      } else {
        EXPECT_TRUE(s.IsInvalidArgument() || s.IsCorruption()) << s.ToString();
      }
    }
  }
  EXPECT_GT(outcomes[Status::Code::kOk], 0);
  EXPECT_GT(outcomes[Status::Code::kCorruption], 0);
  EXPECT_GT(truncated, 0);
}

// Decompression bombs are refused from the header, before allocating.
TEST(DecodeErrors, MaxPixels) {
  std::vector<uint8_t> huge = Jpeg(SyntheticImage(40, 30, 1));
  ASSERT_TRUE(synth::ClaimJpegSize(&huge, 60000, 60000));
  Decoder decoder;
  DecodedImage img;
  Status s = decoder.Decode(huge, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ("claims 60000x60000 pixels, over max_pixels 178956970",
            s.message());
  EXPECT_EQ(0u, img.pixels.capacity());
  ImageShape shape;
  EXPECT_TRUE(DecodedSize(huge, DecodeOptions(), &shape).IsInvalidArgument());

  const std::vector<uint8_t> jpeg = Jpeg(SyntheticImage(40, 30, 1));
  DecodeOptions tight;
  tight.max_pixels = 40 * 30 - 1;
  EXPECT_TRUE(decoder.Decode(jpeg, tight, &img).IsInvalidArgument());
  tight.max_pixels = 40 * 30;
  EXPECT_OK(decoder.Decode(jpeg, tight, &img));
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(SyntheticImage(40, 30, 1), PngKind::kRgb8, &png));
  tight.max_pixels = 40 * 30 - 1;
  EXPECT_TRUE(decoder.Decode(png, tight, &img).IsInvalidArgument());
}

TEST(DecodeErrors, TooManyScansIsRefused) {
  const RgbImage image = SyntheticImage(24, 16, 4);
  std::vector<uint8_t> ok_scans, bomb;
  ASSERT_OK(EncodeJpegManyScans(image, 1, &ok_scans));  // 379 scans
  ASSERT_OK(EncodeJpegManyScans(image, 2, &bomb));      // 568 scans
  Decoder decoder;
  DecodedImage img;
  EXPECT_OK(decoder.Decode(ok_scans, DecodeOptions(), &img));
  EXPECT_TRUE(img.pixels == LibjpegDecode(ok_scans, JCS_RGB).pixels);
  const Status s = decoder.Decode(bomb, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ("JPEG with over 500 scans", s.message());
}

// --- DecodeInto
// ---------------------------------------------------------------

// Too small a buffer (or stride) is refused before anything is written; a
// padded stride leaves the padding alone; every path (direct, scratch +
// orientation, CMYK conversion, PNG) writes the same pixels as Decode.
TEST(DecodeInto, BufferChecksAndStride) {
  const RgbImage image = SyntheticImage(45, 31, 6);
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(image, PngKind::kGrayAlpha8, &png));
  const std::vector<std::vector<uint8_t>> inputs = {
      Jpeg(image), WithApp1(Jpeg(image), ExifTiffBlock(8, true)),
      LibjpegKind(image, JpegColorKind::kCmyk), png};
  Decoder decoder;
  constexpr uint8_t kSentinel = 0xA5;
  for (const auto& bytes : inputs) {
    for (PixelFormat format : {PixelFormat::kRGB, PixelFormat::kGray}) {
      DecodeOptions o = Options(format);
      o.apply_exif_orientation = true;
      const DecodedImage expected = MustDecode(&decoder, bytes, o);
      ImageShape shape;
      ASSERT_OK(DecodedSize(bytes, o, &shape));
      const size_t row = shape.row_bytes();
      ASSERT_EQ(size_t{expected.width} * expected.channels, row);
      const size_t stride = row + 7;
      const size_t need = stride * (shape.height - 1) + row;
      EXPECT_EQ(need, shape.bytes_at_stride(stride));

      // One byte short: refused, naming the size; nothing written.
      std::vector<uint8_t> buf(need + 64, kSentinel);
      DecodeInfo info;
      Status s = decoder.DecodeInto(bytes, o, std::span(buf).first(need - 1),
                                    stride, &info);
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_NE(std::string::npos,
                s.message().find("needs " + std::to_string(need) + " bytes"))
          << s.message();
      EXPECT_TRUE(std::all_of(buf.begin(), buf.end(),
                              [](uint8_t v) { return v == kSentinel; }));
      // A stride shorter than a row: refused.
      s = decoder.DecodeInto(bytes, o, buf, row - 1, &info);
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_TRUE(std::all_of(buf.begin(), buf.end(),
                              [](uint8_t v) { return v == kSentinel; }));

      // Exactly enough: the pixels, the padding and the tail untouched.
      ASSERT_OK(decoder.DecodeInto(bytes, o, std::span(buf).first(need), stride,
                                   &info));
      EXPECT_EQ(Size(expected.width, expected.height),
                Size(info.shape.width, info.shape.height));
      EXPECT_EQ(expected.channels, info.shape.channels);
      EXPECT_FALSE(info.truncated);
      for (uint32_t y = 0; y < shape.height; ++y) {
        EXPECT_EQ(0,
                  std::memcmp(&buf[y * stride], &expected.pixels[y * row], row))
            << "row " << y;
        if (y + 1 < shape.height) {
          EXPECT_TRUE(std::all_of(&buf[y * stride + row],
                                  &buf[(y + 1) * stride],
                                  [](uint8_t v) { return v == kSentinel; }))
              << "padding of row " << y;
        }
      }
      EXPECT_TRUE(std::all_of(buf.begin() + need, buf.end(),
                              [](uint8_t v) { return v == kSentinel; }));
    }
  }
}

// Under kWarn, DecodeInto reports the truncation, and the rows the file no
// longer holds are the fill, whatever the buffer held before.
TEST(DecodeInto, TruncatedReportsAndFills) {
  const std::vector<uint8_t> full = Jpeg(SyntheticImage(64, 64, 7));
  const std::vector<uint8_t> cut(full.begin(), full.begin() + full.size() / 2);
  DecodeOptions warn;
  warn.truncated = TruncatedPolicy::kWarn;
  Decoder decoder;
  std::vector<uint8_t> buf(64 * 64 * 3, 0x11);
  DecodeInfo info;
  ASSERT_OK(decoder.DecodeInto(cut, warn, buf, 64 * 3, &info));
  EXPECT_TRUE(info.truncated);
  EXPECT_EQ("JPEG: Premature end of JPEG file", info.warning);
  EXPECT_TRUE(buf == LibjpegDecode(cut, JCS_RGB).pixels);
}

// --- PNG
// ------------------------------------------------------------------------

// Every colour type: what OpenCV's imdecode gives (the generator's
// `expected`), in each pixel format.
TEST(DecodePng, EveryKind) {
  const RgbImage image = SyntheticImage(57, 33, 15);
  Decoder decoder;
  for (PngKind kind :
       {PngKind::kRgb8, PngKind::kRgba8, PngKind::kGray8, PngKind::kGrayAlpha8,
        PngKind::kPalette8, PngKind::kRgb16, PngKind::kGray16,
        PngKind::kRgb8Interlaced}) {
    SCOPED_TRACE(static_cast<int>(kind));
    std::vector<uint8_t> png;
    RgbImage expected;
    ASSERT_OK(EncodePng(image, kind, &png, {}, &expected));
    const DecodedImage rgb =
        MustDecode(&decoder, png, Options(PixelFormat::kRGB));
    EXPECT_EQ(Size(57, 33), Size(rgb.width, rgb.height));
    EXPECT_EQ(3, rgb.channels);
    EXPECT_TRUE(rgb.pixels == expected.pixels);
    const DecodedImage bgr =
        MustDecode(&decoder, png, Options(PixelFormat::kBGR));
    EXPECT_TRUE(bgr.pixels == Swapped(expected.pixels));
    const DecodedImage gray =
        MustDecode(&decoder, png, Options(PixelFormat::kGray));
    EXPECT_EQ(1, gray.channels);
    const bool gray_png = kind == PngKind::kGray8 ||
                          kind == PngKind::kGrayAlpha8 ||
                          kind == PngKind::kGray16;
    if (gray_png) {
      EXPECT_TRUE(Replicated(gray.pixels) == expected.pixels);
    } else {
      EXPECT_LE(LumaErrors(gray.pixels, expected.pixels).max, 1);
    }
  }
}

// --- Stored images
// --------------------------------------------------------------

// Decoding an ImageView read back from a store (pinned, unaligned bytes):
// the same pixels, and errors and warnings that name the image.
TEST(DecodeView, NamesTheImage) {
  testing::TempDir dir;
  testing::SampleSpec spec;
  spec.examples = {3, 0, 0};
  testing::SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("store"), spec, &sample));
  const std::vector<uint64_t> ids = sample.Ids(Split::kTrain);
  ASSERT_EQ(3u, ids.size());
  const std::vector<uint8_t> good = Jpeg(SyntheticImage(50, 40, 2));
  const std::vector<uint8_t> cut(good.begin(), good.begin() + good.size() / 2);
  const std::vector<uint8_t> garbage = {0xFF, 0xD8, 0xFF, 0x00, 0x01};
  {
    std::unique_ptr<Writer> writer;
    ASSERT_OK(Writer::Open(sample.path, WriterOptions(), &writer));
    ASSERT_OK(writer->BeginConfig(Config::k300k));
    Batch batch;
    ASSERT_OK(batch.AddImage(Config::k300k, Split::kTrain, ids[0], good,
                             {50, 40, ImageFormat::kJpeg}));
    ASSERT_OK(batch.AddImage(Config::k300k, Split::kTrain, ids[1], cut,
                             {50, 40, ImageFormat::kJpeg}));
    ASSERT_OK(batch.AddImage(Config::k300k, Split::kTrain, ids[2], garbage,
                             {1, 1, ImageFormat::kJpeg}));
    ASSERT_OK(writer->Write(batch));
    ASSERT_OK(writer->CommitConfig(Config::k300k));
  }
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  auto name = [&](uint64_t id) {
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx",
                  static_cast<unsigned long long>(id));
    return std::string("300k image train/") + hex + ": ";
  };
  Decoder decoder;
  DecodedImage img;
  ImageView view;

  ASSERT_OK(store->GetImage(Config::k300k, Split::kTrain, ids[0], &view));
  ASSERT_OK(decoder.Decode(view, DecodeOptions(), &img));
  EXPECT_TRUE(img.pixels == LibjpegDecode(good, JCS_RGB).pixels);
  ImageShape shape;
  ASSERT_OK(DecodedSize(view, DecodeOptions(), &shape));
  EXPECT_EQ(Size(50, 40), Size(shape.width, shape.height));
  std::vector<uint8_t> buf(50 * 40 * 3);
  DecodeInfo info;
  ASSERT_OK(decoder.DecodeInto(view, DecodeOptions(), buf, 150, &info));
  EXPECT_TRUE(buf == img.pixels);
  Status s = decoder.DecodeInto(view, DecodeOptions(),
                                std::span(buf).first(100), 150, &info);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(0u, s.message().rfind(name(ids[0]) + "DecodeInto: ", 0))
      << s.message();

  ASSERT_OK(store->GetImage(Config::k300k, Split::kTrain, ids[1], &view));
  s = decoder.Decode(view, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(name(ids[1]) + "JPEG: Premature end of JPEG file", s.message());
  DecodeOptions warn;
  warn.truncated = TruncatedPolicy::kWarn;
  ASSERT_OK(decoder.Decode(view, warn, &img));
  EXPECT_TRUE(img.truncated);
  EXPECT_EQ(name(ids[1]) + "JPEG: Premature end of JPEG file", img.warning);
  ASSERT_OK(decoder.DecodeInto(view, warn, buf, 150, &info));
  EXPECT_EQ(name(ids[1]) + "JPEG: Premature end of JPEG file", info.warning);

  ASSERT_OK(store->GetImage(Config::k300k, Split::kTrain, ids[2], &view));
  s = decoder.Decode(view, DecodeOptions(), &img);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(0u, s.message().rfind(name(ids[2]) + "corrupt JPEG header: ", 0))
      << s.message();
  s = DecodedSize(view, DecodeOptions(), &shape);
  EXPECT_EQ(0u, s.message().rfind(name(ids[2]), 0)) << s.message();

  ImageView empty;
  EXPECT_TRUE(decoder.Decode(empty, DecodeOptions(), &img).IsInvalidArgument());
  EXPECT_TRUE(DecodedSize(empty, DecodeOptions(), &shape).IsInvalidArgument());
}

// One Decoder serves images of any kind and size in turn, with the pixels a
// fresh one gives.
TEST(Decode, ReuseGivesSamePixels) {
  const RgbImage a = SyntheticImage(70, 50, 1), b = SyntheticImage(33, 90, 2);
  std::vector<uint8_t> png;
  ASSERT_OK(EncodePng(b, PngKind::kPalette8, &png, ExifTiffBlock(5, false)));
  const std::vector<std::vector<uint8_t>> inputs = {
      Jpeg(a), LibjpegKind(b, JpegColorKind::kYcck),
      WithApp1(Jpeg(b, {80, TJSAMP_444, true}), ExifTiffBlock(6, true)), png,
      Jpeg(a)};
  Decoder reused;
  DecodeOptions o;
  o.apply_exif_orientation = true;
  for (const auto& bytes : inputs) {
    Decoder fresh;
    const DecodedImage x = MustDecode(&reused, bytes, o);
    const DecodedImage y = MustDecode(&fresh, bytes, o);
    EXPECT_EQ(Size(x.width, x.height), Size(y.width, y.height));
    EXPECT_TRUE(x.pixels == y.pixels);
  }
}

// libjpeg keeps the tables of the images a decompressor read and uses them
// for a later image that lacks its own (an "abbreviated" JPEG). A Decoder
// must not: what it gives for an image cannot depend on the images it
// decoded before (found by tests/fuzz/decoder_fuzz: a JPEG without
// quantization tables, after a progressive one, decoded under kWarn to
// pixels that differed from call to call).
TEST(Decode, ReusedDecoderUsesNoTablesOfEarlierImages) {
  const std::vector<uint8_t> baseline = Jpeg(SyntheticImage(64, 48, 1));
  const std::vector<uint8_t> progressive = Jpeg(SyntheticImage(40, 30, 2), {85, 2, true});
  const std::vector<uint8_t> no_dqt = testing::JpegWithoutSegments(baseline, 0xDB);
  const std::vector<uint8_t> no_dht = testing::JpegWithoutSegments(baseline, 0xC4);
  ASSERT_LT(no_dqt.size(), baseline.size());
  ASSERT_LT(no_dht.size(), baseline.size());
  int checked = 0;
  for (TruncatedPolicy policy : kAllTruncatedPolicies) {
    DecodeOptions o;
    o.truncated = policy;
    // No quantization table: refused as libjpeg refuses it, whatever came
    // before.
    for (const auto* before : {&baseline, &progressive}) {
      Decoder reused;
      DecodedImage img;
      ASSERT_OK(reused.Decode(*before, o, &img));
      const Status s = reused.Decode(no_dqt, o, &img);
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.ToString().find("Quantization table 0x00 was not defined"), std::string::npos)
          << s.ToString();
      ++checked;
    }
    // No Huffman table: libjpeg's standard tables (as for Motion-JPEG), the
    // pixels a fresh Decoder gives, not those of the progressive file's.
    Decoder fresh, reused;
    DecodedImage a, b;
    const Status fresh_status = fresh.Decode(no_dht, o, &a);
    ASSERT_OK(reused.Decode(progressive, o, &b));
    const Status reused_status = reused.Decode(no_dht, o, &b);
    EXPECT_EQ(fresh_status.ToString(), reused_status.ToString());
    if (fresh_status.ok() && reused_status.ok()) EXPECT_TRUE(a.pixels == b.pixels);
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(Decode, Channels) {
  EXPECT_EQ(3, Channels(PixelFormat::kRGB));
  EXPECT_EQ(3, Channels(PixelFormat::kBGR));
  EXPECT_EQ(1, Channels(PixelFormat::kGray));
}

}  // namespace
}  // namespace oiv4kv
