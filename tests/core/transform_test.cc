// The Loader's geometry (oiv4kv/transform.h): TransformRng against its
// documented formula, each TransformKind against hand-computed records and
// torchvision's rules, and boxes against a reference written here from the
// record (fractions along the crop, clipped with min/max, area by hand).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "oiv4kv/transform.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

// The generator as loader.h documents it, written again here.
uint64_t RefMix(uint64_t z) {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z;
}
struct RefRng {
  uint64_t key;
  uint64_t k = 0;
  RefRng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream)
      : key(RefMix(RefMix(RefMix(seed) ^ epoch) ^ index) ^ RefMix(stream)) {}
  uint64_t Next() {
    ++k;
    return RefMix(key + k * 0x9e3779b97f4a7c15ULL);
  }
  double Uniform() { return std::ldexp(static_cast<double>(Next() >> 11), -53); }
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(std::floor(Uniform() * n)); }
};

TEST(TransformRngTest, FollowsTheDocumentedFormula) {
  int checked = 0;
  for (uint64_t index = 0; index < 50; ++index) {
    TransformRng rng(7, 3, index, TransformRng::kCropStream);
    RefRng ref(7, 3, index, 1);
    EXPECT_EQ(rng.Next(), ref.Next());
    EXPECT_EQ(rng.Uniform(), ref.Uniform());
    EXPECT_EQ(rng.Below(1000), ref.Below(1000));
    checked += 3;
  }
  EXPECT_EQ(checked, 150);
  // Streams, epochs and indices give different sequences.
  EXPECT_NE(TransformRng(7, 3, 0, 1).Next(), TransformRng(7, 3, 0, 2).Next());
  EXPECT_NE(TransformRng(7, 3, 0, 1).Next(), TransformRng(7, 4, 0, 1).Next());
  EXPECT_NE(TransformRng(7, 3, 0, 1).Next(), TransformRng(7, 3, 1, 1).Next());
}

TransformOptions Rrc(double scale_lo, double scale_hi, double ratio_lo, double ratio_hi) {
  TransformOptions o;
  o.kind = TransformKind::kRandomResizedCrop;
  o.scale = {scale_lo, scale_hi};
  o.ratio = {ratio_lo, ratio_hi};
  o.flip_probability = 0;
  return o;
}

TEST(PlanTransformTest, RandomResizedCropWholeImage) {
  int checked = 0;
  for (uint64_t index = 0; index < 100; ++index) {
    TransformRecord r;
    ASSERT_OK(PlanTransform(Rrc(1, 1, 1, 1), 100, 100, {}, 5, 0, index, &r));
    EXPECT_EQ(r.crop_x, 0);
    EXPECT_EQ(r.crop_y, 0);
    EXPECT_EQ(r.crop_width, 100);
    EXPECT_EQ(r.crop_height, 100);
    EXPECT_EQ(r.content_width, 224u);
    EXPECT_EQ(r.width, 224u);
    EXPECT_FALSE(r.flip);
    ++checked;
  }
  EXPECT_EQ(checked, 100);
}

TEST(PlanTransformTest, RandomResizedCropDrawsInTorchvisionsOrder) {
  // 200 x 100, area fraction 0.25, ratio 1: w = h = round(sqrt(5000)) = 71,
  // accepted at the first draw; then top ~ Below(100 - 71 + 1), left ~
  // Below(200 - 71 + 1), after the two draws of area and ratio.
  int checked = 0;
  for (uint64_t index = 0; index < 100; ++index) {
    TransformRecord r;
    ASSERT_OK(PlanTransform(Rrc(0.25, 0.25, 1, 1), 200, 100, {}, 9, 2, index, &r));
    RefRng ref(9, 2, index, 1);
    ref.Next();
    ref.Next();
    const double top = static_cast<double>(ref.Below(30));
    const double left = static_cast<double>(ref.Below(130));
    EXPECT_EQ(r.crop_width, 71);
    EXPECT_EQ(r.crop_height, 71);
    EXPECT_EQ(r.crop_y, top);
    EXPECT_EQ(r.crop_x, left);
    ++checked;
  }
  EXPECT_EQ(checked, 100);
}

