// RenderExamples (tools/render.h): Cairo drawing of examples and their boxes.
#include "tools/render.h"

#include <cairo.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/decode.h"
#include "oiv4kv/image_id.h"
#include "oiv4kv/stats.h"
#include "oiv4kv/store.h"

namespace oiv4kv::tools {
namespace {

constexpr double kFontSize = 12.0;
constexpr double kBoxLineWidth = 2.0;

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

void SetColor(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0); }

// The decoded RGB pixels as a Cairo RGB24 surface (one uint32 0x00RRGGBB per
// pixel, native byte order).
Surface ImageSurface(const DecodedImage& img) {
  Surface s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(img.width),
                                       static_cast<int>(img.height)));
  cairo_surface_flush(s.get());
  unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (uint32_t y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
    const uint8_t* src = img.pixels.data() + static_cast<size_t>(y) * img.width * img.channels;
    for (uint32_t x = 0; x < img.width; ++x) {
      const uint8_t* p = src + static_cast<size_t>(x) * img.channels;
      const uint32_t r = p[0], g = img.channels >= 3 ? p[1] : p[0],
                     b = img.channels >= 3 ? p[2] : p[0];
      row[x] = (r << 16) | (g << 8) | b;
    }
  }
  cairo_surface_mark_dirty(s.get());
  return s;
}

// `text` with every byte that is not part of valid UTF-8 replaced by '?':
// Cairo refuses invalid UTF-8 (and then draws nothing more), and a store may
// hold any bytes in a name.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= text.size() && !(n == 2 && c < 0xc2);
    for (size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (ok) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

double TextWidth(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  return e.x_advance;
}

// Drops the last UTF-8 character of `t`.
void PopChar(std::string* t) {
  while (!t->empty() && (static_cast<unsigned char>(t->back()) & 0xc0) == 0x80) t->pop_back();
  if (!t->empty()) t->pop_back();
}

// `text` + "...", cut so that it fits `width` pixels in the current font.
std::string Ellipsize(cairo_t* cr, std::string text, double width) {
  while (!text.empty() && TextWidth(cr, text + "...") > width) PopChar(&text);
  return text + "...";
}

// `text`, or if it is wider than `width`, Ellipsize'd.
std::string Fit(cairo_t* cr, const std::string& text, double width) {
  return TextWidth(cr, text) <= width ? text : Ellipsize(cr, text, width);
}

// `items` joined by ", " and broken into at most `max_lines` lines of
// `width` pixels; the last line ends with "..." if some did not fit.
std::vector<std::string> Wrap(cairo_t* cr, const std::vector<std::string>& items, double width,
                              int max_lines) {
  std::vector<std::string> lines(1);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string piece = items[i] + (i + 1 < items.size() ? ", " : "");
    if (lines.back().empty() || TextWidth(cr, lines.back() + piece) <= width) {
      lines.back() += piece;
      continue;
    }
    if (static_cast<int>(lines.size()) == max_lines) {
      lines.back() = Ellipsize(cr, lines.back(), width);
      return lines;
    }
    lines.push_back(piece);
  }
  for (std::string& line : lines) line = Fit(cr, line, width);
  return lines;
}

