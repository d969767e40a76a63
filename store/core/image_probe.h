// ProbeImage: the format, stored dimensions and EXIF orientation of an
// encoded image, read from its headers alone (no pixel is decoded). It serves
// the `original` config, and vets input before any decoder allocates.
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

struct ImageProbe {
  ImageFormat format =
      ImageFormat::kUnknown;  // from magic bytes, never the file name
  uint32_t width = 0,
           height = 0;  // as stored in the header (before EXIF orientation)
  int exif_orientation = 1;  // 1..8
  // JPEG: the frame header's component count (1 gray, 3 colour, 4
  // CMYK/YCCK); 0 for PNG.
  int components = 0;
};

// Reads the JPEG markers up to the first SOS (or the PNG chunks up to IEND).
// Returns InvalidArgument naming the reason for: an unknown format ("not a
// JPEG or PNG"), a corrupt or truncated header (no SOF before SOS, bad marker
// or chunk length, zero dimensions, bad IHDR, EOF before the first scan or
// IDAT), or width*height > max_pixels ("claims 60000x60000 pixels, over
// --max-pixels N"). On error *out is unspecified.
Status ProbeImage(std::span<const uint8_t> bytes, uint64_t max_pixels,
                  ImageProbe* out);

// The format from magic bytes: FF D8 FF for JPEG, the 8-byte PNG signature.
ImageFormat DetectImageFormat(std::span<const uint8_t> bytes);

// The orientation OpenCV 4.6 reads from a TIFF block (a JPEG's first APP1
// payload minus its first 6 bytes, or a PNG eXIf chunk): like cv::ExifReader
// it walks IFD0 in order, keeps the first Orientation entry, and stops at the
// first entry whose data lies outside the block. Returns 1..8; 1 when the tag
// is absent or out of range (OpenCV then leaves the image as is).
int ExifOrientation(std::span<const uint8_t> tiff);

}  // namespace oiv4kv
