#include "store/testing/reference_images.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace oiv4kv {

std::vector<double> AreaResample(const RgbImage& image, uint32_t width,
                                 uint32_t height) {
  const uint32_t sw = image.width, sh = image.height;
  // Coverage of source pixel j by output pixel i along one axis.
  auto weights = [](uint32_t src, uint32_t dst) {
    std::vector<std::vector<std::pair<uint32_t, double>>> w(dst);
    const double scale = static_cast<double>(src) / dst;
    for (uint32_t i = 0; i < dst; ++i) {
      const double lo = i * scale, hi = (i + 1) * scale;
      for (uint32_t j = static_cast<uint32_t>(lo); j < src && j < hi; ++j) {
        const double overlap =
            std::min<double>(hi, j + 1) - std::max<double>(lo, j);
        if (overlap > 0) w[i].push_back({j, overlap / scale});
      }
    }
    return w;
  };
  const auto wx = weights(sw, width), wy = weights(sh, height);
  std::vector<double> rows(size_t{width} * sh * 3, 0.0);
  for (uint32_t y = 0; y < sh; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      for (const auto& [j, w] : wx[x]) {
        for (int c = 0; c < 3; ++c) {
          rows[(size_t{y} * width + x) * 3 + c] +=
              w * image.pixels[(size_t{y} * sw + j) * 3 + c];
        }
      }
    }
  }
  std::vector<double> out(size_t{width} * height * 3, 0.0);
  for (uint32_t y = 0; y < height; ++y) {
    for (const auto& [j, w] : wy[y]) {
      for (size_t x = 0; x < size_t{width} * 3; ++x) {
        out[size_t{y} * width * 3 + x] += w * rows[size_t{j} * width * 3 + x];
      }
    }
  }
  return out;
}

std::vector<double> BilinearResample(const RgbImage& image, uint32_t width,
                                     uint32_t height, double scale_x,
                                     double scale_y) {
  // Two taps per axis: (first source pixel, weight of the second).
  auto taps = [](uint32_t src, uint32_t dst, double scale) {
    std::vector<std::pair<uint32_t, double>> t(dst);
    for (uint32_t i = 0; i < dst; ++i) {
      const double x = (i + 0.5) * scale - 0.5;
      const double fl = std::floor(x);
      if (x < 0) {
        t[i] = {0, 0.0};
      } else if (fl >= src - 1) {
        t[i] = {src - 1, 0.0};
      } else {
        t[i] = {static_cast<uint32_t>(fl), x - fl};
      }
    }
    return t;
  };
  const auto tx = taps(image.width, width, scale_x),
             ty = taps(image.height, height, scale_y);
  auto at = [&](uint32_t x, uint32_t y, int c) -> double {
    return image.pixels[(size_t{y} * image.width + x) * 3 + c];
  };
  std::vector<double> out(size_t{width} * height * 3);
  for (uint32_t y = 0; y < height; ++y) {
    const auto [y0, fy] = ty[y];
    const uint32_t y1 = std::min(y0 + 1, image.height - 1);
    for (uint32_t x = 0; x < width; ++x) {
      const auto [x0, fx] = tx[x];
      const uint32_t x1 = std::min(x0 + 1, image.width - 1);
      for (int c = 0; c < 3; ++c) {
        const double top = at(x0, y0, c) * (1 - fx) + at(x1, y0, c) * fx;
        const double bottom = at(x0, y1, c) * (1 - fx) + at(x1, y1, c) * fx;
        out[(size_t{y} * width + x) * 3 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

std::vector<double> ApplyOrientation(const std::vector<double>& rgb,
                                     uint32_t width, uint32_t height,
                                     int orientation, uint32_t* out_width,
                                     uint32_t* out_height) {
  std::vector<double> img = rgb;
  uint32_t w = width, h = height;
  auto transpose = [&]() {
    std::vector<double> t(img.size());
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c)
          t[(size_t{x} * h + y) * 3 + c] = img[(size_t{y} * w + x) * 3 + c];
      }
    }
    img.swap(t);
    std::swap(w, h);
  };
  auto flip = [&](bool flip_x, bool flip_y) {
    std::vector<double> t(img.size());
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        const uint32_t sx = flip_x ? w - 1 - x : x, sy = flip_y ? h - 1 - y : y;
        for (int c = 0; c < 3; ++c)
          t[(size_t{y} * w + x) * 3 + c] = img[(size_t{sy} * w + sx) * 3 + c];
      }
    }
    img.swap(t);
  };
  switch (orientation) {
    case 2:
      flip(true, false);
      break;
    case 3:
      flip(true, true);
      break;
    case 4:
      flip(false, true);
      break;
    case 5:
      transpose();
      break;
    case 6:
      transpose();
      flip(true, false);
      break;
    case 7:
      transpose();
      flip(true, true);
      break;
    case 8:
      transpose();
      flip(false, true);
      break;
    default:
      break;
  }
  *out_width = w;
  *out_height = h;
  return img;
}

double Psnr(const std::vector<double>& reference,
            std::span<const uint8_t> rgb) {
  if (reference.size() != rgb.size() || rgb.empty()) return 0.0;
  double se = 0.0;
  for (size_t i = 0; i < rgb.size(); ++i) {
    const double d = reference[i] - rgb[i];
    se += d * d;
  }
  const double mse = se / rgb.size();
  return mse == 0.0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace oiv4kv
