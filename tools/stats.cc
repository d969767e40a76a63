// oiv4-kv stats STORE [--split S] [--json] [--top N]: the dataset's figures
// (per-class image and box counts, boxes per image, box flags and sources,
// image-level labels), computed from the store's records by
// ComputeSplitStats (oiv4kv/stats.h).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <nlohmann/json.hpp>

#include "oiv4kv/stats.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The classes of `counts` in ClassesByCount's order, at most `top` (0: all).
nlohmann::json TopClasses(const ClassCounts& counts, const Vocabulary& vocab, size_t top) {
  nlohmann::json out = nlohmann::json::array();
  for (uint32_t label : ClassesByCount(counts, top)) {
    nlohmann::json c = {{"label", label},
                        {"mid", std::string(vocab.mid(label))},
                        {"name", std::string(vocab.display_name(label))},
                        {"images", counts.images[label]}};
    if (counts.negatives.empty()) {
      c["boxes"] = counts.boxes[label];
    } else {
      c["positives"] = counts.boxes[label];
      c["negatives"] = counts.negatives[label];
    }
    out.push_back(c);
  }
  return out;
}

size_t ClassesWith(const ClassCounts& counts) {
  return static_cast<size_t>(std::count_if(counts.images.begin(), counts.images.end(),
                                           [](uint64_t n) { return n > 0; }));
}

nlohmann::json Sources(const std::array<uint64_t, kSourceNames.size() + 1>& counts) {
  nlohmann::json j = nlohmann::json::object();
  const uint64_t total = std::accumulate(counts.begin(), counts.end(), uint64_t{0});
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i == kSourceNames.size() && counts[i] == 0) continue;
    const std::string name = i < kSourceNames.size() ? std::string(kSourceNames[i]) : "other";
    j[name] = {{"count", counts[i]}, {"share", Share(counts[i], total)}};
  }
  return j;
}

nlohmann::json Describe(const Store& store, const SplitStats& s, size_t top) {
  nlohmann::json j;
  j["examples"] = s.examples;
  j["boxes"] = s.total_boxes;
  j["images_with_boxes"] = s.images_with_boxes;
  j["boxes_per_image"] = {{"mean", Share(s.total_boxes, s.examples)},
                          {"mean_of_images_with_boxes", Share(s.total_boxes, s.images_with_boxes)},
                          {"max", s.boxes_per_image.empty() ? 0 : s.boxes_per_image.size() - 1},
                          {"histogram", s.boxes_per_image}};
  j["flags"] = nlohmann::json::object();
  for (size_t f = 0; f < kBoxFlagNames.size(); ++f) {
    const FlagCounts& c = s.flags[f];
    j["flags"][std::string(kBoxFlagNames[f])] = {{"yes", c.yes},
                                                 {"no", c.no},
                                                 {"unknown", c.unknown},
                                                 {"share", Share(c.yes, c.total())}};
  }
  j["box_sources"] = Sources(s.box_sources);
  j["image_labels"] = {{"positive", s.positive_labels},
                       {"negative", s.negative_labels},
                       {"sources", Sources(s.label_sources)}};
  j["classes"] = {
      {"boxable", {{"size", s.boxes.images.size()},
                   {"with_boxes", ClassesWith(s.boxes)},
                   {"top", TopClasses(s.boxes, store.vocabulary(VocabKind::kBoxable), top)}}},
      {"all", {{"size", s.objects.images.size()},
               {"with_positives", ClassesWith(s.objects)},
               {"top", TopClasses(s.objects, store.vocabulary(VocabKind::kAll), top)}}},
      {"trainable",
       {{"size", s.objects_trainable.images.size()},
        {"with_positives", ClassesWith(s.objects_trainable)},
        {"top",
         TopClasses(s.objects_trainable, store.vocabulary(VocabKind::kTrainable), top)}}}};
  return j;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * share);
  return buf;
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

void PrintClasses(const char* title, const nlohmann::json& c, const char* count_name) {
  std::cout << "  " << title << ": " << c["with_" + std::string(count_name)] << " of "
            << c["size"] << " classes\n";
  for (const auto& e : c["top"]) {
    const bool boxes = e.contains("boxes");
    std::cout << "    " << e["name"].get<std::string>() << " (" << e["mid"].get<std::string>()
              << ", " << e["label"] << "): " << e["images"] << " images, "
              << (boxes ? e["boxes"] : e["positives"]) << (boxes ? " boxes" : " positive labels")
              << "\n";
  }
}

