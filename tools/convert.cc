// oiv4-kv convert: the official download -> a store, one config per run or
// several in one pass (--config 300k,200k,original).
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "store/convert/converter.h"
#include "tools/commands.h"
#include "tools/split_list.h"

namespace oiv4kv::tools {
namespace {

Status ParseConfigs(const std::string& list, std::vector<Config>* out) {
  out->clear();
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    auto config = ParseConfig(name);
    if (!config) {
      return Status::InvalidArgument("unknown config '" + name + "' in --config (" +
                                     JoinNames(ConfigNames()) + ")");
    }
    if (std::find(out->begin(), out->end(), *config) == out->end()) out->push_back(*config);
  }
  if (out->empty()) return Status::InvalidArgument("--config names no config");
  return Status::OK();
}

// One config's lines: what was stored and the report.
void PrintConfigSummary(const ConvertRequest& r, const ConvertSummary& s,
                        const ConfigSummary& c) {
  auto& out = std::cerr;
  out << "converted " << ConfigName(c.config) << " into " << r.store << ":";
  for (Split split : r.splits) out << " " << SplitName(split) << " " << c.images[static_cast<int>(split)];
  out << " images" << (s.annotations_written ? ", with their annotations" : "") << "\n";
  out << c.report.orphan_annotation_rows << " annotation rows name no image in the archives\n";
  if (!c.report.problems.empty()) {
    out << c.report.problems.size() << " inputs left out of " << ConfigName(c.config)
        << " (--on-error skip):\n";
    for (size_t i = 0; i < c.report.problems.size() && i < 20; ++i) {
      out << "  " << c.report.problems[i].where << ": " << c.report.problems[i].reason << "\n";
    }
    if (c.report.problems.size() > 20) {
      out << "  ... and " << c.report.problems.size() - 20 << " more (oiv4-kv info shows them)\n";
    }
  }
}

void PrintSummary(const ConvertRequest& r, const ConvertSummary& s) {
  auto& out = std::cerr;
  for (const ConfigSummary& c : s.configs) {
    if (!c.already_complete) continue;
    out << "oiv4-kv convert: config " << ConfigName(c.config) << " is already complete in "
        << r.store << (s.already_complete ? "; nothing to do\n" : "; skipped\n");
  }
  for (const ConfigSummary& c : s.configs) {
    if (!c.already_complete) PrintConfigSummary(r, s, c);
  }
}

}  // namespace

void AddConvertCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "convert",
      "Convert the official Open Images V4 download into a store (one config per run, or several "
      "in one pass)");
  auto r = std::make_shared<ConvertRequest>();
  auto config = std::make_shared<std::string>();
  auto splits = std::make_shared<std::string>("train,validation,test");
  auto on_error = std::make_shared<std::string>("fail");
  cmd->add_option("--source", r->source, "Folder holding the download (searched recursively)")
      ->required();
  cmd->add_option("--store", r->store, "Store folder (created if missing)")->required();
  cmd->add_option("--config", *config,
                  "Image config, or a comma list (300k,200k,original) converted in one pass: each "
                  "archive read once, each image decoded once")
      ->required();
  cmd->add_option("--splits", *splits, "Comma-separated splits to convert")->capture_default_str();
  cmd->add_option("--threads", r->threads, "Transcoding threads (default: all cores)");
  cmd->add_option("--archive-readers", r->archive_readers,
                  "Archives read at once, each on its own thread (default: one per 4 threads)");
  cmd->add_option("--on-error", *on_error, "What a bad input does: fail the run, or skip it")
      ->check(CLI::IsMember(ErrorPolicyNames()));
  cmd->add_option("--label-lists", r->label_lists,
                  "Folder with TFDS's open_images_classes_{all,trainable,boxable}.txt: "
                  "number labels exactly as TFDS does");
  cmd->add_option("--max-pixels", r->max_pixels,
                  "Reject images whose header claims more pixels")
      ->capture_default_str();
  auto min_free_mib = std::make_shared<uint64_t>(r->min_free_bytes >> 20);
  cmd->add_option("--min-free-mib", *min_free_mib,
                  "Stop with \"No space left on device\" when the store's disk has less free "
                  "space than this (checked before every batch)")
      ->capture_default_str();
  cmd->add_flag("--restart", r->restart,
                "Discard an unfinished conversion of this config (its progress and images) and "
                "start it over; a complete config is refused");
  cmd->add_option("--chunk-images", r->chunk_images,
                  "Images read ahead and committed together (memory vs. overlap)")
      ->capture_default_str();
  cmd->footer(
      "Run it once per config, or once for several (--config 300k,200k,original); a later\n"
      "run adds its configs to the same store (a complete one is skipped), and re-running\n"
      "an interrupted conversion resumes it.\n\n"
      "Examples:\n"
      "  oiv4-kv convert --source ~/open_images_v4 --store /data/oiv4 --config 300k \\\n"
      "      --label-lists ~/tfds_vocab --on-error skip\n"
      "  oiv4-kv convert --source ~/open_images_v4 --store /data/oiv4 --config original\n"
      "  oiv4-kv convert --source ~/open_images_v4 --store /data/oiv4 --config 300k,200k,original");
  cmd->callback([=] {
    if (Status s = ParseConfigs(*config, &r->configs); !s.ok()) {
      std::cerr << "oiv4-kv convert: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    r->config = r->configs.front();
    r->skip_bad_inputs = *ParseErrorPolicy(*on_error) == ErrorPolicy::kSkip;  // CLI11 checked it
    r->min_free_bytes = *min_free_mib << 20;
    if (Status s = ParseSplitList(*splits, &r->splits); !s.ok()) {
      std::cerr << "oiv4-kv convert: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    ProgressMeter meter(stderr, isatty(STDERR_FILENO) != 0);
    ConvertSummary summary;
    if (Status s = Convert(*r, &meter, &summary); !s.ok()) {
      const std::string advice = ConvertFailureAdvice(s, summary);
      std::cerr << "\noiv4-kv convert: " << s.ToString() << "\n"
                << (advice.empty() ? "" : advice + "\n");
      *exit_code = 1;
      return;
    }
    PrintSummary(*r, summary);
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
