// Manifest: what a store holds and how it was made (schema/manifest.fbs in
// memory). Written last by each writer commit; read by Store::Open.
// Thread safety: plain data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"

namespace oiv4kv {

// What the converter does with a bad input (`oiv4-kv convert --on-error`):
// stop at the first, or leave it out and record it in the report.
enum class ErrorPolicy : uint8_t { kFail = 0, kSkip = 1 };
inline constexpr std::array<ErrorPolicy, 2> kAllErrorPolicies = {ErrorPolicy::kFail,
                                                                 ErrorPolicy::kSkip};
// "fail", "skip"; the same style as SplitName/ParseSplit/SplitNames in
// dataset.h.
OIV4KV_EXPORT std::string_view ErrorPolicyName(ErrorPolicy policy);
OIV4KV_EXPORT std::optional<ErrorPolicy> ParseErrorPolicy(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> ErrorPolicyNames();

// How a config was converted, as its manifest records it: the options
// `oiv4-kv convert` ran with. All empty/0 for a config committed by a writer
// that recorded none (Writer::CommitConfig).
struct ConversionOptions {
  std::string source;       // the download directory
  uint32_t threads = 0;
  // --on-error; nullopt when not recorded. (Stored as ErrorPolicyName's
  // text; reading a store whose text is neither is Corruption.)
  std::optional<ErrorPolicy> on_error;
  uint64_t max_pixels = 0;
  std::string label_lists;  // TFDS's class lists directory, empty if unused
};

// One bad input the conversion left out, and why.
struct Problem {
  std::string where;   // "file:line" or "archive:member"
  std::string reason;
};

// What the conversion of a config left out.
struct ConversionReport {
  std::vector<Problem> problems;
  uint64_t orphan_annotation_rows = 0;  // rows whose ImageID has no image
};

struct ConfigManifest {
  Config config = Config::kOriginal;
  bool complete = false;
  // Images stored per split; nullopt for splits not converted.
  std::array<std::optional<uint64_t>, kNumSplits> num_images;
  ConversionOptions options;
  ConversionReport report;
};

struct OIV4KV_EXPORT Manifest {
  uint32_t schema_version = 0;
  std::string writer_version;
  LabelOrder label_order = LabelOrder::kDownload;
  // True once examples, vocabularies and the per-split index are committed.
  bool annotations_complete = false;
  // Examples per split; nullopt for splits the store does not hold.
  std::array<std::optional<uint64_t>, kNumSplits> num_examples;
  std::vector<ConfigManifest> configs;  // complete or in progress
  uint64_t updated_unix_seconds = 0;

  // The entry for `config`, or nullptr.
  const ConfigManifest* FindConfig(Config config) const;
  ConfigManifest* FindConfig(Config config);
};

}  // namespace oiv4kv
