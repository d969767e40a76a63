#include "store/core/image_probe.h"

#include <zlib.h>

#include <cstring>
#include <optional>
#include <string>

namespace oiv4kv {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1A, '\n'};

uint32_t Be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}

Status Corrupt(ImageFormat format, const std::string& why) {
  return Status::InvalidArgument(std::string(format == ImageFormat::kPng
                                                 ? "corrupt PNG header: "
                                                 : "corrupt JPEG header: ") +
                                 why);
}

Status CheckPixels(uint32_t width, uint32_t height, uint64_t max_pixels) {
  if (uint64_t{width} * height > max_pixels) {
    return Status::InvalidArgument(
        "claims " + std::to_string(width) + "x" + std::to_string(height) +
        " pixels, over --max-pixels " + std::to_string(max_pixels));
  }
  return Status::OK();
}

// cv::ExifReader's reads: little-endian only for "II", big-endian otherwise
// (including a malformed byte-order mark); nullopt where OpenCV throws.
class TiffReader {
 public:
  explicit TiffReader(std::span<const uint8_t> d) : d_(d) {
    little_ = !d.empty() && d[0] == 'I' && (d.size() < 2 || d[1] == 'I');
  }
  std::optional<uint32_t> U16(size_t at) const {
    if (at + 1 >= d_.size()) return std::nullopt;
    return little_ ? d_[at] | (uint32_t{d_[at + 1]} << 8)
                   : (uint32_t{d_[at]} << 8) | d_[at + 1];
  }
  std::optional<uint32_t> U32(size_t at) const {
    if (at + 3 >= d_.size()) return std::nullopt;
    const uint32_t a = d_[at], b = d_[at + 1], c = d_[at + 2], e = d_[at + 3];
    return little_ ? a | (b << 8) | (c << 16) | (e << 24)
                   : (a << 24) | (b << 16) | (c << 8) | e;
  }
  size_t size() const { return d_.size(); }

 private:
  std::span<const uint8_t> d_;
  bool little_;
};

// Whether the entry at `entry` parses as OpenCV parses it (which reads the
// out-of-line data of the tags it knows, and throws where that is missing).
bool EntryReadable(const TiffReader& r, uint32_t tag, uint32_t entry) {
  auto rationals = [&](int count) {
    const auto at = r.U32(entry + 8);
    if (!at) return false;
    uint32_t p = *at;  // uint32 arithmetic, as in OpenCV
    for (int i = 0; i < count; ++i, p += 8) {
      if (!r.U32(p) || !r.U32(p + 4)) return false;
    }
    return true;
  };
  switch (tag) {
    case 0x010E:
    case 0x010F:
    case 0x0110:
    case 0x0131:
    case 0x0132:
    case 0x8298: {  // strings
      const auto count = r.U32(entry + 4);
      if (!count) return false;
      size_t at = 8;  // OpenCV's offset for inline (<= 4 byte) strings
      if (*count > 4) {
        const auto off = r.U32(entry + 8);
        if (!off) return false;
        at = *off;
      }
      return at <= r.size() && at + *count <= r.size();
    }
    case 0x011A:
    case 0x011B:
      return rationals(1);  // X/YResolution
    case 0x013E:
      return rationals(2);  // WhitePoint
    case 0x013F:
      return rationals(6);  // PrimaryChromaticities
    case 0x0211:
      return rationals(3);  // YCbCrCoefficients
    case 0x0214:
      return rationals(6);  // ReferenceBlackWhite
    case 0x0112:
    case 0x0128:
    case 0x0213:
      return r.U16(entry + 8).has_value();
    default:
      return true;
  }
}

// JPEG: walks the markers as libjpeg's jpeg_read_header does, up to SOS.
Status ProbeJpeg(std::span<const uint8_t> b, uint64_t max_pixels,
                 ImageProbe* out) {
  const ImageFormat f = ImageFormat::kJpeg;
  const size_t n = b.size();
  size_t pos = 2;  // after SOI
  bool saw_sof = false;
  std::optional<std::span<const uint8_t>> app1;
  for (;;) {
    // next_marker(): skip garbage up to 0xFF, fill bytes, and stuffed FF 00.
    uint8_t marker = 0;
    while (marker == 0) {
      while (pos < n && b[pos] != 0xFF) ++pos;
      while (pos < n && b[pos] == 0xFF) ++pos;
      if (pos >= n) {
        return Corrupt(f, saw_sof
                              ? "the file ends before the first scan (SOS)"
                              : "the file ends before the frame header (SOF)");
      }
      marker = b[pos++];
    }
    if (marker == 0xD8) return Corrupt(f, "a second SOI marker");
    if (marker == 0xD9) return Corrupt(f, "EOI before the first scan");
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
      continue;  // no length
    if (pos + 2 > n) return Corrupt(f, "the file ends inside a marker length");
    const uint32_t length = Be16(&b[pos]);
    if (length < 2)
      return Corrupt(f, "bad marker length " + std::to_string(length));
    const size_t body = pos + 2, end = pos + length;
    const bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                        marker != 0xC8 && marker != 0xCC;
    if (marker == 0xDA) {
      if (!saw_sof)
        return Corrupt(f, "a scan (SOS) before the frame header (SOF)");
      break;
    }
    if (is_sof) {
      if (saw_sof) return Corrupt(f, "a second frame header (SOF)");
      if (end > n || length < 8)
        return Corrupt(f, "truncated frame header (SOF)");
      out->height = Be16(&b[body + 1]);
      out->width = Be16(&b[body + 3]);
      const uint32_t components = b[body + 5];
      if (out->width == 0 || out->height == 0 || components == 0) {
        return Corrupt(f, "empty image (" + std::to_string(out->width) + "x" +
                              std::to_string(out->height) + ", " +
                              std::to_string(components) + " components)");
      }
      if (length != 8 + 3 * components)
        return Corrupt(f, "bad frame header (SOF) length");
      out->components = static_cast<int>(components);
      OIV4KV_RETURN_IF_ERROR(CheckPixels(out->width, out->height, max_pixels));
      saw_sof = true;
    } else if (marker == 0xE1 && !app1) {
      // libjpeg saves what is there of a truncated segment; the walk then
      // fails below, as jpeg_read_header would.
      app1 = b.subspan(body, std::min(end, n) - body);
    }
    if (end > n) return Corrupt(f, "the file ends inside a marker segment");
    pos = end;
  }
  // OpenCV parses the first APP1, whatever it holds, from its 7th byte.
  if (app1 && app1->size() > 6)
    out->exif_orientation = ExifOrientation(app1->subspan(6));
  return Status::OK();
}

