// oiv4-kv convert: the official download -> a store, one config per run.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <sstream>

#include "store/convert/converter.h"
#include "tools/commands.h"

namespace oiv4kv::tools {
namespace {

Status ParseSplits(const std::string& list, std::vector<Split>* out) {
  out->clear();
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    auto split = ParseSplit(name);
    if (!split) {
      return Status::InvalidArgument("unknown split '" + name + "' in --splits (" +
                                     JoinNames(SplitNames()) + ")");
    }
    if (std::find(out->begin(), out->end(), *split) == out->end()) out->push_back(*split);
  }
  if (out->empty()) return Status::InvalidArgument("--splits names no split");
  return Status::OK();
}

void PrintSummary(const ConvertRequest& r, const ConvertSummary& s) {
  auto& out = std::cerr;
  if (s.already_complete) {
    out << "oiv4-kv convert: config " << ConfigName(r.config) << " is already complete in "
        << r.store << "; nothing to do\n";
    return;
  }
  out << "converted " << ConfigName(r.config) << " into " << r.store << ":";
  for (Split split : r.splits) out << " " << SplitName(split) << " " << s.images[static_cast<int>(split)];
  out << " images" << (s.annotations_written ? ", with their annotations" : "") << "\n";
  out << s.report.orphan_annotation_rows << " annotation rows name no image in the archives\n";
  if (!s.report.problems.empty()) {
    out << s.report.problems.size() << " inputs left out (--on-error skip):\n";
    for (size_t i = 0; i < s.report.problems.size() && i < 20; ++i) {
      out << "  " << s.report.problems[i].where << ": " << s.report.problems[i].reason << "\n";
    }
    if (s.report.problems.size() > 20) {
      out << "  ... and " << s.report.problems.size() - 20 << " more (oiv4-kv info shows them)\n";
    }
  }
}

}  // namespace

void AddConvertCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "convert", "Convert the official Open Images V4 download into a store (one config per run)");
  auto r = std::make_shared<ConvertRequest>();
  auto config = std::make_shared<std::string>();
  auto splits = std::make_shared<std::string>("train,validation,test");
  auto on_error = std::make_shared<std::string>("fail");
  cmd->add_option("--source", r->source, "Folder holding the download (searched recursively)")
      ->required();
  cmd->add_option("--store", r->store, "Store folder (created if missing)")->required();
  cmd->add_option("--config", *config, "Image config")
      ->required()
      ->check(CLI::IsMember(ConfigNames()));
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
      "Run it once per config; a later run adds its config to the same store, and\n"
      "re-running an interrupted conversion resumes it.\n\n"
      "Examples:\n"
      "  oiv4-kv convert --source ~/open_images_v4 --store /data/oiv4 --config 300k \\\n"
      "      --label-lists ~/tfds_vocab --on-error skip\n"
      "  oiv4-kv convert --source ~/open_images_v4 --store /data/oiv4 --config original");
  cmd->callback([=] {
    r->config = *ParseConfig(*config);
    r->skip_bad_inputs = *ParseErrorPolicy(*on_error) == ErrorPolicy::kSkip;  // CLI11 checked it
    r->min_free_bytes = *min_free_mib << 20;
    if (Status s = ParseSplits(*splits, &r->splits); !s.ok()) {
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
