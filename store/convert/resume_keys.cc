#include "store/convert/resume_keys.h"

#include "store/core/format/keys.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {

std::string ArchiveProgressKey(Config config, const std::string& stem) {
  return "archive/" + std::string(ConfigName(config)) + "/" + stem;
}

std::string PresentPrefix(Config config) {
  return "present/" + std::string(ConfigName(config)) + "/";
}

std::string PresentKey(Config config, Split split, uint64_t image_id) {
  return PresentPrefix(config) + std::string(KeyView(EncodeKey(split, image_id)));
}

std::string ProblemPrefix(Config config) {
  return "problem/" + std::string(ConfigName(config)) + "/";
}

std::vector<std::string> ConfigRunPrefixes(Config config) {
  return {PresentPrefix(config), ProblemPrefix(config),
          "archive/" + std::string(ConfigName(config)) + "/"};
}

Status PresentIds(const Writer& writer, Config config, Split split, std::vector<uint64_t>* ids) {
  const std::string present = PresentPrefix(config);
  ids->clear();
  return ScanProgress(writer, present + std::string(1, static_cast<char>(split)),
                      [&](std::string_view key, std::string_view) {
                        Split s;
                        uint64_t id;
                        if (DecodeKey(key.substr(present.size()), &s, &id)) ids->push_back(id);
                        return true;
                      });
}

Status ReadConversionReport(const Writer& writer, Config config, ConversionReport* report) {
  *report = ConversionReport();
  std::string orphans;
  if (GetProgress(writer, kOrphanRowsKey, &orphans).ok()) {
    report->orphan_annotation_rows = std::stoull(orphans);
  }
  OIV4KV_RETURN_IF_ERROR(ScanProgress(
      writer, kAnnotationProblemPrefix, [&](std::string_view, std::string_view v) {
        const size_t tab = v.find('\t');
        report->problems.push_back(
            {std::string(v.substr(0, tab)),
             tab == std::string_view::npos ? "" : std::string(v.substr(tab + 1))});
        return true;
      }));
  const std::string prefix = ProblemPrefix(config);
  return ScanProgress(writer, prefix, [&](std::string_view k, std::string_view v) {
    report->problems.push_back({std::string(k.substr(prefix.size())), std::string(v)});
    return true;
  });
}

}  // namespace oiv4kv
