// The project's one set of helpers on JPEG byte streams and EXIF blocks:
// the TIFF block of an EXIF APP1 segment, inserting that segment, finding
// markers and rewriting the size an SOF claims. Used by ImageEncoder
// (synth_image.h) and, through store/testing/sample_images.h, by the tests.
// Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace oiv4kv::synth {

// A TIFF block (what follows "Exif\0\0" in APP1) whose IFD0 holds, in tag
// order, a Make string, a Model string if `model` is not empty (both stored
// past the IFD, so a reader must follow offsets), the orientation (inline)
// and an XResolution rational of 72/1 (past the strings). With the default
// make and no model: Make's entry at byte 10, its data offset at 18,
// XResolution's entry at 34, its data offset at 42, Make's text at 50.
std::vector<uint8_t> ExifTiffBlock(int orientation, bool big_endian,
                                   std::string_view make = "oiv4kv-test",
                                   std::string_view model = {});

// Where WithApp1 leaves a JFIF APP0 segment that follows SOI.
enum class Jfif {
  kAfterApp1,   // the APP1 goes right after SOI, before everything
  kBeforeApp1,  // the APP0 stays first, the APP1 follows it
  kDrop,        // the APP0 is removed (cameras write none)
};

// `jpeg` with an APP1 "Exif\0\0" + `tiff` segment inserted after SOI.
std::vector<uint8_t> WithApp1(std::span<const uint8_t> jpeg, std::span<const uint8_t> tiff,
                              Jfif jfif = Jfif::kAfterApp1);

// Offset just past the header of the first SOS segment, or 0 if not found.
size_t JpegScanStart(std::span<const uint8_t> jpeg);
// Offset of the first SOFn marker (0xFF byte), or 0 if not found.
size_t JpegSofOffset(std::span<const uint8_t> jpeg);
// Rewrites the dimensions the first SOF claims (a decompression-bomb header
// over a small image). False, changing nothing, if there is no SOF.
bool ClaimJpegSize(std::vector<uint8_t>* jpeg, uint16_t width, uint16_t height);

}  // namespace oiv4kv::synth