// Draws one example into the cell whose top-left corner is (x0, y0).
Status DrawCell(cairo_t* cr, const Store& store, const ExampleView& ex, const DecodedImage& img,
                int size, double x0, double y0) {
  const double px = x0 + kShowMargin, py = y0 + kShowMargin;
  const double scale = static_cast<double>(size) / std::max(img.width, img.height);
  const double w = img.width * scale, h = img.height * scale;

  // The image.
  Surface surface = ImageSurface(img);
  cairo_save(cr);
  cairo_rectangle(cr, px, py, w, h);
  cairo_clip(cr);
  cairo_translate(cr, px, py);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, surface.get(), 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr),
                           scale >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_restore(cr);

  // The boxes, then their labels on top.
  const BoxesView boxes = ex.bobjects();
  const Vocabulary& boxable = store.vocabulary(VocabKind::kBoxable);
  if (boxes.bbox.size() != 4 * boxes.size()) {
    return Status::Corruption("example " + ExampleName(ex.split(), ex.image_id()) +
                              ": bobjects label and bbox lengths differ");
  }
  struct Placed {
    double x, y;
    uint32_t label;
  };
  std::vector<Placed> tags;
  cairo_set_line_width(cr, kBoxLineWidth);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto b = boxes.box(i);  // ymin, xmin, ymax, xmax
    const double bx0 = px + std::round(std::clamp(b[1], 0.f, 1.f) * w);
    const double by0 = py + std::round(std::clamp(b[0], 0.f, 1.f) * h);
    const double bx1 = px + std::round(std::clamp(b[3], 0.f, 1.f) * w);
    const double by1 = py + std::round(std::clamp(b[2], 0.f, 1.f) * h);
    SetColor(cr, ClassColor(boxes.label[i]));
    cairo_rectangle(cr, bx0, by0, bx1 - bx0, by1 - by0);
    cairo_stroke(cr);
    tags.push_back({bx0, by0, boxes.label[i]});
  }
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, kFontSize);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double tag_h = std::ceil(fe.ascent + fe.descent) + 2;
  cairo_save(cr);  // tags stay on the image
  cairo_rectangle(cr, px, py, w, h);
  cairo_clip(cr);
  for (const Placed& t : tags) {
    const std::string name = t.label < boxable.size()
                                 ? ValidUtf8(boxable.display_name(t.label))
                                 : "label " + std::to_string(t.label);
    cairo_text_extents_t te;
    cairo_text_extents(cr, name.c_str(), &te);
    const double tag_w = std::ceil(te.x_advance) + 4;
    // Above the box's top-left corner when there is room in the picture,
    // else just inside it.
    const double ty = t.y - tag_h >= py ? t.y - tag_h - 1 : t.y + 1;
    const double tx = std::min(t.x - 1, px + w - tag_w);
    SetColor(cr, ClassColor(t.label));
    cairo_rectangle(cr, tx, ty, tag_w, tag_h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, tx + 2, ty + 1 + fe.ascent);
    cairo_show_text(cr, name.c_str());
  }
  cairo_restore(cr);

  // The caption: the example, then its positive image-level labels.
  const Vocabulary& all = store.vocabulary(VocabKind::kAll);
  const LabelsView objects = ex.objects();
  std::vector<std::string> names;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i >= objects.confidence.size() || objects.confidence[i] < kPositiveConfidence) continue;
    const uint32_t label = objects.label[i];
    std::string name = label < all.size() ? ValidUtf8(all.display_name(label))
                                          : "label " + std::to_string(label);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  double ty = py + size + 4 + fe.ascent;
  cairo_set_source_rgb(cr, 0, 0, 0);
  const std::string title = ExampleName(ex.split(), ex.image_id()) + "  " +
                            std::to_string(boxes.size()) + " box" +
                            (boxes.size() == 1 ? "" : "es") + ", " + std::to_string(img.width) +
                            "x" + std::to_string(img.height);
  cairo_move_to(cr, px, ty);
  cairo_show_text(cr, Fit(cr, title, size).c_str());
  cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
  const std::vector<std::string> lines =
      names.empty() ? std::vector<std::string>{Fit(cr, "(no positive image-level labels)", size)}
                    : Wrap(cr, names, size, kShowCaptionLines - 1);
  for (const std::string& line : lines) {
    ty += kShowLineHeight;
    cairo_move_to(cr, px, ty);
    cairo_show_text(cr, line.c_str());
  }
  return Status::OK();
}

}  // namespace

