// Pictures of examples for `oiv4-kv show`: each image decoded (Decoder), its
// boxes drawn and labelled with display names in a colour per class, its
// positive image-level labels written under it, several in a grid, drawn
// with Cairo and written as PNG.
//
// Layout (pixels), so that a reader can find a picture in the file: the
// grid's cell (c, r) (column c, row r, row-major in the order given) starts
// at (c * CellWidth(size), r * CellHeight(size)); its picture area is
// size x size at (kShowMargin, kShowMargin) inside the cell, and the image,
// scaled by size / max(width, height) (up or down), is drawn at that
// area's top-left corner; the caption follows below it. Box edges are
// 2 px wide lines centred on the box's rounded pixel coordinates.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {
class Store;
}

namespace oiv4kv::tools {

inline constexpr int kShowMargin = 8;
inline constexpr int kShowLineHeight = 15;
inline constexpr int kShowCaptionLines = 4;  // the example's name + 3 lines of labels
inline constexpr int kShowDefaultSize = 400;

inline int CellWidth(int size) { return size + 2 * kShowMargin; }
inline int CellHeight(int size) {
  return kShowMargin + size + 4 + kShowCaptionLines * kShowLineHeight + kShowMargin;
}

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// The 20 colours boxes are drawn in (matplotlib's tab10 and the dark half of
// tab20b/tab20c, greys left out); the Python show_examples uses the same.
inline constexpr Rgb kClassPalette[20] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0xbc, 0xbd, 0x22},
    {0x17, 0xbe, 0xcf}, {0x39, 0x3b, 0x79}, {0x63, 0x79, 0x39}, {0x8c, 0x6d, 0x31},
    {0x84, 0x3c, 0x39}, {0x7b, 0x41, 0x73}, {0x31, 0x82, 0xbd}, {0xe6, 0x55, 0x0d},
    {0x31, 0xa3, 0x54}, {0x75, 0x6b, 0xb1}, {0xe7, 0x29, 0x8a}, {0x66, 0xa6, 0x1e}};

// The colour of boxable class `label`: kClassPalette[label % 20].
inline Rgb ClassColor(uint32_t label) { return kClassPalette[label % 20]; }

struct ShowOptions {
  Config config = Config::k300k;
  int size = kShowDefaultSize;  // the picture area's side, pixels
  int columns = 0;              // grid; 0 x 0: chosen from the count
  int rows = 0;
};

// Parses "CxR" (also "C×R"): columns and rows, each 1..64. nullopt if not.
std::optional<std::pair<int, int>> ParseGrid(std::string_view text);

// The grid for `n` pictures when none is given: ceil(sqrt(n)) columns and
// as many rows as needed.
std::pair<int, int> DefaultGrid(size_t n);

// Draws the examples at `indices` of `split` (in that order) into a grid
// and writes it to `png_path`. InvalidArgument if there are more pictures
// than cells or none; the store's error naming the example for one that
// cannot be read or decoded; IOError naming the file if it cannot be
// written. `*width`/`*height` (if not null) receive the picture's size.
Status RenderExamples(const Store& store, Split split, std::span<const uint64_t> indices,
                      const ShowOptions& options, const std::string& png_path,
                      int* width = nullptr, int* height = nullptr);

}  // namespace oiv4kv::tools