TEST(PlanTransformTest, RandomResizedCropFallsBackToTheClampedCenterCrop) {
  // 10 x 1000 with ratio in [3/4, 4/3]: a crop of at least 8% of the area
  // (800 px) is at least 24 px wide, so all 10 draws fail; the fallback:
  // in_ratio 0.01 < 3/4 -> w = 10, h = round(10 / 0.75) = 13,
  // top = (1000 - 13) // 2 = 493. Transposed: 1000 x 10 -> w = 13, left 493.
  int checked = 0;
  for (uint64_t index = 0; index < 100; ++index) {
    TransformRecord tall, wide;
    ASSERT_OK(PlanTransform(Rrc(0.08, 1, 0.75, 4.0 / 3), 10, 1000, {}, 1, 0, index, &tall));
    EXPECT_EQ(tall.crop_x, 0);
    EXPECT_EQ(tall.crop_y, 493);
    EXPECT_EQ(tall.crop_width, 10);
    EXPECT_EQ(tall.crop_height, 13);
    ASSERT_OK(PlanTransform(Rrc(0.08, 1, 0.75, 4.0 / 3), 1000, 10, {}, 1, 0, index, &wide));
    EXPECT_EQ(wide.crop_x, 493);
    EXPECT_EQ(wide.crop_y, 0);
    EXPECT_EQ(wide.crop_width, 13);
    EXPECT_EQ(wide.crop_height, 10);
    checked += 2;
  }
  EXPECT_EQ(checked, 200);
}

TEST(PlanTransformTest, RandomResizedCropStaysInItsRanges) {
  // torchvision's defaults on 640 x 480: integer crops inside the image,
  // area fraction in [0.08, 1] and ratio in [3/4, 4/3] up to the rounding of
  // w and h (half a pixel each).
  const TransformOptions o = Rrc(0.08, 1, 0.75, 4.0 / 3);
  int checked = 0;
  for (uint64_t index = 0; index < 2000; ++index) {
    TransformRecord r;
    ASSERT_OK(PlanTransform(o, 640, 480, {}, 11, 1, index, &r));
    ASSERT_EQ(r.crop_x, std::floor(r.crop_x));
    ASSERT_EQ(r.crop_width, std::floor(r.crop_width));
    ASSERT_GE(r.crop_x, 0);
    ASSERT_GE(r.crop_y, 0);
    ASSERT_LE(r.crop_x + r.crop_width, 640);
    ASSERT_LE(r.crop_y + r.crop_height, 480);
    const double w = r.crop_width, h = r.crop_height;
    EXPECT_GE((w + 0.5) * (h + 0.5), 0.08 * 640 * 480);
    EXPECT_LE((w - 0.5) / (h + 0.5), 4.0 / 3 + 1e-9);
    EXPECT_GE((w + 0.5) / (h - 0.5), 0.75 - 1e-9);
    ++checked;
  }
  EXPECT_EQ(checked, 2000);
  // The same (seed, epoch, index) gives the same record; another epoch not.
  TransformRecord a, b, c;
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 11, 1, 5, &a));
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 11, 1, 5, &b));
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 11, 2, 5, &c));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(PlanTransformTest, CenterCropAfterResizeShorterSide) {
  // 640 x 480 -> Resize(256): 341 x 256 (int(256 * 640 / 480) = 341), then
  // CenterCrop(224): top round(16.0) = 16, left round(58.5) = 58.
  TransformOptions o;
  o.kind = TransformKind::kCenterCrop;
  o.flip_probability = 0;
  TransformRecord r;
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 0, 0, 0, &r));
  EXPECT_DOUBLE_EQ(r.crop_x, 58 * 640.0 / 341);
  EXPECT_DOUBLE_EQ(r.crop_y, 16 * 480.0 / 256);
  EXPECT_DOUBLE_EQ(r.crop_width, 224 * 640.0 / 341);
  EXPECT_DOUBLE_EQ(r.crop_height, 224 * 480.0 / 256);
  EXPECT_EQ(r.content_width, 224u);
  EXPECT_EQ(r.pad_x, 0);
  // Portrait, resize_shorter given: 300 x 500 -> 250 x 416 (int(416.67)),
  // crop 200 x 200: top round(108.0) = 108, left round(25.0) = 25.
  o.resize_shorter = 250;
  o.width = o.height = 200;
  ASSERT_OK(PlanTransform(o, 300, 500, {}, 0, 0, 0, &r));
  EXPECT_DOUBLE_EQ(r.crop_x, 25 * 300.0 / 250);
  EXPECT_DOUBLE_EQ(r.crop_y, 108 * 500.0 / 416);
  EXPECT_DOUBLE_EQ(r.crop_width, 200 * 300.0 / 250);
  EXPECT_DOUBLE_EQ(r.crop_height, 200 * 500.0 / 416);
}