std::optional<std::pair<int, int>> ParseGrid(std::string_view text) {
  size_t sep = text.find('x');
  size_t sep_len = 1;
  if (sep == std::string_view::npos) {
    sep = text.find("\xc3\x97");  // U+00D7 MULTIPLICATION SIGN
    sep_len = 2;
  }
  if (sep == std::string_view::npos) return std::nullopt;
  int c = 0, r = 0;
  const std::string_view cs = text.substr(0, sep), rs = text.substr(sep + sep_len);
  const auto a = std::from_chars(cs.data(), cs.data() + cs.size(), c);
  const auto b = std::from_chars(rs.data(), rs.data() + rs.size(), r);
  if (cs.empty() || rs.empty() || a.ec != std::errc() || a.ptr != cs.data() + cs.size() ||
      b.ec != std::errc() || b.ptr != rs.data() + rs.size() || c < 1 || r < 1 || c > 64 ||
      r > 64) {
    return std::nullopt;
  }
  return std::pair{c, r};
}

std::pair<int, int> DefaultGrid(size_t n) {
  if (n == 0) return {1, 1};
  const int c = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  return {c, static_cast<int>((n + c - 1) / c)};
}

Status RenderExamples(const Store& store, Split split, std::span<const uint64_t> indices,
                      const ShowOptions& options, const std::string& png_path, int* width,
                      int* height) {
  if (indices.empty()) return Status::InvalidArgument("no example to show");
  if (options.size < 16 || options.size > 4096) {
    return Status::InvalidArgument("picture size " + std::to_string(options.size) +
                                   " is outside 16..4096");
  }
  auto [cols, rows] = options.columns > 0 ? std::pair{options.columns, options.rows}
                                          : DefaultGrid(indices.size());
  if (indices.size() > static_cast<size_t>(cols) * rows) {
    return Status::InvalidArgument("a " + std::to_string(cols) + "x" + std::to_string(rows) +
                                   " grid holds " + std::to_string(cols * rows) +
                                   " pictures, not " + std::to_string(indices.size()));
  }
  const int W = cols * CellWidth(options.size), H = rows * CellHeight(options.size);
  Surface canvas(cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H));
  if (cairo_surface_status(canvas.get()) != CAIRO_STATUS_SUCCESS) {
    return Status::IOError("cannot make a " + std::to_string(W) + "x" + std::to_string(H) +
                           " picture: " + cairo_status_to_string(cairo_surface_status(canvas.get())));
  }
  Context cr(cairo_create(canvas.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());

  Decoder decoder;
  DecodeOptions decode;
  decode.pixel_format = PixelFormat::kRGB;
  decode.apply_exif_orientation = true;  // boxes refer to the upright image
  for (size_t k = 0; k < indices.size(); ++k) {
    ExampleView ex;
    OIV4KV_RETURN_IF_ERROR(store.At(split, indices[k], &ex));
    ImageView view;
    OIV4KV_RETURN_IF_ERROR(store.ImageAt(options.config, split, indices[k], &view));
    DecodedImage img;
    OIV4KV_RETURN_IF_ERROR(decoder.Decode(view, decode, &img));
    const int c = static_cast<int>(k % cols), r = static_cast<int>(k / cols);
    // Nothing of a cell reaches its neighbours.
    cairo_save(cr.get());
    cairo_rectangle(cr.get(), c * CellWidth(options.size), r * CellHeight(options.size),
                    CellWidth(options.size), CellHeight(options.size));
    cairo_clip(cr.get());
    const Status drawn = DrawCell(cr.get(), store, ex, img, options.size,
                                  c * CellWidth(options.size), r * CellHeight(options.size));
    cairo_restore(cr.get());
    OIV4KV_RETURN_IF_ERROR(drawn);
  }
  if (const cairo_status_t s = cairo_status(cr.get()); s != CAIRO_STATUS_SUCCESS) {
    return Status::IOError(std::string("drawing failed: ") + cairo_status_to_string(s));
  }
  cairo_surface_flush(canvas.get());
  if (const cairo_status_t s = cairo_surface_write_to_png(canvas.get(), png_path.c_str());
      s != CAIRO_STATUS_SUCCESS) {
    return Status::IOError("cannot write " + png_path + ": " + cairo_status_to_string(s));
  }
  if (width != nullptr) *width = W;
  if (height != nullptr) *height = H;
  return Status::OK();
}

}  // namespace oiv4kv::tools
