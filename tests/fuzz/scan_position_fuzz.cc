// ScanPosition::Parse (oiv4kv/scan.h) and the enum names of the public API
// (ParseSplit ... ParseImageDType) on any text. Parse takes exactly what
// Serialize writes ("InvalidArgument on anything else"), so a position it
// accepts must serialize back to the same text; a name a ParseX accepts must
// be XName of the value it returns.
#include <string>

#include "oiv4kv/dataset.h"
#include "oiv4kv/decode.h"
#include "oiv4kv/loader.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/scan.h"
#include "oiv4kv/transform.h"
#include "oiv4kv/transform_decoder.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

template <typename Parse, typename Name>
void CheckName(std::string_view text, Parse parse, Name name, const char* what) {
  const auto value = parse(text);
  if (value) FUZZ_CHECK(name(*value) == text, "%s: %s", what, std::string(text).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  oiv4kv::ScanPosition pos;
  const oiv4kv::Status s = oiv4kv::ScanPosition::Parse(text, &pos);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument(), "%s", s.ToString().c_str());
  } else {
    const std::string again = pos.Serialize();
    FUZZ_CHECK(again == text, "Parse accepts '%s', which serializes as '%s'",
               std::string(text).c_str(), again.c_str());
    oiv4kv::ScanPosition reparsed;
    FUZZ_CHECK(oiv4kv::ScanPosition::Parse(again, &reparsed).ok() && reparsed == pos,
               "the serialized position does not parse back: %s", again.c_str());
  }
  CheckName(text, oiv4kv::ParseSplit, oiv4kv::SplitName, "split");
  CheckName(text, oiv4kv::ParseConfig, oiv4kv::ConfigName, "config");
  CheckName(text, oiv4kv::ParseVocabKind, oiv4kv::VocabKindName, "vocab kind");
  CheckName(text, oiv4kv::ParseLabelOrder, oiv4kv::LabelOrderName, "label order");
  CheckName(text, oiv4kv::ParseImageFormat, oiv4kv::ImageFormatName, "image format");
  CheckName(text, oiv4kv::ParsePixelFormat, oiv4kv::PixelFormatName, "pixel format");
  CheckName(text, oiv4kv::ParseTruncatedPolicy, oiv4kv::TruncatedPolicyName, "truncated");
  CheckName(text, oiv4kv::ParseBadImagePolicy, oiv4kv::BadImagePolicyName, "bad image");
  CheckName(text, oiv4kv::ParseRemainder, oiv4kv::RemainderName, "remainder");
  CheckName(text, oiv4kv::ParseErrorPolicy, oiv4kv::ErrorPolicyName, "error policy");
  CheckName(text, oiv4kv::ParseScanOrder, oiv4kv::ScanOrderName, "scan order");
  CheckName(text, oiv4kv::ParseTransformKind, oiv4kv::TransformKindName, "transform");
  CheckName(text, oiv4kv::ParseImageLayout, oiv4kv::ImageLayoutName, "layout");
  CheckName(text, oiv4kv::ParseImageDType, oiv4kv::ImageDTypeName, "dtype");
  return 0;
}