TEST(PlanTransformTest, ResizeAndLetterbox) {
  TransformOptions o;
  o.kind = TransformKind::kResize;
  o.flip_probability = 0;
  TransformRecord r;
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 0, 0, 0, &r));
  EXPECT_EQ(r.crop_width, 640);
  EXPECT_EQ(r.crop_height, 480);
  EXPECT_EQ(r.content_width, 224u);
  EXPECT_EQ(r.content_height, 224u);

  // 640 x 480 on 640 x 640: scale 1, content 640 x 480, 80 rows of pad above.
  o.kind = TransformKind::kLetterbox;
  o.width = o.height = 640;
  ASSERT_OK(PlanTransform(o, 640, 480, {}, 0, 0, 0, &r));
  EXPECT_EQ(r.crop_x, 0);
  EXPECT_EQ(r.crop_width, 640);
  EXPECT_EQ(r.crop_height, 480);
  EXPECT_EQ(r.content_width, 640u);
  EXPECT_EQ(r.content_height, 480u);
  EXPECT_EQ(r.pad_x, 0);
  EXPECT_EQ(r.pad_y, 80);
  // 300 x 600 on 640 x 640: scale 640 / 600, content round(320) x 640, pad 160.
  ASSERT_OK(PlanTransform(o, 300, 600, {}, 0, 0, 0, &r));
  EXPECT_EQ(r.content_width, 320u);
  EXPECT_EQ(r.content_height, 640u);
  EXPECT_EQ(r.pad_x, 160);
  EXPECT_EQ(r.pad_y, 0);
}

TEST(PlanTransformTest, LetterboxJitterCropKeepsTheBoxes) {
  // 640 x 480 on 640 x 640 with jitter 2: the image is 1280 x 960, cut to a
  // 640 x 640 window whose offset covers the box extent: x in [512, 768]
  // -> offset in [128, 512]; y in [384, 576] -> offset in [0, 384].
  TransformOptions o;
  o.kind = TransformKind::kLetterbox;
  o.width = o.height = 640;
  o.jitter_min = o.jitter_max = 2;
  o.flip_probability = 0;
  const std::vector<float> boxes = {0.4f, 0.4f, 0.6f, 0.6f};
  int checked = 0;
  std::vector<int> seen_x;
  for (uint64_t index = 0; index < 300; ++index) {
    TransformRecord r;
    ASSERT_OK(PlanTransform(o, 640, 480, boxes, 3, 0, index, &r));
    const double off_x = r.crop_x * 2, off_y = r.crop_y * 2;
    EXPECT_EQ(off_x, std::floor(off_x));
    EXPECT_GE(off_x, 128);
    EXPECT_LE(off_x, 512);
    EXPECT_GE(off_y, 0);
    EXPECT_LE(off_y, 384);
    EXPECT_DOUBLE_EQ(r.crop_width, 320);
    EXPECT_DOUBLE_EQ(r.crop_height, 320);
    EXPECT_EQ(r.content_width, 640u);
    EXPECT_EQ(r.pad_x, 0);
    const MappedBox m = MapBox(r, std::span<const float, 4>(boxes.data(), 4), 0.99);
    EXPECT_TRUE(m.kept);
    EXPECT_DOUBLE_EQ(m.kept_fraction, 1.0);
    seen_x.push_back(static_cast<int>(off_x));
    ++checked;
  }
  EXPECT_EQ(checked, 300);
  std::sort(seen_x.begin(), seen_x.end());
  EXPECT_LT(seen_x.front(), 200);  // the draws spread over the range
  EXPECT_GT(seen_x.back(), 440);
}