// PNG: IHDR as libpng checks it, then the chunks (by length) for eXIf.
Status ProbePng(std::span<const uint8_t> b, uint64_t max_pixels,
                ImageProbe* out) {
  const ImageFormat f = ImageFormat::kPng;
  const size_t n = b.size();
  if (n < 8 + 8 + 13 + 4 || Be32(&b[8]) != 13 ||
      std::memcmp(&b[12], "IHDR", 4) != 0) {
    return Corrupt(f, "IHDR must be the first chunk");
  }
  const uint8_t* ihdr = &b[16];
  if (crc32(crc32(0, &b[12], 4), ihdr, 13) != Be32(&b[29]))
    return Corrupt(f, "IHDR CRC error");
  out->width = Be32(ihdr);
  out->height = Be32(ihdr + 4);
  if (out->width == 0 || out->height == 0 || out->width > 0x7FFFFFFF ||
      out->height > 0x7FFFFFFF) {
    return Corrupt(f, "invalid dimensions " + std::to_string(out->width) + "x" +
                          std::to_string(out->height));
  }
  const int depth = ihdr[8], color = ihdr[9];
  bool valid;
  switch (color) {
    case 0:
      valid =
          depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
      break;
    case 3:
      valid = depth == 1 || depth == 2 || depth == 4 || depth == 8;
      break;
    case 2:
    case 4:
    case 6:
      valid = depth == 8 || depth == 16;
      break;
    default:
      valid = false;
  }
  if (!valid || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1) {
    return Corrupt(f, "invalid IHDR (bit depth " + std::to_string(depth) +
                          ", colour type " + std::to_string(color) + ")");
  }
  OIV4KV_RETURN_IF_ERROR(CheckPixels(out->width, out->height, max_pixels));
  bool saw_idat = false;
  bool saw_exif = false;
  for (size_t pos = 8 + 25; pos + 8 <= n;) {
    const uint32_t length = Be32(&b[pos]);
    if (length > 0x7FFFFFFF) return Corrupt(f, "bad chunk length");
    const uint8_t* type = &b[pos + 4];
    const size_t data = pos + 8;
    if (std::memcmp(type, "IDAT", 4) == 0) saw_idat = true;
    if (std::memcmp(type, "IEND", 4) == 0) break;
    if (data + length + 4 > n)
      break;  // truncated: libpng fails later, if it needs the rest
    // libpng keeps the first eXIf with a good CRC and byte-order mark.
    if (!saw_exif && std::memcmp(type, "eXIf", 4) == 0 && length >= 2 &&
        crc32(crc32(0, type, 4), &b[data], length) == Be32(&b[data + length]) &&
        (b[data] == 'I' || b[data] == 'M') && b[data] == b[data + 1]) {
      saw_exif = true;
      out->exif_orientation = ExifOrientation(b.subspan(data, length));
    }
    pos = data + length + 4;
  }
  if (!saw_idat)
    return Corrupt(f, "no image data (IDAT) before the end of the file");
  return Status::OK();
}

}  // namespace

ImageFormat DetectImageFormat(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 &&
      bytes[2] == 0xFF) {
    return ImageFormat::kJpeg;
  }
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPngSignature, 8) == 0) {
    return ImageFormat::kPng;
  }
  return ImageFormat::kUnknown;
}

int ExifOrientation(std::span<const uint8_t> tiff) {
  const TiffReader r(tiff);
  const auto mark = r.U16(2);
  if (!mark || *mark != 0x2A) return 1;
  const auto ifd = r.U32(4);
  if (!ifd) return 1;
  const auto entries = r.U16(*ifd);
  if (!entries) return 1;
  uint32_t entry = *ifd + 2;  // uint32 arithmetic, as in OpenCV
  for (uint32_t i = 0; i < *entries; ++i, entry += 12) {
    const auto tag = r.U16(entry);
    if (!tag || !EntryReadable(r, *tag, entry)) return 1;
    if (*tag == 0x0112) {
      const uint32_t v = *r.U16(entry + 8);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

Status ProbeImage(std::span<const uint8_t> bytes, uint64_t max_pixels,
                  ImageProbe* out) {
  *out = ImageProbe();
  out->format = DetectImageFormat(bytes);
  switch (out->format) {
    case ImageFormat::kJpeg:
      return ProbeJpeg(bytes, max_pixels, out);
    case ImageFormat::kPng:
      return ProbePng(bytes, max_pixels, out);
    case ImageFormat::kUnknown:
      break;
  }
  return Status::InvalidArgument(bytes.empty() ? "not a JPEG or PNG (empty)"
                                               : "not a JPEG or PNG");
}

}  // namespace oiv4kv
