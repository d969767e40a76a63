// oiv4-kv info STORE [--json]: what a store holds and how it was made.
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "oiv4kv/store.h"
#include "oiv4kv/version.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

std::string IsoTime(uint64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json Counts(const std::array<std::optional<uint64_t>, kNumSplits>& counts) {
  nlohmann::json j = nlohmann::json::object();
  for (Split s : kAllSplits) {
    if (const auto& c = counts[static_cast<int>(s)]) j[std::string(SplitName(s))] = *c;
  }
  return j;
}

// The recorded --on-error ("fail", "skip"), or "" when none was recorded.
std::string OnErrorText(const ConversionOptions& options) {
  return options.on_error ? std::string(ErrorPolicyName(*options.on_error)) : "";
}

// Everything info reports, as JSON; the human form is printed from it too,
// so the two never disagree.
nlohmann::json Describe(const Store& store) {
  const Manifest& m = store.manifest();
  nlohmann::json j;
  j["path"] = store.path();
  j["complete"] = m.annotations_complete;
  j["schema_version"] = m.schema_version;
  j["writer_version"] = m.writer_version;
  j["reader_version"] = std::string(LibraryVersion());
  j["updated"] = IsoTime(m.updated_unix_seconds);
  j["label_order"] = std::string(LabelOrderName(m.label_order));
  j["splits"] = Counts(m.num_examples);
  j["configs"] = nlohmann::json::array();
  for (Config c : store.Configs()) j["configs"].push_back(std::string(ConfigName(c)));
  j["config_details"] = nlohmann::json::object();
  for (const ConfigManifest& c : m.configs) {
    nlohmann::json d;
    d["complete"] = c.complete;
    d["images"] = Counts(c.num_images);
    d["options"] = {{"source", c.options.source},
                    {"threads", c.options.threads},
                    {"on_error", OnErrorText(c.options)},
                    {"max_pixels", c.options.max_pixels},
                    {"label_lists", c.options.label_lists}};
    d["report"] = {{"problems", c.report.problems.size()},
                   {"orphan_annotation_rows", c.report.orphan_annotation_rows}};
    j["config_details"][std::string(ConfigName(c.config))] = d;
  }
  j["vocabularies"] = nlohmann::json::object();
  for (int k = 0; k < kNumVocabKinds; ++k) {
    const auto kind = static_cast<VocabKind>(k);
    j["vocabularies"][std::string(VocabKindName(kind))] = store.vocabulary(kind).size();
  }
  j["bytes"] = nlohmann::json::object();
  for (const auto& [family, bytes] : store.ColumnFamilyBytes()) j["bytes"][family] = bytes;
  return j;
}

void PrintHuman(const nlohmann::json& j, const Store& store) {
  auto& out = std::cout;
  out << "store          " << j["path"].get<std::string>() << "\n"
      << "complete       " << (j["complete"].get<bool>() ? "yes" : "NO (annotations not committed)")
      << "\n"
      << "schema         version " << j["schema_version"] << ", written by oiv4-kv "
      << j["writer_version"].get<std::string>() << ", updated "
      << j["updated"].get<std::string>() << "\n"
      << "label order    " << j["label_order"].get<std::string>()
      << (j["label_order"] == "tfds" ? " (ids equal TFDS's)" : " (the download's own files)")
      << "\n"
      << "examples      ";
  for (const auto& [split, n] : j["splits"].items()) out << " " << split << " " << n;
  out << "\nvocabularies  ";
  for (const auto& [kind, n] : j["vocabularies"].items()) out << " " << kind << " " << n;
  out << "\nconfigs\n";
  for (const ConfigManifest& c : store.manifest().configs) {
    out << "  " << ConfigName(c.config) << (c.complete ? "" : "  (in progress, not readable)")
        << "\n    images     ";
    for (Split s : kAllSplits) {
      if (const auto& n = c.num_images[static_cast<int>(s)]) out << " " << SplitName(s) << " " << *n;
    }
    out << "\n    options     source " << (c.options.source.empty() ? "-" : c.options.source)
        << ", threads " << c.options.threads << ", on-error "
        << (c.options.on_error ? OnErrorText(c.options) : "-") << ", max-pixels "
        << c.options.max_pixels << ", label-lists "
        << (c.options.label_lists.empty() ? "-" : c.options.label_lists) << "\n"
        << "    report      " << c.report.problems.size() << " inputs left out, "
        << c.report.orphan_annotation_rows << " annotation rows without an image\n";
    for (size_t i = 0; i < c.report.problems.size() && i < 5; ++i) {
      out << "      " << c.report.problems[i].where << ": " << c.report.problems[i].reason << "\n";
    }
    if (c.report.problems.size() > 5) {
      out << "      ... " << c.report.problems.size() - 5 << " more\n";
    }
  }
  out << "bytes on disk\n";
  for (const auto& [family, n] : j["bytes"].items()) {
    out << "  " << family << std::string(18 - std::min<size_t>(family.size(), 17), ' ')
        << HumanBytes(n.get<uint64_t>()) << "\n";
  }
}

}  // namespace

void AddInfoCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand("info", "Show what a store holds and how it was made");
  auto store_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("STORE", *store_path, "Store directory")->required();
  cmd->add_flag("--json", *json, "Print stable JSON instead of text");
  cmd->footer(
      "Exit status (as for every command): 0 a complete store, 1 an incomplete store\n"
      "(still printed), no store at STORE, a store that does not open, or output that\n"
      "cannot be written; 2 usage error (a bad command line).\n\n"
      "Examples:\n"
      "  oiv4-kv info /data/oiv4\n"
      "  oiv4-kv info /data/oiv4 --json | jq .splits");
  cmd->callback([=] {
    StoreOptions options;
    options.allow_incomplete = true;  // info reports incomplete stores too
    options.index_annotations = false;  // reads no record: skip the walk at open
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(*store_path, options, &store); !s.ok()) {
      std::cerr << "oiv4-kv info: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    const nlohmann::json j = Describe(*store);
    if (*json) {
      std::cout << DumpJson(j, 2) << "\n";
    } else {
      PrintHuman(j, *store);
    }
    *exit_code = j["complete"].get<bool>() ? 0 : 1;
  });
}

}  // namespace oiv4kv::tools
