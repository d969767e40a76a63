#include "store/core/image_probe.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "store/testing/sample_images.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

constexpr uint64_t kMaxPixels = 178'956'970;

class ImageProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image_ = new RgbImage(SyntheticImage(96, 64, 7));
  }
  static void TearDownTestSuite() {
    delete image_;
    image_ = nullptr;
  }
  static std::vector<uint8_t> Jpeg(JpegSpec spec = {}) {
    std::vector<uint8_t> out;
    EXPECT_OK(EncodeJpeg(*image_, spec, &out));
    return out;
  }
  static std::vector<uint8_t> Png(PngKind kind,
                                  std::span<const uint8_t> exif = {}) {
    std::vector<uint8_t> out;
    EXPECT_OK(EncodePng(*image_, kind, &out, exif));
    return out;
  }
  static ImageProbe ProbeOk(std::span<const uint8_t> bytes) {
    ImageProbe p;
    const Status s = ProbeImage(bytes, kMaxPixels, &p);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return p;
  }
  static std::string ProbeError(std::span<const uint8_t> bytes,
                                uint64_t max_pixels = kMaxPixels) {
    ImageProbe p;
    const Status s = ProbeImage(bytes, max_pixels, &p);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    return s.message();
  }
  static RgbImage* image_;
};
RgbImage* ImageProbeTest::image_ = nullptr;

// Offset of the first marker `code` (FF code) after SOI, found by walking
// the segments.
size_t FindMarker(const std::vector<uint8_t>& jpeg, uint8_t code) {
  size_t pos = 2;
  while (pos + 4 <= jpeg.size()) {
    if (jpeg[pos] != 0xFF) return std::string::npos;
    if (jpeg[pos + 1] == code) return pos;
    pos += 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
  }
  return std::string::npos;
}

void PatchSofDims(std::vector<uint8_t>* jpeg, uint8_t sof, uint32_t width,
                  uint32_t height) {
  const size_t at = FindMarker(*jpeg, sof);
  ASSERT_NE(std::string::npos, at);
  (*jpeg)[at + 5] = static_cast<uint8_t>(height >> 8);
  (*jpeg)[at + 6] = static_cast<uint8_t>(height);
  (*jpeg)[at + 7] = static_cast<uint8_t>(width >> 8);
  (*jpeg)[at + 8] = static_cast<uint8_t>(width);
}

void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Rewrites the IHDR dimensions and its CRC, as a lying encoder would.
void PatchIhdrDims(std::vector<uint8_t>* png, uint32_t width, uint32_t height) {
  PutBe32(&(*png)[16], width);
  PutBe32(&(*png)[20], height);
  PutBe32(&(*png)[29], static_cast<uint32_t>(crc32(0, &(*png)[12], 17)));
}

TEST_F(ImageProbeTest, JpegVariants) {
  for (int subsamp : {0, 1, 2, 3, 4}) {
    for (bool progressive : {false, true}) {
      const ImageProbe p = ProbeOk(Jpeg({90, subsamp, progressive}));
      EXPECT_EQ(ImageFormat::kJpeg, p.format);
      EXPECT_EQ(96u, p.width);
      EXPECT_EQ(64u, p.height);
      EXPECT_EQ(1, p.exif_orientation);
      EXPECT_EQ(subsamp == 3 ? 1 : 3, p.components);
    }
  }
  for (JpegColorKind kind :
       {JpegColorKind::kRgb, JpegColorKind::kCmyk, JpegColorKind::kYcck,
        JpegColorKind::kOddSampling}) {
    std::vector<uint8_t> jpeg;
    ASSERT_OK(EncodeJpegLibjpeg(*image_, kind, 85, &jpeg));
    const ImageProbe p = ProbeOk(jpeg);
    EXPECT_EQ(96u, p.width);
    EXPECT_EQ(64u, p.height);
    const bool four =
        kind == JpegColorKind::kCmyk || kind == JpegColorKind::kYcck;
    EXPECT_EQ(four ? 4 : 3, p.components);
  }
}