void PrintHuman(const std::string& split, const nlohmann::json& j) {
  std::cout << "split " << split << ": " << j["examples"] << " examples, " << j["boxes"]
            << " boxes on " << j["images_with_boxes"] << " images\n";
  const auto& bpi = j["boxes_per_image"];
  std::cout << "  boxes per image: mean " << Fixed(bpi["mean"].get<double>())
            << " (of images with boxes " << Fixed(bpi["mean_of_images_with_boxes"].get<double>())
            << "), max " << bpi["max"] << "\n  histogram (boxes: images):";
  const auto& h = bpi["histogram"];
  for (size_t n = 0; n < h.size(); ++n) {
    if (h[n].get<uint64_t>() > 0) std::cout << " " << n << ":" << h[n];
  }
  std::cout << "\n  box flags (share of boxes with the flag set):";
  for (const auto& [name, f] : j["flags"].items()) {
    std::cout << " " << name << " " << Percent(f["share"].get<double>());
  }
  std::cout << "\n  box sources:";
  for (const auto& [name, c] : j["box_sources"].items()) {
    std::cout << " " << name << " " << Percent(c["share"].get<double>());
  }
  std::cout << "\n  image-level labels: " << j["image_labels"]["positive"] << " positive, "
            << j["image_labels"]["negative"] << " negative; sources:";
  for (const auto& [name, c] : j["image_labels"]["sources"].items()) {
    std::cout << " " << name << " " << Percent(c["share"].get<double>());
  }
  std::cout << "\n";
  PrintClasses("boxable classes with boxes", j["classes"]["boxable"], "boxes");
  PrintClasses("image-level classes (all) with positives", j["classes"]["all"], "positives");
  PrintClasses("trainable classes with positives", j["classes"]["trainable"], "positives");
}

}  // namespace

void AddStatsCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "stats", "Dataset statistics from the records: per-class counts, boxes per image, flags");
  auto path = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto top = std::make_shared<size_t>(10);
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->add_option("--split", *split, "Only this split (default: every split the store holds)")
      ->check(CLI::IsMember(SplitNames()));
  cmd->add_flag("--json", *json, "Print JSON instead of text");
  cmd->add_option("--top", *top, "List this many classes per vocabulary, most boxes or "
                                 "positive labels first (0: every class seen; default 10)");
  cmd->footer(
      "Per split: examples, boxes, the boxes-per-image histogram (histogram[n]: images with\n"
      "n boxes), the share of boxes with each flag set (is_occluded, is_truncated,\n"
      "is_group_of, is_depiction, is_inside; -1 counts as unknown, not set), boxes and\n"
      "image-level labels per source, and per class (boxable: images and boxes;\n"
      "all/trainable: images with a positive label, confidence >= 0.5, and negatives).\n"
      "Reads every record of each split once.\n"
      "Exit status: 0 ok, 1 a store error (a split the store does not hold, a record that\n"
      "cannot be read), 2 usage error.\n\n"
      "Examples:\n"
      "  oiv4-kv stats /data/oiv4 --split validation --top 20\n"
      "  oiv4-kv stats /data/oiv4 --json | jq '.splits.train.flags.is_group_of.share'");
  cmd->callback([=] {
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(*path, StoreOptions(), &store); !s.ok()) {
      std::cerr << "oiv4-kv stats: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    std::vector<Split> splits;
    if (!split->empty()) {
      splits.push_back(*ParseSplit(*split));
    } else {
      for (Split s : kAllSplits) {
        if (store->manifest().num_examples[static_cast<int>(s)].has_value()) splits.push_back(s);
      }
    }
    nlohmann::json j;
    j["store"] = store->path();
    j["images_per_split"] = nlohmann::json::object();
    j["splits"] = nlohmann::json::object();
    for (Split s : splits) {
      SplitStats stats;
      if (Status st = ComputeSplitStats(*store, s, &stats); !st.ok()) {
        std::cerr << "oiv4-kv stats: " << st.ToString() << "\n";
        *exit_code = 1;
        return;
      }
      j["images_per_split"][std::string(SplitName(s))] = stats.examples;
      j["splits"][std::string(SplitName(s))] = Describe(*store, stats, *top);
    }
    if (*json) {
      std::cout << DumpJson(j, 2) << "\n";
    } else {
      std::cout << "store " << store->path() << "\nimages per split:";
      for (const auto& [name, n] : j["images_per_split"].items()) std::cout << " " << name << " " << n;
      std::cout << "\n";
      for (Split s : splits) {
        const std::string name(SplitName(s));
        PrintHuman(name, j["splits"][name]);
      }
    }
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
