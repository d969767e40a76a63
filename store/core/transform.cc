// The Loader's per-example geometry (oiv4kv/transform.h): the draws of
// TransformRng, the crop/scale/pad/flip of each TransformKind, and boxes
// mapped through the resulting TransformRecord. Pure functions.
#include <algorithm>
#include <cmath>
#include <string>

#include "oiv4kv/transform.h"
#include "store/core/splitmix.h"

namespace oiv4kv {
namespace {

// Python's round(): half to even (the default rounding mode).
int64_t RoundEven(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

Status CheckOptions(const TransformOptions& o) {
  if (o.width == 0 || o.height == 0) {
    return Status::InvalidArgument("transform: output size " + std::to_string(o.width) + "x" +
                                   std::to_string(o.height) + " must be positive");
  }
  if (!(o.scale[0] > 0 && o.scale[0] <= o.scale[1])) {
    return Status::InvalidArgument("transform: scale range must be 0 < low <= high");
  }
  if (!(o.ratio[0] > 0 && o.ratio[0] <= o.ratio[1])) {
    return Status::InvalidArgument("transform: ratio range must be 0 < low <= high");
  }
  if (!(o.jitter_min > 0 && o.jitter_min <= o.jitter_max)) {
    return Status::InvalidArgument("transform: jitter range must be 0 < min <= max");
  }
  if (!(o.flip_probability >= 0 && o.flip_probability <= 1)) {
    return Status::InvalidArgument("transform: flip_probability must be in [0, 1]");
  }
  return Status::OK();
}

// torchvision.transforms.RandomResizedCrop.get_params.
void RandomResizedCrop(const TransformOptions& o, uint32_t width, uint32_t height,
                       TransformRng* rng, TransformRecord* r) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(o.ratio[0]), log_hi = std::log(o.ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng->Uniform(o.scale[0], o.scale[1]);
    const double aspect = std::exp(rng->Uniform(log_lo, log_hi));
    const int64_t w = RoundEven(std::sqrt(target_area * aspect));
    const int64_t h = RoundEven(std::sqrt(target_area / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      r->crop_y = static_cast<double>(rng->Below(height - h + 1));
      r->crop_x = static_cast<double>(rng->Below(width - w + 1));
      r->crop_width = static_cast<double>(w);
      r->crop_height = static_cast<double>(h);
      return;
    }
  }
  // Fallback: the whole image's center crop, clamped to the ratio range.
  const double in_ratio = static_cast<double>(width) / height;
  int64_t w = width, h = height;
  if (in_ratio < o.ratio[0]) {
    h = RoundEven(w / o.ratio[0]);
  } else if (in_ratio > o.ratio[1]) {
    w = RoundEven(h * o.ratio[1]);
  }
  r->crop_y = static_cast<double>((int64_t{height} - h) / 2);
  r->crop_x = static_cast<double>((int64_t{width} - w) / 2);
  r->crop_width = static_cast<double>(w);
  r->crop_height = static_cast<double>(h);
}

// torchvision Resize(int) + CenterCrop(size), as a crop of the source.
void CenterCrop(const TransformOptions& o, uint32_t width, uint32_t height, TransformRecord* r) {
  const uint32_t shorter_out =
      o.resize_shorter != 0
          ? o.resize_shorter
          : static_cast<uint32_t>(RoundEven(std::min(o.width, o.height) * 256.0 / 224.0));
  uint32_t rw, rh;  // the resized image
  if (width <= height) {
    rw = shorter_out;
    rh = static_cast<uint32_t>(static_cast<double>(shorter_out) * height / width);
  } else {
    rh = shorter_out;
    rw = static_cast<uint32_t>(static_cast<double>(shorter_out) * width / height);
  }
  const double sx = static_cast<double>(rw) / width, sy = static_cast<double>(rh) / height;
  const double top = static_cast<double>(RoundEven((static_cast<double>(rh) - o.height) / 2.0));
  const double left = static_cast<double>(RoundEven((static_cast<double>(rw) - o.width) / 2.0));
  r->crop_x = left / sx;
  r->crop_y = top / sy;
  r->crop_width = o.width / sx;
  r->crop_height = o.height / sy;
}

// One axis of kLetterbox: the scaled side `scaled` on an output side `out`.
// Sets crop start/length (source pixels), content length and pad.
void LetterboxAxis(uint32_t source, uint32_t scaled, uint32_t out, double extent_lo,
                   double extent_hi, bool has_boxes, TransformRng* rng, double* crop_start,
                   double* crop_length, uint32_t* content, int32_t* pad) {
  const double s = static_cast<double>(scaled) / source;
  if (scaled <= out) {
    *crop_start = 0;
    *crop_length = source;
    *content = scaled;
    *pad = static_cast<int32_t>((out - scaled) / 2);
    return;
  }
  const int64_t max_off = int64_t{scaled} - out;
  int64_t lo = 0, hi = max_off;
  if (has_boxes) {
    const double a = extent_lo * scaled, b = extent_hi * scaled;
    if (b - a <= out) {  // windows covering [a, b]
      lo = static_cast<int64_t>(std::ceil(b - out));
      hi = static_cast<int64_t>(std::floor(a));
    } else {  // windows inside [a, b]
      lo = static_cast<int64_t>(std::ceil(a));
      hi = static_cast<int64_t>(std::floor(b - out));
    }
    lo = std::clamp<int64_t>(lo, 0, max_off);
    hi = std::clamp<int64_t>(hi, 0, max_off);
    if (lo > hi) std::swap(lo, hi);
  }
  const int64_t off = lo + static_cast<int64_t>(rng->Below(static_cast<uint64_t>(hi - lo + 1)));
  *crop_start = off / s;
  *crop_length = out / s;
  *content = out;
  *pad = 0;
}

void Letterbox(const TransformOptions& o, uint32_t width, uint32_t height,
               std::span<const float> boxes, TransformRng* rng, TransformRecord* r) {
  const double s0 = std::min(static_cast<double>(o.width) / width, static_cast<double>(o.height) / height);
  const double jitter =
      o.jitter_min == o.jitter_max ? o.jitter_min : rng->Uniform(o.jitter_min, o.jitter_max);
  const double s = s0 * jitter;
  const uint32_t sw = static_cast<uint32_t>(std::max<int64_t>(1, RoundEven(width * s)));
  const uint32_t sh = static_cast<uint32_t>(std::max<int64_t>(1, RoundEven(height * s)));
  double ymin = 1, xmin = 1, ymax = 0, xmax = 0;
  const size_t n = boxes.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    ymin = std::min<double>(ymin, boxes[4 * i]);
    xmin = std::min<double>(xmin, boxes[4 * i + 1]);
    ymax = std::max<double>(ymax, boxes[4 * i + 2]);
    xmax = std::max<double>(xmax, boxes[4 * i + 3]);
  }
  // x first, then y: the order of the draws is part of the contract.
  LetterboxAxis(width, sw, o.width, xmin, xmax, n > 0, rng, &r->crop_x, &r->crop_width,
                &r->content_width, &r->pad_x);
  LetterboxAxis(height, sh, o.height, ymin, ymax, n > 0, rng, &r->crop_y, &r->crop_height,
                &r->content_height, &r->pad_y);
}

}  // namespace

namespace {
uint64_t ExampleKey(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t repeat) {
  const uint64_t base = Mix64(Mix64(Mix64(seed) ^ epoch) ^ index);
  return repeat == 0 ? base : Mix64(base ^ Mix64(repeat));
}
}  // namespace

TransformRng::TransformRng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream,
                           uint64_t repeat)
    : key_(ExampleKey(seed, epoch, index, repeat) ^ Mix64(stream)) {}