TEST_F(ImageProbeTest, ExifOrientationBothByteOrders) {
  const std::vector<uint8_t> jpeg = Jpeg();
  for (bool big_endian : {false, true}) {
    for (int o = 1; o <= 8; ++o) {
      const ImageProbe p =
          ProbeOk(WithApp1(jpeg, ExifTiffBlock(o, big_endian)));
      EXPECT_EQ(o, p.exif_orientation) << "big_endian=" << big_endian;
      EXPECT_EQ(96u, p.width);  // the stored size, before orientation
    }
  }
}

TEST_F(ImageProbeTest, OnlyTheFirstApp1IsRead) {
  // OpenCV parses the first APP1 whatever it holds: XMP before EXIF hides it.
  const std::vector<uint8_t> with_exif =
      WithApp1(Jpeg(), ExifTiffBlock(6, false));
  const std::string xmp("p://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>", 38);
  const std::vector<uint8_t> xmp_first = WithApp1(
      with_exif, {reinterpret_cast<const uint8_t*>(xmp.data()), xmp.size()});
  EXPECT_EQ(6, ProbeOk(with_exif).exif_orientation);
  EXPECT_EQ(1, ProbeOk(xmp_first).exif_orientation);
}

TEST_F(ImageProbeTest, ExifOrientationEdgeCases) {
  // Out of range values leave the image as is.
  EXPECT_EQ(1, ExifOrientation(ExifTiffBlock(0, false)));
  EXPECT_EQ(1, ExifOrientation(ExifTiffBlock(9, true)));
  // No TIFF mark, empty, too short.
  std::vector<uint8_t> tiff = ExifTiffBlock(3, false);
  EXPECT_EQ(3, ExifOrientation(tiff));
  EXPECT_EQ(1, ExifOrientation({}));
  EXPECT_EQ(1, ExifOrientation(std::span(tiff).first(7)));
  std::vector<uint8_t> bad_mark = tiff;
  bad_mark[2] = 0x2B;
  EXPECT_EQ(1, ExifOrientation(bad_mark));
  // The Make string before Orientation points outside the block: OpenCV
  // stops there and never sees the orientation.
  std::vector<uint8_t> bad_make = tiff;
  bad_make[8 + 2 + 8] =
      0xF0;  // low byte of the Make data offset (little-endian)
  bad_make[8 + 2 + 9] = 0xFF;
  EXPECT_EQ(1, ExifOrientation(bad_make));
  // The XResolution after it pointing outside does not matter.
  std::vector<uint8_t> bad_res = tiff;
  bad_res[8 + 2 + 24 + 8] = 0xF0;
  bad_res[8 + 2 + 24 + 9] = 0xFF;
  EXPECT_EQ(3, ExifOrientation(bad_res));
  // An entry count running past the end still yields what came before.
  std::vector<uint8_t> many = tiff;
  many[8] = 0xFF;
  EXPECT_EQ(3, ExifOrientation(many));
  // Every truncation is safe. The block is: header [0,8), IFD count [8,10),
  // Make [10,22), Orientation [22,34), XResolution [34,46), next IFD
  // [46,50), Make's 12 bytes [50,62), the rational [62,70). OpenCV reads
  // Make's data before it reaches Orientation, so the orientation needs the
  // block up to byte 62.
  ASSERT_EQ(70u, tiff.size());
  for (size_t n = 0; n <= tiff.size(); ++n) {
    EXPECT_EQ(n >= 62 ? 3 : 1, ExifOrientation(std::span(tiff).first(n))) << n;
  }
}

TEST_F(ImageProbeTest, PngKinds) {
  for (PngKind kind :
       {PngKind::kRgb8, PngKind::kRgba8, PngKind::kGray8, PngKind::kGrayAlpha8,
        PngKind::kPalette8, PngKind::kRgb16, PngKind::kGray16,
        PngKind::kRgb8Interlaced}) {
    const ImageProbe p = ProbeOk(Png(kind));
    EXPECT_EQ(ImageFormat::kPng, p.format);
    EXPECT_EQ(96u, p.width);
    EXPECT_EQ(64u, p.height);
    EXPECT_EQ(1, p.exif_orientation);
    EXPECT_EQ(0, p.components);
  }
}

