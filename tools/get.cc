// oiv4-kv get STORE --split S (--id HEX | --index I) [--config C]
//     [--image OUT] [--rgb OUT.ppm] [--json]: one example with its labels'
// MIDs and display names, its boxes and flags, and the size of its image in
// each config; optionally its stored image bytes and its decoded pixels.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "oiv4kv/decode.h"
#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

struct GetArgs {
  std::string path;
  std::string split;
  std::string id_hex;
  uint64_t index = 0;
  bool has_index = false;  // else --id
  std::string config;
  std::string image_out;
  std::string rgb_out;
  bool json = false;
};

// A float32 as JSON: the shortest decimal that reads back as the same float
// (0.1f prints as 0.1, not 0.10000000149011612).
nlohmann::ordered_json Float32(float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), f);
  return std::stod(std::string(buf, r.ptr));
}

std::string Entry(const Vocabulary& v, size_t i, bool mid) {
  if (i >= v.size()) return "?";  // a damaged record: `oiv4-kv verify` names it
  return std::string(mid ? v.mid(i) : v.display_name(i));
}

std::string SourceName(const Store& store, uint8_t s) {
  return Entry(store.vocabulary(VocabKind::kSource), s, true);
}

nlohmann::ordered_json Labels(const Store& store, const LabelsView& l, VocabKind kind) {
  const Vocabulary& v = store.vocabulary(kind);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < l.size(); ++i) {
    out.push_back({{"label", l.label[i]},
                   {"mid", Entry(v, l.label[i], true)},
                   {"name", Entry(v, l.label[i], false)},
                   {"confidence", l.confidence[i] / 10.0},
                   {"source", l.source[i]},
                   {"source_name", SourceName(store, l.source[i])}});
  }
  return out;
}

nlohmann::ordered_json Boxes(const Store& store, const BoxesView& b) {
  const Vocabulary& v = store.vocabulary(VocabKind::kBoxable);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < b.size(); ++i) {
    nlohmann::ordered_json bbox = nlohmann::ordered_json::array();
    for (float f : b.box(i)) bbox.push_back(Float32(f));
    out.push_back({{"label", b.label[i]},
                   {"mid", Entry(v, b.label[i], true)},
                   {"name", Entry(v, b.label[i], false)},
                   {"source", b.source[i]},
                   {"source_name", SourceName(store, b.source[i])},
                   {"bbox", bbox},
                   {"is_occluded", b.is_occluded[i]},
                   {"is_truncated", b.is_truncated[i]},
                   {"is_group_of", b.is_group_of[i]},
                   {"is_depiction", b.is_depiction[i]},
                   {"is_inside", b.is_inside[i]}});
  }
  return out;
}

void PrintHuman(const nlohmann::ordered_json& j) {
  auto& out = std::cout;
  out << "example    " << j["split"].get<std::string>() << "/" << j["image_id"].get<std::string>()
      << " (index " << j["index"] << " of " << j["examples_in_split"] << ")\n"
      << "filename   " << j["filename"].get<std::string>() << "\n"
      << "images    ";
  if (j["images"].empty()) out << " (no complete config)";
  bool first = true;
  for (const auto& [config, img] : j["images"].items()) {
    out << (first ? " " : ", ") << config << " " << img["width"] << "x" << img["height"] << " "
        << img["format"].get<std::string>() << " " << HumanBytes(img["bytes"].get<uint64_t>());
    first = false;
  }
  out << "\n";
  char line[256];
  for (const char* group : {"objects", "objects_trainable"}) {
    out << group << " (" << j[group].size() << ")\n";
    if (j[group].empty()) continue;
    std::snprintf(line, sizeof(line), "  %5s  %-12s %4s  %-24s %s\n", "label", "mid", "conf",
                  "source", "name");
    out << line;
    for (const auto& e : j[group]) {
      std::snprintf(line, sizeof(line), "  %5d  %-12s %4.1f  %-24s %s\n", e["label"].get<int>(),
                    e["mid"].get<std::string>().c_str(), e["confidence"].get<double>(),
                    e["source_name"].get<std::string>().c_str(),
                    e["name"].get<std::string>().c_str());
      out << line;
    }
  }
  out << "bobjects (" << j["bobjects"].size() << ")  flags: 1 yes, 0 no, -1 unknown\n";
  if (j["bobjects"].empty()) return;
  std::snprintf(line, sizeof(line), "  %5s  %-12s %-10s %6s %6s %6s %6s  %4s %5s %5s %6s %6s  %s\n",
                "label", "mid", "source", "ymin", "xmin", "ymax", "xmax", "occl", "trunc", "group",
                "depict", "inside", "name");
  out << line;
  for (const auto& b : j["bobjects"]) {
    const auto& box = b["bbox"];
    std::snprintf(
        line, sizeof(line), "  %5d  %-12s %-10s %6.4f %6.4f %6.4f %6.4f  %4d %5d %5d %6d %6d  %s\n",
        b["label"].get<int>(), b["mid"].get<std::string>().c_str(),
        b["source_name"].get<std::string>().c_str(), box[0].get<double>(), box[1].get<double>(),
        box[2].get<double>(), box[3].get<double>(), b["is_occluded"].get<int>(),
        b["is_truncated"].get<int>(), b["is_group_of"].get<int>(), b["is_depiction"].get<int>(),
        b["is_inside"].get<int>(), b["name"].get<std::string>().c_str());
    out << line;
  }
}