TEST(PlanTransformTest, FlipProbability) {
  TransformOptions o;
  int flips = 0, checked = 0;
  for (uint64_t index = 0; index < 1000; ++index) {
    TransformRecord r;
    o.flip_probability = 0.5;
    ASSERT_OK(PlanTransform(o, 64, 48, {}, 2, 0, index, &r));
    RefRng ref(2, 0, index, 2);
    EXPECT_EQ(r.flip, ref.Uniform() < 0.5);
    flips += r.flip;
    o.flip_probability = 1;
    ASSERT_OK(PlanTransform(o, 64, 48, {}, 2, 0, index, &r));
    EXPECT_TRUE(r.flip);
    o.flip_probability = 0;
    ASSERT_OK(PlanTransform(o, 64, 48, {}, 2, 0, index, &r));
    EXPECT_FALSE(r.flip);
    ++checked;
  }
  EXPECT_EQ(checked, 1000);
  EXPECT_GT(flips, 400);
  EXPECT_LT(flips, 600);
}

TEST(PlanTransformTest, RejectsBadOptions) {
  TransformRecord r;
  TransformOptions o;
  EXPECT_TRUE(PlanTransform(o, 0, 10, {}, 0, 0, 0, &r).IsInvalidArgument());
  o.width = 0;
  EXPECT_TRUE(PlanTransform(o, 10, 10, {}, 0, 0, 0, &r).IsInvalidArgument());
  o = TransformOptions();
  o.scale = {0.5, 0.1};
  EXPECT_TRUE(PlanTransform(o, 10, 10, {}, 0, 0, 0, &r).IsInvalidArgument());
  o = TransformOptions();
  o.ratio = {0, 1};
  EXPECT_TRUE(PlanTransform(o, 10, 10, {}, 0, 0, 0, &r).IsInvalidArgument());
}

TEST(MapBoxTest, HandComputed) {
  // Source 200 x 100, crop (x 10, y 20, 100 x 50) to 200 x 100: scale 2.
  TransformRecord r;
  r.source_width = 200;
  r.source_height = 100;
  r.crop_x = 10;
  r.crop_y = 20;
  r.crop_width = 100;
  r.crop_height = 50;
  r.content_width = r.width = 200;
  r.content_height = r.height = 100;
  // The box that is the crop: the whole output.
  const float exact[4] = {0.2f, 0.05f, 0.7f, 0.55f};
  MappedBox m = MapBox(r, std::span<const float, 4>(exact), 0.5);
  EXPECT_NEAR(m.box[0], 0, 1e-6);
  EXPECT_NEAR(m.box[1], 0, 1e-6);
  EXPECT_NEAR(m.box[2], 1, 1e-6);
  EXPECT_NEAR(m.box[3], 1, 1e-6);
  EXPECT_NEAR(m.kept_fraction, 1, 1e-6);
  // x from 0 to 60 source px -> -20 .. 100 output px, clipped to 0 .. 100:
  // 100 / 120 of the area kept; normalised x 0 .. 0.5, y 0 .. 1.
  const float half[4] = {0.2f, 0.0f, 0.7f, 0.3f};
  m = MapBox(r, std::span<const float, 4>(half), 0.8);
  EXPECT_NEAR(m.kept_fraction, 100.0 / 120, 1e-6);
  EXPECT_TRUE(m.kept);
  EXPECT_NEAR(m.box[1], 0, 1e-6);
  EXPECT_NEAR(m.box[3], 0.5, 1e-6);
  EXPECT_FALSE(MapBox(r, std::span<const float, 4>(half), 0.9).kept);
  // Flipped: x 0.5 .. 1.
  r.flip = true;
  m = MapBox(r, std::span<const float, 4>(half), 0.8);
  EXPECT_NEAR(m.box[1], 0.5, 1e-6);
  EXPECT_NEAR(m.box[3], 1, 1e-6);
  // Wholly outside the crop (x 0 .. 5 px): nothing kept.
  const float out[4] = {0.2f, 0.0f, 0.7f, 0.025f};
  m = MapBox(r, std::span<const float, 4>(out), 0.01);
  EXPECT_EQ(m.kept_fraction, 0);
  EXPECT_FALSE(m.kept);
}