TEST_F(ImageProbeTest, PngExif) {
  EXPECT_EQ(
      5, ProbeOk(Png(PngKind::kRgb8, ExifTiffBlock(5, true))).exif_orientation);
  // libpng 1.6.39 writes eXIf both before and after IDAT. It drops a chunk
  // with a bad CRC; OpenCV reads info_ptr's eXIf, else end_info's.
  const std::vector<uint8_t> png = Png(PngKind::kRgb8, ExifTiffBlock(5, false));
  const std::string bytes(png.begin(), png.end());
  const size_t first = bytes.find("eXIf"),
               second = bytes.find("eXIf", first + 1);
  ASSERT_NE(std::string::npos, second);
  ASSERT_LT(first, bytes.find("IDAT"));
  ASSERT_GT(second, bytes.find("IDAT"));
  auto damaged = [&](std::initializer_list<size_t> chunks) {
    std::vector<uint8_t> b = png;
    for (size_t at : chunks)
      b[at + 4 + 10] ^= 0x01;  // inside the IFD: the CRC no longer matches
    return b;
  };
  EXPECT_EQ(5,
            ProbeOk(damaged({first})).exif_orientation);  // the one after IDAT
  EXPECT_EQ(5, ProbeOk(damaged({second})).exif_orientation);  // the one before
  EXPECT_EQ(1, ProbeOk(damaged({first, second})).exif_orientation);
}

TEST_F(ImageProbeTest, NotAnImage) {
  EXPECT_EQ("not a JPEG or PNG (empty)", ProbeError({}));
  std::mt19937 rng(3);
  std::vector<uint8_t> garbage(1000);
  for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
  garbage[0] = 'G';  // no chance of a magic number
  EXPECT_EQ("not a JPEG or PNG", ProbeError(garbage));
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  EXPECT_EQ(
      "not a JPEG or PNG",
      ProbeError({reinterpret_cast<const uint8_t*>(gif.data()), gif.size()}));
  // Two bytes of JPEG magic are not enough (OpenCV wants FF D8 FF).
  const std::vector<uint8_t> soi_only = {0xFF, 0xD8};
  EXPECT_EQ("not a JPEG or PNG", ProbeError(soi_only));
}

TEST_F(ImageProbeTest, HugeClaimedDimensions) {
  std::vector<uint8_t> jpeg = Jpeg();
  PatchSofDims(&jpeg, 0xC0, 60000, 60000);
  EXPECT_EQ("claims 60000x60000 pixels, over --max-pixels 178956970",
            ProbeError(jpeg));
  std::vector<uint8_t> progressive = Jpeg({90, 2, true});
  PatchSofDims(&progressive, 0xC2, 65535, 65535);
  EXPECT_EQ("claims 65535x65535 pixels, over --max-pixels 178956970",
            ProbeError(progressive));
  std::vector<uint8_t> png = Png(PngKind::kRgb8);
  PatchIhdrDims(&png, 60000, 60000);
  EXPECT_EQ("claims 60000x60000 pixels, over --max-pixels 178956970",
            ProbeError(png));
  // The limit is inclusive.
  ImageProbe p;
  EXPECT_OK(ProbeImage(Jpeg(), 96 * 64, &p));
  EXPECT_EQ("claims 96x64 pixels, over --max-pixels 6143",
            ProbeError(Jpeg(), 96 * 64 - 1));
}

