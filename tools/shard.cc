// oiv4-kv plan / convert-unit / ingest: one conversion split into units that
// any job system runs (scripts/cluster/), then ingested into the store.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "store/convert/ingest.h"
#include "store/convert/plan.h"
#include "store/convert/unit.h"
#include "tools/commands.h"
#include "tools/split_list.h"

namespace oiv4kv::tools {
namespace {

void PrintProblems(const ConversionReport& report) {
  std::cerr << report.orphan_annotation_rows << " annotation rows name no image in the archives\n";
  if (report.problems.empty()) return;
  std::cerr << report.problems.size() << " inputs left out (--on-error skip):\n";
  for (size_t i = 0; i < report.problems.size() && i < 20; ++i) {
    std::cerr << "  " << report.problems[i].where << ": " << report.problems[i].reason << "\n";
  }
  if (report.problems.size() > 20) {
    std::cerr << "  ... and " << report.problems.size() - 20 << " more (oiv4-kv info shows them)\n";
  }
}

}  // namespace

void AddPlanCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "plan", "Split one conversion into units for a cluster (then convert-unit, ingest)");
  auto r = std::make_shared<PlanRequest>();
  auto config = std::make_shared<std::string>();
  auto splits = std::make_shared<std::string>("train,validation,test");
  auto on_error = std::make_shared<std::string>("fail");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--source", r->source, "Folder holding the download (searched recursively)")
      ->required();
  cmd->add_option("--config", *config, "Image config")->required()->check(CLI::IsMember(ConfigNames()));
  cmd->add_option("--splits", *splits, "Comma-separated splits to convert")->capture_default_str();
  cmd->add_option("--label-lists", r->label_lists,
                  "Folder with TFDS's open_images_classes_{all,trainable,boxable}.txt");
  cmd->add_option("--on-error", *on_error, "What a bad input does: fail the unit, or skip it")
      ->check(CLI::IsMember(ErrorPolicyNames()));
  cmd->add_option("--max-pixels", r->max_pixels, "Reject images whose header claims more pixels")
      ->capture_default_str();
  cmd->add_option("--out", *out, "The plan file to write (JSON)")->required();
  cmd->footer(
      "Units: one per train archive (with the train annotation rows of its hex digit), one\n"
      "for validation, one for test. Every node must see the download at the same path.\n\n"
      "Example:\n"
      "  oiv4-kv plan --source /shared/oiv4 --config 300k --on-error skip --out /shared/work/plan.json\n"
      "  oiv4-kv convert-unit --plan /shared/work/plan.json --unit 0 --out /shared/work\n"
      "  oiv4-kv ingest --plan /shared/work/plan.json --store /shared/oiv4-store");
  cmd->callback([=] {
    r->config = *ParseConfig(*config);
    r->skip_bad_inputs = *ParseErrorPolicy(*on_error) == ErrorPolicy::kSkip;
    if (Status s = ParseSplitList(*splits, &r->splits); !s.ok()) {
      std::cerr << "oiv4-kv plan: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    Plan plan;
    Status s = MakePlan(*r, &plan);
    if (s.ok()) s = WritePlan(plan, *out);
    if (!s.ok()) {
      std::cerr << "oiv4-kv plan: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << plan.units.size() << "\n";
    std::cerr << "wrote " << *out << ": " << plan.units.size() << " units (0-"
              << plan.units.size() - 1 << ") of config " << ConfigName(plan.config) << "\n";
    *exit_code = 0;
  });
}

void AddConvertUnitCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand("convert-unit", "Convert one unit of a plan into sorted table files");
  auto plan_path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto unit = std::make_shared<int64_t>(-1);
  auto unit_env = std::make_shared<std::string>();
  auto threads = std::make_shared<uint32_t>(0);
  cmd->add_option("--plan", *plan_path, "The plan file (oiv4-kv plan)")->required();
  auto* unit_opt = cmd->add_option("--unit", *unit, "The unit's number, 0 to units-1");
  auto* env_opt = cmd->add_option(
      "--unit-from-env", *unit_env,
      "Read the unit's number from this environment variable (SLURM_ARRAY_TASK_ID, "
      "JOB_COMPLETION_INDEX)");
  unit_opt->excludes(env_opt);
  cmd->add_option("--out", *out, "The plan's units folder (the unit writes only below it)")
      ->required();
  cmd->add_option("--threads", *threads, "Transcoding threads (default: all cores)");
  cmd->callback([=] {
    int64_t k = *unit;
    if (!unit_env->empty()) {
      const char* value = std::getenv(unit_env->c_str());
      char* end = nullptr;
      k = value != nullptr && *value != '\0' ? std::strtoll(value, &end, 10) : -1;
      if (value == nullptr || *value == '\0' || *end != '\0' || k < 0) {
        std::cerr << "oiv4-kv convert-unit: --unit-from-env " << *unit_env << ": "
                  << (value == nullptr ? "not set" : "'" + std::string(value) + "' is not a unit number")
                  << "\n";
        *exit_code = 2;
        return;
      }
    }
    if (k < 0) {
      std::cerr << "oiv4-kv convert-unit: give --unit K or --unit-from-env VAR\n";
      *exit_code = 2;
      return;
    }
    Plan plan;
    if (Status s = ReadPlan(*plan_path, &plan); !s.ok()) {
      std::cerr << "oiv4-kv convert-unit: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    ProgressMeter meter(stderr, isatty(STDERR_FILENO) != 0);
    UnitSummary summary;
    if (Status s = ConvertUnit(plan, static_cast<size_t>(k), *out, *threads, &meter, &summary);
        !s.ok()) {
      std::cerr << "\noiv4-kv convert-unit: unit " << k << ": " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    const UnitManifest& m = summary.manifest;
    std::cerr << (summary.already_done ? "unit already converted: " : "converted unit ") << k
              << " (" << m.name << ") into " << UnitFolder(*out, plan, static_cast<size_t>(k))
              << ": " << m.images << " images, " << m.examples << " examples, "
              << m.image_problems.size() + m.annotation_problems.size()
              << " inputs left out, digest " << m.digest << "\n";
    *exit_code = 0;
  });
}

void AddIngestCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "ingest", "Take every converted unit of a plan into a store, atomically, and commit it");
  auto r = std::make_shared<IngestRequest>();
  cmd->add_option("--plan", r->plan, "The plan file (oiv4-kv plan)")->required();
  cmd->add_option("--store", r->store, "Store folder (created if missing)")->required();
  cmd->add_option("--units", r->units,
                  "The folder convert-unit wrote to (default: the plan file's folder)");
  cmd->add_option("--threads", r->threads, "Threads recorded in the manifest (default: this machine's cores)");
  cmd->callback([=] {
    IngestSummary summary;
    if (Status s = Ingest(*r, &summary); !s.ok()) {
      std::cerr << "oiv4-kv ingest: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    Plan plan;
    (void)ReadPlan(r->plan, &plan);
    if (summary.already_complete) {
      std::cerr << "oiv4-kv ingest: config " << ConfigName(plan.config)
                << " is already complete in " << r->store << "; nothing to do\n";
      *exit_code = 0;
      return;
    }
    std::cerr << "ingested " << summary.units << " units of " << ConfigName(plan.config)
              << " into " << r->store << ":";
    for (Split split : plan.splits) {
      std::cerr << " " << SplitName(split) << " " << summary.images[static_cast<int>(split)];
    }
    std::cerr << " images" << (summary.annotations_written ? ", with their annotations" : "")
              << "\n";
    PrintProblems(summary.report);
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
