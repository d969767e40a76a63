#include "store/synth/jpeg_bytes.h"

namespace oiv4kv::synth {
namespace {

void Put16(std::vector<uint8_t>* v, uint32_t x, bool big_endian) {
  if (big_endian) {
    v->push_back(static_cast<uint8_t>(x >> 8)), v->push_back(static_cast<uint8_t>(x));
  } else {
    v->push_back(static_cast<uint8_t>(x)), v->push_back(static_cast<uint8_t>(x >> 8));
  }
}

void Put32(std::vector<uint8_t>* v, uint32_t x, bool big_endian) {
  if (big_endian) {
    Put16(v, x >> 16, true), Put16(v, x & 0xFFFF, true);
  } else {
    Put16(v, x & 0xFFFF, false), Put16(v, x >> 16, false);
  }
}

// Offset of the 0xFF of the first marker segment, up to and including the
// first SOS, for which pred(marker) holds; 0 if none or malformed.
template <typename Pred>
size_t FindMarker(std::span<const uint8_t> j, Pred pred) {
  if (j.size() < 4 || j[0] != 0xFF || j[1] != 0xD8) return 0;
  size_t p = 2;
  while (p + 4 <= j.size() && j[p] == 0xFF) {
    const uint8_t marker = j[p + 1];
    if (pred(marker)) return p;
    if (marker == 0xDA) return 0;
    p += 2 + (size_t{j[p + 2]} << 8 | j[p + 3]);
  }
  return 0;
}

}  // namespace

std::vector<uint8_t> ExifTiffBlock(int orientation, bool big_endian, std::string_view make,
                                   std::string_view model) {
  // Strings with their NUL, each padded to an even length (TIFF offsets are
  // word-aligned); the rational after them.
  auto padded = [](std::string_view s) { return (s.size() + 2) & ~size_t{1}; };
  const uint32_t entries = model.empty() ? 3 : 4;
  const uint32_t make_at = 8 + 2 + entries * 12 + 4;
  const uint32_t model_at = make_at + static_cast<uint32_t>(padded(make));
  const uint32_t res_at = model_at + static_cast<uint32_t>(model.empty() ? 0 : padded(model));
  std::vector<uint8_t> b;
  b.reserve(res_at + 8);
  b.push_back(big_endian ? 'M' : 'I'), b.push_back(big_endian ? 'M' : 'I');
  Put16(&b, 0x2A, big_endian);
  Put32(&b, 8, big_endian);  // IFD0 right after the header
  Put16(&b, entries, big_endian);
  Put16(&b, 0x010F, big_endian), Put16(&b, 2, big_endian);  // Make, ASCII
  Put32(&b, static_cast<uint32_t>(make.size() + 1), big_endian), Put32(&b, make_at, big_endian);
  if (!model.empty()) {
    Put16(&b, 0x0110, big_endian), Put16(&b, 2, big_endian);  // Model, ASCII
    Put32(&b, static_cast<uint32_t>(model.size() + 1), big_endian);
    Put32(&b, model_at, big_endian);
  }
  Put16(&b, 0x0112, big_endian), Put16(&b, 3, big_endian);  // Orientation, SHORT, inline
  Put32(&b, 1, big_endian);
  Put16(&b, static_cast<uint32_t>(orientation), big_endian), Put16(&b, 0, big_endian);
  Put16(&b, 0x011A, big_endian), Put16(&b, 5, big_endian);  // XResolution, RATIONAL
  Put32(&b, 1, big_endian), Put32(&b, res_at, big_endian);
  Put32(&b, 0, big_endian);  // no IFD1
  auto put_string = [&](std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    b.resize(b.size() + padded(s) - s.size(), 0);  // the NUL and the padding
  };
  put_string(make);
  if (!model.empty()) put_string(model);
  Put32(&b, 72, big_endian), Put32(&b, 1, big_endian);
  return b;
}

std::vector<uint8_t> WithApp1(std::span<const uint8_t> jpeg, std::span<const uint8_t> tiff,
                              Jfif jfif) {
  size_t at = 2, skip = 0;  // insert at `at`, dropping `skip` bytes there
  if (jfif != Jfif::kAfterApp1 && jpeg.size() > 6 && jpeg[2] == 0xFF && jpeg[3] == 0xE0) {
    const size_t app0 = 2 + (size_t{jpeg[4]} << 8 | jpeg[5]);
    (jfif == Jfif::kBeforeApp1 ? at : skip) += app0;
  }
  std::vector<uint8_t> out;
  out.reserve(jpeg.size() + tiff.size() + 10);
  out.insert(out.end(), jpeg.begin(), jpeg.begin() + static_cast<ptrdiff_t>(at));
  const size_t len = 2 + 6 + tiff.size();
  out.push_back(0xFF);
  out.push_back(0xE1);
  out.push_back(static_cast<uint8_t>(len >> 8));
  out.push_back(static_cast<uint8_t>(len));
  const uint8_t ident[6] = {'E', 'x', 'i', 'f', 0, 0};
  out.insert(out.end(), ident, ident + 6);
  out.insert(out.end(), tiff.begin(), tiff.end());
  out.insert(out.end(), jpeg.begin() + static_cast<ptrdiff_t>(at + skip), jpeg.end());
  return out;
}

size_t JpegScanStart(std::span<const uint8_t> jpeg) {
  const size_t sos = FindMarker(jpeg, [](uint8_t m) { return m == 0xDA; });
  return sos == 0 ? 0 : sos + 2 + (size_t{jpeg[sos + 2]} << 8 | jpeg[sos + 3]);
}

size_t JpegSofOffset(std::span<const uint8_t> jpeg) {
  return FindMarker(jpeg, [](uint8_t m) {
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
  });
}

bool ClaimJpegSize(std::vector<uint8_t>* jpeg, uint16_t width, uint16_t height) {
  const size_t sof = JpegSofOffset(*jpeg);
  if (sof == 0 || sof + 8 >= jpeg->size()) return false;
  // SOF: FF Cn len(2) precision(1) height(2) width(2)
  (*jpeg)[sof + 5] = static_cast<uint8_t>(height >> 8);
  (*jpeg)[sof + 6] = static_cast<uint8_t>(height & 0xFF);
  (*jpeg)[sof + 7] = static_cast<uint8_t>(width >> 8);
  (*jpeg)[sof + 8] = static_cast<uint8_t>(width & 0xFF);
  return true;
}

}  // namespace oiv4kv::synth