TEST_F(ImageProbeTest, CorruptJpegHeaders) {
  const std::vector<uint8_t> jpeg = Jpeg();
  const size_t sof = FindMarker(jpeg, 0xC0), sos = FindMarker(jpeg, 0xDA);
  ASSERT_NE(std::string::npos, sof);
  ASSERT_NE(std::string::npos, sos);
  auto cut = [&](size_t n) {
    return std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + n);
  };
  EXPECT_NE(std::string::npos,
            ProbeError(cut(20)).find("ends before the frame header"));
  EXPECT_NE(std::string::npos,
            ProbeError(cut(sos)).find("ends before the first scan"));
  EXPECT_NE(std::string::npos,
            ProbeError(cut(sof + 6)).find("truncated frame header"));
  // A cut after the SOS header leaves the headers whole: the probe is fine
  // (the decoder reports the missing image).
  EXPECT_EQ(96u, ProbeOk(cut(sos + 14)).width);
  EXPECT_EQ(96u, ProbeOk(cut(jpeg.size() / 2)).width);

  std::vector<uint8_t> zero = jpeg;
  PatchSofDims(&zero, 0xC0, 0, 64);
  EXPECT_NE(std::string::npos, ProbeError(zero).find("empty image (0x64"));
  std::vector<uint8_t> bad_length = jpeg;
  bad_length[sof + 3] = 1;
  EXPECT_NE(std::string::npos,
            ProbeError(bad_length).find("corrupt JPEG header"));
  std::vector<uint8_t> no_sof = jpeg;
  no_sof[sof + 1] = 0xC4;  // the SOF becomes a (bogus) DHT
  EXPECT_NE(std::string::npos,
            ProbeError(no_sof).find("scan (SOS) before the frame header"));
  std::vector<uint8_t> early_eoi = cut(sof);
  early_eoi.insert(early_eoi.end(), {0xFF, 0xD9});
  EXPECT_NE(std::string::npos,
            ProbeError(early_eoi).find("EOI before the first scan"));
}

TEST_F(ImageProbeTest, CorruptPngHeaders) {
  const std::vector<uint8_t> png = Png(PngKind::kRgb8);
  std::vector<uint8_t> bad_crc = png;
  bad_crc[20] ^= 1;  // height, without fixing the CRC
  EXPECT_EQ("corrupt PNG header: IHDR CRC error", ProbeError(bad_crc));
  std::vector<uint8_t> zero = png;
  PatchIhdrDims(&zero, 0, 10);
  EXPECT_NE(std::string::npos,
            ProbeError(zero).find("invalid dimensions 0x10"));
  std::vector<uint8_t> bad_depth = png;
  bad_depth[24] = 3;  // RGB at 3 bits
  PutBe32(&bad_depth[29], static_cast<uint32_t>(crc32(0, &bad_depth[12], 17)));
  EXPECT_NE(std::string::npos, ProbeError(bad_depth).find("invalid IHDR"));
  EXPECT_NE(std::string::npos,
            ProbeError(std::vector<uint8_t>(png.begin(), png.begin() + 40))
                .find("no image data"));
  EXPECT_NE(std::string::npos,
            ProbeError(std::vector<uint8_t>(png.begin(), png.begin() + 20))
                .find("IHDR"));
}

// Whatever the bytes, the probe returns OK or InvalidArgument and reads
// nothing out of bounds (ASan checks the latter).
TEST_F(ImageProbeTest, MutatedHeadersAreSafe) {
  std::mt19937 rng(11);
  const std::vector<std::vector<uint8_t>> seeds = {
      Jpeg(), Jpeg({90, 0, true}), WithApp1(Jpeg(), ExifTiffBlock(6, true)),
      Png(PngKind::kPalette8, ExifTiffBlock(2, false))};
  int ok = 0, rejected = 0;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 400; ++i) {
      std::vector<uint8_t> b = seed;
      const size_t header = std::min<size_t>(b.size(), 700);
      for (int k = 0; k < 1 + i % 4; ++k)
        b[rng() % header] = static_cast<uint8_t>(rng());
      if (i % 3 == 0) b.resize(rng() % header);
      ImageProbe p;
      const Status s = ProbeImage(b, kMaxPixels, &p);
      ASSERT_TRUE(s.ok() || s.IsInvalidArgument()) << s.ToString();
      if (s.ok()) {
        ++ok;
        EXPECT_GE(p.exif_orientation, 1);
        EXPECT_LE(p.exif_orientation, 8);
        EXPECT_LE(uint64_t{p.width} * p.height, kMaxPixels);
        EXPECT_GT(p.width, 0u);
      } else {
        ++rejected;
      }
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace oiv4kv
