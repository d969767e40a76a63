// oiv4-kv verify STORE [--deep] [--json]: checks a store from its files'
// checksums to its records' values (store/verify/verify.h) and lists the problems.
#include "store/verify/verify.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "store/convert/progress.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

// Problems printed as text; --json prints every one the report kept.
constexpr size_t kShownProblems = 50;

nlohmann::ordered_json ToJson(const std::string& path, const VerifyReport& r) {
  nlohmann::ordered_json j;
  j["store"] = path;
  j["ok"] = r.ok();
  j["deep"] = r.deep;
  j["problems"] = nlohmann::ordered_json::array();
  for (const Problem& p : r.problems)
    j["problems"].push_back({{"where", p.where}, {"reason", p.reason}});
  j["problem_count"] = r.num_problems;
  j["notes"] = r.notes;
  nlohmann::ordered_json images = nlohmann::ordered_json::object();
  for (Config c : kAllConfigs) {
    if (const auto& n = r.images[static_cast<int>(c)]) images[std::string(ConfigName(c))] = *n;
  }
  j["checked"] = {{"files", r.files},
                  {"records", r.records},
                  {"images", images},
                  {"decoded", r.decoded},
                  {"decode_warnings", r.decode_warnings}};
  return j;
}

void PrintHuman(const std::string& path, const VerifyReport& r) {
  auto& out = std::cout;
  out << "checked " << path << ": " << r.files << " files, " << r.records << " annotation records";
  for (Config c : kAllConfigs) {
    if (const auto& n = r.images[static_cast<int>(c)])
      out << ", " << *n << " " << ConfigName(c) << " images";
  }
  if (r.deep) {
    out << "; decoded " << r.decoded << " images (" << r.decode_warnings
        << " truncated or damaged, decoded with a warning)";
  }
  out << "\n";
  for (const std::string& note : r.notes) out << "note: " << note << "\n";
  if (r.ok()) {
    out << "OK: no problems found" << (r.deep ? "" : " (--deep also decodes every image)") << "\n";
    return;
  }
  out << r.num_problems << (r.num_problems == 1 ? " problem:\n" : " problems:\n");
  for (size_t i = 0; i < r.problems.size() && i < kShownProblems; ++i) {
    out << "  " << r.problems[i].where << ": " << r.problems[i].reason << "\n";
  }
  if (r.num_problems > kShownProblems) {
    out << "  ... and " << r.num_problems - kShownProblems << " more (--json lists "
        << std::min<uint64_t>(r.num_problems, r.problems.size()) << ")\n";
  }
}

}  // namespace

void AddVerifyCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "verify", "Check a store: file checksums, counts, indexes, every record and image");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto options = std::make_shared<VerifyOptions>();
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->add_flag("--deep", options->deep,
                "Also decode every image and compare its size with the stored one");
  cmd->add_option("--threads", options->threads, "Threads that decode with --deep (0: all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", *json, "Print stable JSON instead of text");
  cmd->footer(
      "Checks every table file's block checksums and every MANIFEST and log record's\n"
      "checksum; the manifest's counts and each split's index against the keys, and\n"
      "its label index (what `oiv4-kv query` runs on) against the records; every\n"
      "annotation record (FlatBuffers verifier, labels within their lists, confidences,\n"
      "sources, boxes in [0, 1], flags); an image for every example of every complete\n"
      "config, and no image without one. Not covered: the 32 bytes of padding in each\n"
      "table file's footer, which RocksDB never reads. A store that a writer (`oiv4-kv\n"
      "convert`) holds is reported as such, not checked: run verify after it finishes.\n\n"
      "Exit status (as for every command): 0 no problem, 1 problems found, no store at\n"
      "STORE, a store that does not open or is being written, or output that cannot be\n"
      "written; 2 usage error (a bad command line).\n\n"
      "Examples:\n"
      "  oiv4-kv verify /data/oiv4\n"
      "  oiv4-kv verify /data/oiv4 --deep --threads 8\n"
      "  oiv4-kv verify /data/oiv4 --json | jq '.problems[:5]'");
  cmd->callback([=] {
    std::unique_ptr<ProgressMeter> meter;
    VerifyProgressFn progress;
    if (isatty(STDERR_FILENO) != 0) {
      meter = std::make_unique<ProgressMeter>(stderr, true);
      progress = [m = meter.get()](const VerifyProgress& p) {
        switch (p.event) {
          case VerifyProgress::Event::kStart:
            m->Start("verify " + p.phase, p.unit, p.total_bytes);
            break;
          case VerifyProgress::Event::kUpdate:
            m->Update(p.items, p.bytes, p.where);
            break;
          case VerifyProgress::Event::kFinish:
            m->Update(p.items, p.bytes, "");  // updates come every few hundred items
            m->Finish();
            break;
        }
      };
    }
    VerifyReport report;
    if (Status s = VerifyStore(*path, *options, progress, &report); !s.ok()) {
      std::cerr << "oiv4-kv verify: " << s.message() << "\n";
      *exit_code = 1;
      return;
    }
    if (*json) {
      std::cout << DumpJson(ToJson(*path, report), 2) << "\n";
    } else {
      PrintHuman(*path, report);
    }
    *exit_code = report.ok() ? 0 : 1;
  });
}

}  // namespace oiv4kv::tools
