// oiv4-kv synth OUT --images N [...]: writes a small download in the
// official Open Images V4 layout, for tests and the demo.
#include <chrono>
#include <iostream>
#include <memory>

#include "store/synth/synth_download.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {

void AddSynthCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "synth", "Write a synthetic download in the official layout (CSVs, class lists, archives)");
  struct Args {
    std::string out;
    SynthOptions options;
    std::string archives = "tar.gz";
    bool shuffled = false, no_awkward = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("OUT", args->out, "Output directory (created; must be empty if it exists)")
      ->required();
  cmd->add_option("--images", args->options.images, "Images over the three splits (>= 3)")
      ->required();
  cmd->add_option("--seed", args->options.seed, "Random seed (same seed, same bytes)")
      ->capture_default_str();
  cmd->add_option("--archives", args->archives, "Image containers")
      ->check(CLI::IsMember({"tar.gz", "tar", "dir"}))
      ->capture_default_str();
  cmd->add_flag("--split-subdirs", args->options.split_subdirs,
                "Put each split's CSVs and archives in train/, validation/, test/");
  cmd->add_flag("--shuffled-csv", args->shuffled, "Shuffle annotation rows (default: sorted)");
  cmd->add_flag("--no-awkward", args->no_awkward, "Only normal JPEGs and no bad archive members");
  cmd->add_option("--max-side", args->options.max_side, "Longest image side in pixels (>= 16)")
      ->capture_default_str();
  cmd->add_option("--threads", args->options.threads, "Encoding threads (0: one per core)")
      ->capture_default_str();
  cmd->footer(
      "Exit status: 0 ok, 1 the download cannot be written (the error is named),\n"
      "2 usage error (a bad command line or option values that cannot be met).\n\n"
      "Examples:\n"
      "  oiv4-kv synth /tmp/oiv4-download --images 2000\n"
      "  oiv4-kv synth /tmp/small --images 60 --max-side 96 --archives dir --shuffled-csv\n"
      "  oiv4-kv synth /tmp/clean --images 500 --no-awkward --split-subdirs --seed 7");
  cmd->callback([args, exit_code] {
    SynthOptions& o = args->options;
    o.archives = args->archives == "tar"   ? SynthOptions::Archives::kTar
                 : args->archives == "dir" ? SynthOptions::Archives::kDirectories
                                           : SynthOptions::Archives::kTarGz;
    o.sorted_csv = !args->shuffled;
    o.awkward = !args->no_awkward;
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    if (o.images >= 1000) {
      o.progress = [&last](size_t done, size_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::seconds(2) && done < total) return;
        last = now;
        std::cerr << "synth: " << done << " / " << total << " images\n";
      };
    }
    SynthRecord record;
    if (Status s = WriteSynthDownload(args->out, o, &record); !s.ok()) {
      std::cerr << "oiv4-kv synth: " << s.ToString() << "\n";
      *exit_code = s.IsInvalidArgument() ? 2 : 1;
      return;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    uint64_t awkward = 0;
    for (int k = 1; k < kNumSynthKinds; ++k) awkward += record.num_kind[k];
    uint64_t orphans = 0;
    for (uint64_t n : record.orphan_rows) orphans += n;
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%.1f", static_cast<double>(record.images.size()) / seconds);
    std::cout << "synth " << args->out << ": train " << record.num_images[0] << ", validation "
              << record.num_images[1] << ", test " << record.num_images[2] << " images; " << awkward
              << " awkward, " << record.bad_members.size() << " bad members, " << orphans
              << " orphan rows; " << HumanBytes(record.bytes_written) << " in "
              << static_cast<int>(seconds * 10) / 10.0 << " s (" << rate << " images/s)\n";
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