// The reference: each edge as a fraction along the crop, onto the content,
// clipped with min/max, mirrored as a whole interval.
struct RefBox {
  double y0, x0, y1, x1, kept;
};
RefBox Reference(const TransformRecord& r, const float* b) {
  const double fy0 = (b[0] * r.source_height - r.crop_y) / r.crop_height;
  const double fx0 = (b[1] * r.source_width - r.crop_x) / r.crop_width;
  const double fy1 = (b[2] * r.source_height - r.crop_y) / r.crop_height;
  const double fx1 = (b[3] * r.source_width - r.crop_x) / r.crop_width;
  // Clip in fractions of the content (0..1), then place.
  const double cy0 = std::max(0.0, std::min(1.0, fy0)), cy1 = std::max(0.0, std::min(1.0, fy1));
  const double cx0 = std::max(0.0, std::min(1.0, fx0)), cx1 = std::max(0.0, std::min(1.0, fx1));
  const double area = (fy1 - fy0) * (fx1 - fx0);
  RefBox out;
  out.kept = area > 0 ? (cy1 - cy0) * (cx1 - cx0) / area : 0;
  out.y0 = (r.pad_y + cy0 * r.content_height) / r.height;
  out.y1 = (r.pad_y + cy1 * r.content_height) / r.height;
  double x0 = r.pad_x + cx0 * r.content_width, x1 = r.pad_x + cx1 * r.content_width;
  if (r.flip) {
    const double t = x0;
    x0 = r.width - x1;
    x1 = r.width - t;
  }
  out.x0 = x0 / r.width;
  out.x1 = x1 / r.width;
  return out;
}

TEST(MapBoxTest, AgreesWithAReferenceFromTheRecord) {
  int checked = 0, kept = 0, dropped = 0;
  RefRng boxes_rng(99, 0, 0, 0);
  for (TransformKind kind : kAllTransformKinds) {
    TransformOptions o;
    o.kind = kind;
    o.width = 320;
    o.height = 256;
    o.jitter_min = 0.5;
    o.jitter_max = 2;
    for (uint64_t index = 0; index < 200; ++index) {
      float b[4];
      const double y = boxes_rng.Uniform(), x = boxes_rng.Uniform();
      b[0] = static_cast<float>(y * 0.8);
      b[1] = static_cast<float>(x * 0.8);
      b[2] = static_cast<float>(b[0] + 0.01 + boxes_rng.Uniform() * (0.99 - b[0]));
      b[3] = static_cast<float>(b[1] + 0.01 + boxes_rng.Uniform() * (0.99 - b[1]));
      TransformRecord r;
      ASSERT_OK(PlanTransform(o, 500, 375, std::span<const float>(b, 4), 4, 0, index, &r));
      const RefBox ref = Reference(r, b);
      const MappedBox m = MapBox(r, std::span<const float, 4>(b), o.min_box_area_kept);
      EXPECT_NEAR(m.box[0], ref.y0, 1e-5) << TransformKindName(kind) << " " << index;
      EXPECT_NEAR(m.box[1], ref.x0, 1e-5) << TransformKindName(kind) << " " << index;
      EXPECT_NEAR(m.box[2], ref.y1, 1e-5) << TransformKindName(kind) << " " << index;
      EXPECT_NEAR(m.box[3], ref.x1, 1e-5) << TransformKindName(kind) << " " << index;
      EXPECT_NEAR(m.kept_fraction, ref.kept, 1e-9);
      EXPECT_EQ(m.kept, ref.kept >= o.min_box_area_kept);
      kept += m.kept;
      dropped += !m.kept;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 800);
  EXPECT_GT(kept, 100);  // both outcomes occur
  EXPECT_GT(dropped, 20);
}

}  // namespace
}  // namespace oiv4kv
