// Decoder: turns a stored image (JPEG; in `original` also PNG) into 8-bit
// interleaved pixels, as OpenCV's imdecode does by default: accurate IDCT and
// fancy upsampling, grayscale replicated to 3 channels, CMYK/YCCK converted
// with OpenCV's formula, alpha dropped, 16-bit cut to its high byte. On top of
// that: RGB, BGR or gray output, decode-time DCT downscaling, EXIF
// orientation, a policy for truncated files, a pixel cap, and decoding into a
// caller's buffer.
//
// Thread safety: a Decoder is not thread-safe (it keeps a TurboJPEG handle
// and scratch buffers); use one per thread. DecodedSize is thread-safe.
//
//   oiv4kv::Decoder decoder;  // one per thread, reused across images
//   oiv4kv::DecodeOptions o;  // RGB, full size
//   oiv4kv::DecodedImage img;
//   OIV4KV_RETURN_IF_ERROR(decoder.Decode(view, o, &img));
//   // img.pixels: img.height rows of img.width * img.channels bytes
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/export.h"
#include "oiv4kv/status.h"
#include "oiv4kv/views.h"

namespace oiv4kv {

enum class PixelFormat : uint8_t {
  kRGB,   // R,G,B per pixel
  kBGR,   // B,G,R per pixel (OpenCV's order)
  kGray,  // one byte: the JPEG's luma, or 0.299 R + 0.587 G + 0.114 B
};

inline constexpr std::array<PixelFormat, 3> kAllPixelFormats = {
    PixelFormat::kRGB, PixelFormat::kBGR, PixelFormat::kGray};

// Bytes per pixel of `format`: 3, or 1 for kGray.
OIV4KV_EXPORT int Channels(PixelFormat format);

// What to do with a file whose image data the decoder finds damaged: a JPEG
// that ends early (libjpeg warns "Premature end of JPEG file") or holds
// corrupt data (libjpeg's other warnings, e.g. "Corrupt JPEG data: bad
// Huffman code" or "... extraneous bytes before marker"), a PNG that ends or
// fails a check after its header (a bad IDAT CRC, no IEND). A header that
// cannot be parsed is Corruption under either policy.
enum class TruncatedPolicy : uint8_t {
  kError,  // return Corruption with the decoder's message
  kWarn,   // return OK with what could be decoded, and say so in
           // DecodedImage::truncated and ::warning (as OpenCV's imdecode
           // does for JPEG). JPEG: libjpeg's decode of what is there (a
           // baseline file that ends early is mid-gray, 128, from there on);
           // a fatal error after a warning is still Corruption, and such a
           // file is decoded twice (to its first warning, then in full).
           // PNG: 128 in the rows (or interlace passes) not read.
};
inline constexpr std::array<TruncatedPolicy, 2> kAllTruncatedPolicies = {
    TruncatedPolicy::kError, TruncatedPolicy::kWarn};

// Names "rgb", "bgr", "gray" and "error", "warn" (as in the Python
// binding); the same style as SplitName/ParseSplit/SplitNames in dataset.h.
OIV4KV_EXPORT std::string_view PixelFormatName(PixelFormat format);
OIV4KV_EXPORT std::optional<PixelFormat> ParsePixelFormat(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> PixelFormatNames();
OIV4KV_EXPORT std::string_view TruncatedPolicyName(TruncatedPolicy policy);
OIV4KV_EXPORT std::optional<TruncatedPolicy> ParseTruncatedPolicy(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> TruncatedPolicyNames();

struct DecodeOptions {
  // Default: kRGB.
  PixelFormat pixel_format = PixelFormat::kRGB;

  // JPEG only: decode at the smallest DCT scaling factor whose output still
  // covers min_width x min_height (in output orientation, after EXIF
  // orientation when that is applied); a side is TJSCALED(side, factor) =
  // ceil(side * factor). 0 x 0 means full size; an image smaller than the
  // minimum is decoded at full size (never upscaled). 1000x600 with a
  // minimum of 200x100 decodes at 1/4 to 250x150. PNG is always full size.
  // Default: 0, 0.
  uint32_t min_width = 0;
  uint32_t min_height = 0;
  // Which factors min_width/min_height choose from. false: 1/8, 1/4, 1/2, 1,
  // the ones TurboJPEG decodes fast (measured on a 2048x1536 4:2:0 JPEG:
  // 1/2 takes 0.8x the time of a full decode, but 3/4 1.7x and 7/8 2.2x).
  // true: every factor tjGetScalingFactors lists up to 1 (1/8, 1/4, 3/8, ...
  // 7/8, 1), for the smallest output. Default: false.
  bool all_scale_factors = false;

  // Rotate/flip by the EXIF Orientation tag (JPEG APP1, PNG eXIf) as OpenCV
  // does: 2 flip x, 3 rotate 180, 4 flip y, 5 transpose, 6 rotate 90
  // clockwise, 7 transverse, 8 rotate 90 counter-clockwise. The 300k/200k
  // configs hold upright images with no tag; `original` keeps the file's tag.
  // Default: false.
  bool apply_exif_orientation = false;

  // Default: kError.
  TruncatedPolicy truncated = TruncatedPolicy::kError;

  // TurboJPEG's fast integer IDCT and plain (non-fancy) chroma upsampling
  // (TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE): faster, slightly less accurate,
  // no longer OpenCV's pixels. Default: false.
  bool fast_dct = false;

  // Refuse an image whose header claims more pixels than this, before any
  // allocation (InvalidArgument). Default: 178'956'970 (PIL's
  // decompression-bomb limit).
  uint64_t max_pixels = 178'956'970;
};

// The shape of a decoded image: `height` rows of `width * channels` bytes.
struct ImageShape {
  uint32_t width = 0, height = 0;
  int channels = 0;  // 3 (kRGB, kBGR) or 1 (kGray)

  size_t row_bytes() const { return size_t{width} * channels; }
  // Bytes a buffer needs for this shape at `stride` bytes per row
  // (REQUIRES: stride >= row_bytes()): the last row needs no padding.
  size_t bytes_at_stride(size_t stride) const {
    return height == 0 ? 0 : stride * (height - 1) + row_bytes();
  }
};

// A decoded image in memory it owns.
struct DecodedImage {
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels, no row padding
  bool truncated = false;  // damaged data decoded under TruncatedPolicy::kWarn
  std::string warning;     // the decoder's message when truncated, else empty

  ImageShape shape() const { return {width, height, channels}; }
};

// What DecodeInto wrote.
struct DecodeInfo {
  ImageShape shape;
  bool truncated = false;  // as in DecodedImage
  std::string warning;
};

// The shape Decode would produce for `bytes` and `options`, read from the
// headers alone (no pixel is decoded). Returns InvalidArgument for an
// unknown format or an image over options.max_pixels, Corruption for a
// corrupt or truncated header. Thread-safe.
OIV4KV_EXPORT Status DecodedSize(std::span<const uint8_t> bytes, const DecodeOptions& options,
                   ImageShape* out);
// The same for a stored image; errors name it ("300k image train/<id>: ").
OIV4KV_EXPORT Status DecodedSize(const ImageView& view, const DecodeOptions& options,
                   ImageShape* out);

class OIV4KV_EXPORT Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes `bytes` (JPEG or PNG, told apart by their magic bytes) into
  // out->pixels, reusing its capacity. Returns:
  // - InvalidArgument: not a JPEG or PNG; over options.max_pixels; a JPEG of
  //   over 500 scans (a progressive-JPEG CPU bomb).
  // - Corruption: a corrupt header; undecodable data (the decoder's message,
  //   e.g. "JPEG: Invalid component ID 91 in SOS"); damaged data under
  //   TruncatedPolicy::kError (e.g. "JPEG: Premature end of JPEG file").
  // - IOError: out of memory.
  // On error *out is unspecified. Memory is bounded by the checked header
  // dimensions; `bytes` need not outlive the call.
  Status Decode(std::span<const uint8_t> bytes, const DecodeOptions& options,
                DecodedImage* out);

  // As Decode, into the caller's buffer: row y starts at dst[y * dst_stride].
  // Bytes between rows are left as they were. Returns InvalidArgument, before
  // writing anything, when dst_stride < width * channels or dst is smaller
  // than ImageShape::bytes_at_stride (the message names the shape and the
  // size needed); call DecodedSize first to size the buffer. Never writes
  // outside dst. On error the contents of dst are unspecified.
  Status DecodeInto(std::span<const uint8_t> bytes,
                    const DecodeOptions& options, std::span<uint8_t> dst,
                    size_t dst_stride, DecodeInfo* info);

  // The same for a stored image: errors (and the warning of a truncated
  // image) name the image, as in "300k image train/000a1249af2bc5f0: JPEG:
  // Premature end of JPEG file". InvalidArgument for an invalid view.
  Status Decode(const ImageView& view, const DecodeOptions& options,
                DecodedImage* out);
  Status DecodeInto(const ImageView& view, const DecodeOptions& options,
                    std::span<uint8_t> dst, size_t dst_stride,
                    DecodeInfo* info);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oiv4kv