uint64_t TransformRng::Next() { return Mix64(key_ + ++counter_ * 0x9e3779b97f4a7c15ULL); }

double TransformRng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double TransformRng::Uniform(double low, double high) { return low + (high - low) * Uniform(); }

uint64_t TransformRng::Below(uint64_t n) {
  return std::min<uint64_t>(n - 1, static_cast<uint64_t>(Uniform() * static_cast<double>(n)));
}

Status PlanTransform(const TransformOptions& options, uint32_t source_width,
                     uint32_t source_height, std::span<const float> boxes, uint64_t seed,
                     uint64_t epoch, uint64_t index, uint64_t repeat, TransformRecord* out) {
  OIV4KV_RETURN_IF_ERROR(CheckOptions(options));
  if (source_width == 0 || source_height == 0) {
    return Status::InvalidArgument("transform: source size " + std::to_string(source_width) +
                                   "x" + std::to_string(source_height) + " is empty");
  }
  TransformRecord r;
  r.source_width = source_width;
  r.source_height = source_height;
  r.width = options.width;
  r.height = options.height;
  r.content_width = options.width;
  r.content_height = options.height;
  TransformRng crop_rng(seed, epoch, index, TransformRng::kCropStream, repeat);
  switch (options.kind) {
    case TransformKind::kRandomResizedCrop:
      RandomResizedCrop(options, source_width, source_height, &crop_rng, &r);
      break;
    case TransformKind::kCenterCrop:
      CenterCrop(options, source_width, source_height, &r);
      break;
    case TransformKind::kResize:
      r.crop_width = source_width;
      r.crop_height = source_height;
      break;
    case TransformKind::kLetterbox:
      Letterbox(options, source_width, source_height, boxes, &crop_rng, &r);
      break;
  }
  TransformRng flip_rng(seed, epoch, index, TransformRng::kFlipStream, repeat);
  r.flip = options.flip_probability > 0 && flip_rng.Uniform() < options.flip_probability;
  *out = r;
  return Status::OK();
}

MappedBox MapBox(const TransformRecord& r, std::span<const float, 4> box,
                 double min_box_area_kept) {
  // Source pixels -> output pixels (before the flip).
  const double sx = r.scale_x(), sy = r.scale_y();
  const double y0 = (box[0] * r.source_height - r.crop_y) * sy + r.pad_y;
  const double x0 = (box[1] * r.source_width - r.crop_x) * sx + r.pad_x;
  const double y1 = (box[2] * r.source_height - r.crop_y) * sy + r.pad_y;
  const double x1 = (box[3] * r.source_width - r.crop_x) * sx + r.pad_x;
  const double cy0 = r.pad_y, cx0 = r.pad_x;
  const double cy1 = cy0 + r.content_height, cx1 = cx0 + r.content_width;
  const double ky0 = std::clamp(y0, cy0, cy1), ky1 = std::clamp(y1, cy0, cy1);
  const double kx0 = std::clamp(x0, cx0, cx1), kx1 = std::clamp(x1, cx0, cx1);
  MappedBox m;
  const double area = (y1 - y0) * (x1 - x0);
  if (area > 0) {
    m.kept_fraction = (ky1 - ky0) * (kx1 - kx0) / area;
  } else {
    const bool inside = y0 >= cy0 && y1 <= cy1 && x0 >= cx0 && x1 <= cx1;
    m.kept_fraction = inside ? 1.0 : 0.0;
  }
  m.kept = m.kept_fraction >= min_box_area_kept;
  double left = kx0, right = kx1;
  if (r.flip) {
    left = r.width - kx1;
    right = r.width - kx0;
  }
  m.box = {static_cast<float>(ky0 / r.height), static_cast<float>(left / r.width),
           static_cast<float>(ky1 / r.height), static_cast<float>(right / r.width)};
  return m;
}

}  // namespace oiv4kv