// Returns "" or why `file` could not be written.
std::string WriteFile(const std::string& file, std::span<const uint8_t> header,
                      std::span<const uint8_t> bytes) {
  errno = 0;
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(header.data()),
          static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (f) return "";
  return "cannot write " + file + ": " + (errno != 0 ? std::strerror(errno) : "write error");
}

// Runs the command; returns the exit code.
int Run(const GetArgs& a) {
  auto fail = [](const std::string& msg, int code = 1) {
    std::cerr << "oiv4-kv get: " << msg << "\n";
    return code;
  };
  const Split split = *ParseSplit(a.split);
  std::optional<uint64_t> id;
  if (!a.has_index) id = ParseImageId(a.id_hex);  // checked by the option's validator

  StoreOptions options;
  options.index_annotations = false;  // one record: no need to walk them all
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(a.path, options, &store); !s.ok()) return fail(s.ToString());
  if (!store->manifest().num_examples[static_cast<int>(split)]) {
    return fail(a.path + ": the store holds no " + a.split + " split");
  }

  ExampleView ex;
  uint64_t index = 0;
  const std::span<const uint64_t> ids = store->ImageIds(split);
  if (id) {
    index = std::lower_bound(ids.begin(), ids.end(), *id) - ids.begin();
    if (index == ids.size() || ids[index] != *id) {
      std::string elsewhere;
      if (const std::optional<Split> other = store->SplitOf(*id)) {
        elsewhere = " (it is in " + std::string(SplitName(*other)) + ")";
      }
      return fail(a.path + ": example " + ExampleName(split, *id) + " is not in the store" +
                  elsewhere);
    }
    if (Status s = store->Get(split, *id, &ex); !s.ok()) return fail(s.ToString());
  } else {
    index = a.index;
    if (Status s = store->At(split, index, &ex); !s.ok()) {
      return fail(a.path + ": " + s.message());
    }
  }

  nlohmann::ordered_json j;
  j["store"] = a.path;
  j["split"] = a.split;
  j["image_id"] = ImageIdHex(ex.image_id());
  j["index"] = index;
  j["examples_in_split"] = ids.size();
  j["filename"] = std::string(ex.filename());
  j["images"] = nlohmann::ordered_json::object();
  for (Config c : store->Configs()) {
    ImageView img;
    if (Status s = store->GetImage(c, split, ex.image_id(), &img); !s.ok()) {
      return fail(s.ToString());
    }
    j["images"][std::string(ConfigName(c))] = {
        {"width", img.width()},
        {"height", img.height()},
        {"format", std::string(ImageFormatName(img.format()))},
        {"bytes", img.bytes().size()}};
  }

  // The config of --image / --rgb.
  std::optional<Config> config;
  if (!a.config.empty()) {
    config = *ParseConfig(a.config);
    if (!store->HasConfig(*config)) {
      std::string have;
      for (Config c : store->Configs())
        have += (have.empty() ? "" : ", ") + std::string(ConfigName(c));
      return fail(a.path + ": config " + a.config + " is not complete in this store (it has: " +
                  (have.empty() ? "none" : have) + ")");
    }
  } else {
    config = store->DefaultConfig();
  }
  j["config"] =
      config ? nlohmann::ordered_json(std::string(ConfigName(*config))) : nlohmann::ordered_json();
  j["objects"] = Labels(*store, ex.objects(), VocabKind::kAll);
  j["objects_trainable"] = Labels(*store, ex.objects_trainable(), VocabKind::kTrainable);
  j["bobjects"] = Boxes(*store, ex.bobjects());
  if (!a.image_out.empty() || !a.rgb_out.empty()) {
    if (!config) return fail(a.path + ": no config is complete in this store: no image to write");
    ImageView img;
    if (Status s = store->GetImage(*config, split, ex.image_id(), &img); !s.ok()) {
      return fail(s.ToString());
    }
    if (!a.image_out.empty()) {
      if (std::string e = WriteFile(a.image_out, {}, img.bytes()); !e.empty()) return fail(e);
      std::cerr << "wrote the " << ConfigName(*config) << " image (" << img.bytes().size()
                << " bytes) to " << a.image_out << "\n";
    }
    if (!a.rgb_out.empty()) {
      Decoder decoder;
      DecodeOptions o;  // RGB, full size, as stored (no EXIF rotation)
      o.truncated = TruncatedPolicy::kWarn;
      DecodedImage px;
      if (Status s = decoder.Decode(img, o, &px); !s.ok()) return fail(s.ToString());
      if (px.truncated) std::cerr << "oiv4-kv get: warning: " << px.warning << "\n";
      const std::string header =
          "P6\n" + std::to_string(px.width) + " " + std::to_string(px.height) + "\n255\n";
      if (std::string e = WriteFile(
              a.rgb_out, {reinterpret_cast<const uint8_t*>(header.data()), header.size()},
              px.pixels);
          !e.empty()) {
        return fail(e);
      }
      std::cerr << "wrote the " << ConfigName(*config) << " image's " << px.width << "x"
                << px.height << " RGB pixels to " << a.rgb_out << "\n";
    }
  }
  if (a.json) {
    std::cout << DumpJson(j, 2) << "\n";
  } else {
    PrintHuman(j);
  }
  return 0;
}

}  // namespace

void AddGetCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "get", "Show one example: labels with MIDs and names, boxes, flags, image sizes");
  auto a = std::make_shared<GetArgs>();
  cmd->add_option("STORE", a->path, "Store directory")->required();
  cmd->add_option("--split", a->split, "Split")
      ->required()
      ->check(CLI::IsMember(SplitNames()));
  auto* which = cmd->add_option_group("example", "Which example (exactly one)");
  which->add_option("--id", a->id_hex,
                    "Image id: exactly 16 hex digits (either case) or its file name, e.g. "
                    "0011d545a9314517 or 0011d545a9314517.jpg")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            return ParseImageId(s) ? ""
                                   : "not an image id: " + s + " (" + std::to_string(s.size()) +
                                         " characters; want exactly 16 hex digits, e.g. "
                                         "0011d545a9314517, or <16 hex digits>.jpg)";
          },
          "HEX"));
  CLI::Option* index =
      which->add_option("--index", a->index, "Position in the split (ids ascending), from 0")
          ->check(CLI::NonNegativeNumber);
  which->require_option(1);
  cmd->add_option("--config", a->config,
                  "Config of --image/--rgb (default: the first complete of 300k, 200k, original)")
      ->check(CLI::IsMember(ConfigNames()));
  cmd->add_option("--image", a->image_out, "Write the stored image bytes of --config to this file");
  cmd->add_option("--rgb", a->rgb_out,
                  "Write the image of --config decoded to RGB (as stored: no EXIF rotation) as "
                  "binary PPM (P6) to this file");
  cmd->add_flag("--json", a->json, "Print stable JSON instead of text");
  cmd->footer(
      "Confidences print as 0.0..1.0; boxes as ymin, xmin, ymax, xmax; flags as 1, 0 or -1\n"
      "(unknown) (`oiv4-kv dump` prints confidences as stored, 0..10, as TFDS does).\n"
      "Exit status: 0 ok, 1 no such example, a store error or output that cannot be\n"
      "written, 2 usage error.\n\n"
      "Examples:\n"
      "  oiv4-kv get /data/oiv4 --split validation --index 0\n"
      "  oiv4-kv get /data/oiv4 --split train --id 0011d545a9314517 --json\n"
      "  oiv4-kv get /data/oiv4 --split test --index 7 --config original --image 7.jpg --rgb "
      "7.ppm");
  cmd->callback([a, index, exit_code] {
    a->has_index = index->count() > 0;
    *exit_code = Run(*a);
  });
}

}  // namespace oiv4kv::tools
