// The converter's progress keys in the store (Writer progress,
// store/core/writer_internal.h): what a killed run finds again when it
// resumes, and the report a complete config records. Written atomically with
// the data they describe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"

namespace oiv4kv {

// "archive/<config>/<stem>" -> members done so far, or "done".
std::string ArchiveProgressKey(Config config, const std::string& stem);
// "present/<config>/<key>" -> "archive:member" of each stored image.
std::string PresentPrefix(Config config);
std::string PresentKey(Config config, Split split, uint64_t image_id);
// "problem/<config>/<where>" -> reason: the images left out.
std::string ProblemPrefix(Config config);
// The prefixes of one config's run, cleared once it is complete (or by
// --restart).
std::vector<std::string> ConfigRunPrefixes(Config config);
// The annotations' report: malformed rows ("<index>" -> "where\treason")
// and the count of rows whose image is absent, kept for later configs.
inline constexpr std::string_view kAnnotationProblemPrefix = "annotations/problem/";
inline constexpr std::string_view kOrphanRowsKey = "annotations/orphan_rows";
// The fingerprint of each archive the store's images were read from (kept
// after the configs are complete: a later config must read the same ones).
inline constexpr std::string_view kInputPrefix = "input/";
// The size and hash of each vocabulary last written, to write them only
// when they change.
inline constexpr std::string_view kVocabulariesKey = "vocabularies";

// The ids of `split` stored in `config` so far, ascending.
Status PresentIds(const Writer& writer, Config config, Split split, std::vector<uint64_t>* ids);

// The report of `config`'s conversion: the annotations' problems and orphan
// rows, then the images left out.
Status ReadConversionReport(const Writer& writer, Config config, ConversionReport* report);

}  // namespace oiv4kv
