// The transcoder (store/convert/transcode.h) on any bytes, under a pixel cap
// of 4 Mpixels (so memory stays within libFuzzer's -rss_limit_mb, which
// scripts/fuzz.sh sets), with the target size and quality from the first
// input bytes. An image it returns must be a JPEG whose own header (read by
// ProbeImage) says the width and height returned, 3 components, within the
// target size's pixels (it only shrinks); a failure is InvalidArgument or
// Corruption.
#include "store/convert/transcode.h"
#include "store/core/image_probe.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* transcoder = new oiv4kv::Transcoder();  // reused, as the converter does
  oiv4kv::fuzz::Input in(data, size);
  oiv4kv::TranscodeOptions options;
  options.target_pixels = 64 * (1 + uint64_t{in.U16()});  // 64 .. 4 Mpixels
  options.max_pixels = uint64_t{1} << 22;
  options.quality = 1 + in.Byte() % 100;
  oiv4kv::TranscodeResult out;
  const oiv4kv::Status s = transcoder->Transcode(in.rest(), options, &out);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument() || s.IsCorruption(), "%s", s.ToString().c_str());
    return 0;
  }
  FUZZ_CHECK(out.width > 0 && out.height > 0, "%ux%u", out.width, out.height);
  oiv4kv::ImageProbe probe;
  const oiv4kv::Status p = oiv4kv::ProbeImage(out.jpeg, options.max_pixels, &probe);
  FUZZ_CHECK(p.ok(), "the output does not probe: %s", p.ToString().c_str());
  FUZZ_CHECK(probe.format == oiv4kv::ImageFormat::kJpeg && probe.width == out.width &&
                 probe.height == out.height && probe.components == 3,
             "output header %ux%u, %d components; result %ux%u", probe.width, probe.height,
             probe.components, out.width, out.height);
  oiv4kv::ImageProbe input;
  FUZZ_CHECK(oiv4kv::ProbeImage(in.rest(), options.max_pixels, &input).ok(), "input probe");
  const uint64_t in_pixels = uint64_t{input.width} * input.height;
  const uint64_t out_pixels = uint64_t{out.width} * out.height;
  FUZZ_CHECK(out_pixels == in_pixels || out_pixels <= options.target_pixels + out.width + out.height + 1,
             "%ux%u from %ux%u, target %llu", out.width, out.height, input.width, input.height,
             static_cast<unsigned long long>(options.target_pixels));
  return 0;
}
