// oiv4-kv sample-report STORE --split S [--method repeat-factor|class-aware]
// [--threshold T] [--classes boxes|image-labels] [--epoch-length N] [--top N]
// [--json]: per-class images per epoch before and after class-balanced
// sampling (oiv4kv/sampling.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "oiv4kv/sampling.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

nlohmann::json ReportJson(const Store& store, const SamplingReport& r, size_t top) {
  const Vocabulary& vocab = store.vocabulary(
      r.classes == SamplingClasses::kBoxes ? VocabKind::kBoxable : VocabKind::kAll);
  nlohmann::json j;
  j["method"] = std::string(SamplingMethodName(r.method));
  j["classes"] = std::string(SamplingClassesName(r.classes));
  if (r.method == SamplingMethod::kRepeatFactor) j["threshold"] = r.threshold;
  j["images"] = r.num_images;
  j["images_with_classes"] = r.images_with_classes;
  j["epoch_length_before"] = r.num_images;
  j["epoch_length_after"] = r.expected_epoch_length;
  j["num_classes"] = r.per_class.size();
  j["per_class"] = nlohmann::json::array();
  const size_t shown = top == 0 ? r.per_class.size() : std::min(top, r.per_class.size());
  for (size_t k = 0; k < shown; ++k) {
    const ClassFrequency& f = r.per_class[k];
    nlohmann::json c;
    c["label"] = f.label;
    c["mid"] = f.label < vocab.size() ? std::string(vocab.mid(f.label)) : "";
    c["name"] = f.label < vocab.size() ? std::string(vocab.display_name(f.label)) : "";
    c["images_before"] = f.images;
    c["expected_after"] = f.expected;
    j["per_class"].push_back(c);
  }
  return j;
}

}  // namespace

void AddSampleReportCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "sample-report",
      "Per-class images per epoch before and after class-balanced sampling");
  struct Args {
    std::string store, split = "train", method = "repeat-factor", classes = "boxes";
    double threshold = 0.001;
    uint64_t epoch_length = 0;
    size_t top = 20;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("STORE", a->store, "Store directory")->required();
  cmd->add_option("--split", a->split, "Split (train, validation, test)")->capture_default_str();
  cmd->add_option("--method", a->method, "repeat-factor or class-aware")->capture_default_str();
  cmd->add_option("--threshold", a->threshold,
                  "Repeat-factor t: r(i) = max over i's classes c of max(1, sqrt(t / f(c)))")
      ->capture_default_str();
  cmd->add_option("--classes", a->classes,
                  "boxes (boxable labels of bobjects) or image-labels (objects with "
                  "confidence >= 0.5)")
      ->capture_default_str();
  cmd->add_option("--epoch-length", a->epoch_length,
                  "Class-aware: draws per epoch (0: the split's size)")
      ->capture_default_str();
  cmd->add_option("--top", a->top, "Classes listed, most frequent first (0: all)")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print JSON instead of text");
  cmd->footer(
      "Before: each image once per epoch (a class's images). After: the expected epoch\n"
      "entries of the class's images (repeat-factor: the sum of r(i); class-aware: each\n"
      "draw picks a class uniformly, then one of its images).\n"
      "Exit status: 0 printed; 1 the store does not open or a record cannot be read;\n"
      "2 usage error (a bad command line, split, method, classes or threshold).\n\n"
      "Examples:\n"
      "  oiv4-kv sample-report /data/oiv4 --split train --threshold 0.001 --top 10\n"
      "  oiv4-kv sample-report /data/oiv4 --split train --method class-aware --json");
  cmd->callback([=] {
    const auto usage = [&](const std::string& message) {
      std::cerr << "oiv4-kv sample-report: " << message << "\n";
      *exit_code = 2;
    };
    const std::optional<Split> split = ParseSplit(a->split);
    if (!split) return usage("unknown split '" + a->split + "' (train, validation, test)");
    SamplerOptions so;
    const std::optional<SamplingMethod> method = ParseSamplingMethod(a->method);
    if (!method) {
      return usage("unknown method '" + a->method + "' (repeat-factor, class-aware)");
    }
    so.method = *method;
    const std::optional<SamplingClasses> classes = ParseSamplingClasses(a->classes);
    if (!classes) return usage("unknown classes '" + a->classes + "' (boxes, image-labels)");
    so.classes = *classes;
    if (!(a->threshold > 0 && a->threshold <= 1)) {
      return usage("--threshold " + std::to_string(a->threshold) + " is not in (0, 1]");
    }
    so.threshold = a->threshold;
    so.epoch_length = a->epoch_length;
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(a->store, StoreOptions(), &store); !s.ok()) {
      std::cerr << "oiv4-kv sample-report: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    std::shared_ptr<const Sampler> sampler;
    if (Status s = Sampler::Build(store.get(), *split, nullptr, so, &sampler); !s.ok()) {
      std::cerr << "oiv4-kv sample-report: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    const SamplingReport report = sampler->Report();
    if (a->json) {
      std::cout << DumpJson(ReportJson(*store, report, a->top), 2) << "\n";
    } else {
      std::cout << FormatSamplingReport(*store, report, a->top);
    }
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
