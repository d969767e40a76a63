// Generated images for tests and benchmarks, in each form a real crawl
// contains (baseline and progressive JPEG at any chroma subsampling,
// grayscale, RGB, CMYK/YCCK, odd sampling, EXIF-rotated, PNG of every colour
// type). The pixels and the writers are the project's one generator and one
// set of JPEG/PNG/EXIF writers, in store/synth (image_paint.h,
// jpeg_writer.h, png_writer.h, jpeg_bytes.h), named here in namespace
// oiv4kv; this header adds only what tests alone need: the JPEG variants
// no shipped code writes, a reference decoder, and (reference_images.h) the
// reference resamplers and measures. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "oiv4kv/status.h"
#include "store/synth/image_paint.h"
#include "store/synth/jpeg_bytes.h"
#include "store/synth/jpeg_writer.h"
#include "store/synth/png_writer.h"
#include "store/testing/reference_images.h"

namespace oiv4kv {

using synth::EncodeJpeg;
using synth::EncodeJpegLibjpeg;
using synth::EncodePng;
using synth::ExifTiffBlock;
using synth::JpegColorKind;
using synth::JpegSpec;
using synth::PngKind;
using synth::RgbImage;
using synth::SyntheticImage;
using synth::WithApp1;

// What cv::imencode(".jpg", img, {IMWRITE_JPEG_QUALITY, quality}) writes for
// these pixels: libjpeg defaults (YCbCr 4:2:0, baseline, standard Huffman
// tables, accurate DCT) and jpeg_set_quality(quality, TRUE).
Status EncodeJpegLikeOpenCv(const RgbImage& image, int quality,
                            std::vector<uint8_t>* out);

// A valid progressive JPEG of 1 + 3 * 63 * (refinements + 1) scans: a DC
// scan, then each AC coefficient of each component alone, refined bit by bit.
Status EncodeJpegManyScans(const RgbImage& image, int refinements,
                           std::vector<uint8_t>* out);

// Decodes a JPEG to RGB with TurboJPEG (accurate IDCT, fancy upsampling: the
// pixels OpenCV's imdecode gives for YCbCr and gray JPEGs, in RGB order).
Status DecodeJpegRgb(std::span<const uint8_t> jpeg, RgbImage* out);

}  // namespace oiv4kv
