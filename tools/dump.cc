// oiv4-kv dump STORE --split S [--limit N]: one JSON object per example, in
// key order, with floats printed so they round-trip float32.
#include <charconv>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {
namespace {

template <typename T>
void AppendInts(std::string* out, std::span<const T> v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out->append(", ");
    out->append(std::to_string(static_cast<int64_t>(v[i])));
  }
  out->push_back(']');
}

// The shortest text that reads back as the same float32.
void AppendFloat(std::string* out, float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), f);
  out->append(buf, r.ptr);
}

void AppendLabels(std::string* out, const LabelsView& l) {
  out->append("{\"label\": ");
  AppendInts(out, l.label);
  out->append(", \"confidence\": ");
  AppendInts(out, l.confidence);
  out->append(", \"source\": ");
  AppendInts(out, l.source);
  out->push_back('}');
}

// One example as a JSON line. An image that cannot be read is written as
// {"error": "<reason>"} under its config, and its config and reason are
// added to `*errors`.
std::string DumpLine(const Store& store, const ExampleView& ex,
                     std::vector<std::pair<Config, std::string>>* errors) {
  std::string out = "{\"split\": \"" + std::string(SplitName(ex.split())) +
                    "\", \"image_id\": \"" + ImageIdHex(ex.image_id()) +
                    "\", \"image/filename\": " + JsonString(ex.filename()) +
                    ", \"objects\": ";
  AppendLabels(&out, ex.objects());
  out.append(", \"objects_trainable\": ");
  AppendLabels(&out, ex.objects_trainable());
  const BoxesView b = ex.bobjects();
  out.append(", \"bobjects\": {\"label\": ");
  AppendInts(&out, b.label);
  out.append(", \"source\": ");
  AppendInts(&out, b.source);
  out.append(", \"bbox\": [");
  for (size_t i = 0; i < b.size(); ++i) {
    if (i > 0) out.append(", ");
    out.push_back('[');
    for (int k = 0; k < 4; ++k) {
      if (k > 0) out.append(", ");
      AppendFloat(&out, b.box(i)[k]);
    }
    out.push_back(']');
  }
  out.push_back(']');
  for (auto [name, flags] : {std::pair{"is_occluded", b.is_occluded},
                             std::pair{"is_truncated", b.is_truncated},
                             std::pair{"is_group_of", b.is_group_of},
                             std::pair{"is_depiction", b.is_depiction},
                             std::pair{"is_inside", b.is_inside}}) {
    out.append(", \"").append(name).append("\": ");
    AppendInts(&out, flags);
  }
  out.append("}, \"image\": {");
  bool first = true;
  for (Config c : store.Configs()) {
    ImageView img;
    const Status s = store.GetImage(c, ex.split(), ex.image_id(), &img);
    if (!first) out.append(", ");
    first = false;
    out.append("\"").append(ConfigName(c)).append("\": ");
    if (!s.ok()) {
      out.append("{\"error\": ").append(JsonString(s.ToString())).append("}");
      errors->emplace_back(c, s.ToString());
      continue;
    }
    out.append("{\"height\": ");
    out.append(std::to_string(img.height())).append(", \"width\": ");
    out.append(std::to_string(img.width())).append(", \"bytes\": ");
    out.append(std::to_string(img.bytes().size())).append("}");
  }
  out.append("}}");
  return out;
}

}  // namespace

void AddDumpCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand("dump", "Print examples as JSON lines, in key order");
  auto path = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>();
  auto limit = std::make_shared<uint64_t>(UINT64_MAX);
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->add_option("--split", *split, "Split")->required()->check(
      CLI::IsMember(SplitNames()));
  cmd->add_option("--limit", *limit, "At most this many examples");
  cmd->footer(
      "Values are printed as stored, which is how TFDS gives them: confidences as integers\n"
      "0..10 (the CSV's 0.0..1.0 times 10; `oiv4-kv get` prints them as 0.0..1.0), labels\n"
      "as vocabulary indices, boxes as ymin, xmin, ymax, xmax in [0, 1], flags as 1, 0 or\n"
      "-1 (unknown). \"image\" gives each complete config's image size; an image that cannot\n"
      "be read is {\"error\": \"...\"} under its config, named on stderr too.\n"
      "Exit status: 0 ok, 1 a store error or an image that cannot be read (the other\n"
      "examples are still printed) or the output cannot be written, 2 usage error.\n\n"
      "Example:\n  oiv4-kv dump /data/oiv4 --split validation --limit 3");
  cmd->callback([=] {
    // One pass over (part of) one split: RocksDB Gets beat walking every
    // split's records at open first.
    StoreOptions options;
    options.index_annotations = false;
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(*path, options, &store); !s.ok()) {
      std::cerr << "oiv4-kv dump: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    const Split sp = *ParseSplit(*split);
    const uint64_t n = std::min(*limit, store->NumExamples(sp));
    uint64_t damaged = 0;  // examples with an image that cannot be read
    for (uint64_t i = 0; i < n && StdoutOk(); ++i) {
      ExampleView ex;
      if (Status s = store->At(sp, i, &ex); !s.ok()) {
        std::cerr << "oiv4-kv dump: " << s.ToString() << "\n";
        *exit_code = 1;
        return;
      }
      std::vector<std::pair<Config, std::string>> errors;
      std::cout << DumpLine(*store, ex, &errors) << "\n";
      for (const auto& [config, reason] : errors) {
        std::cerr << "oiv4-kv dump: example " << ExampleName(sp, ex.image_id()) << ": its "
                  << ConfigName(config) << " image cannot be read: " << reason << "\n";
      }
      if (!errors.empty()) ++damaged;
    }
    if (damaged > 0) {
      std::cerr << "oiv4-kv dump: " << damaged << " example" << (damaged == 1 ? "" : "s")
                << " with an image that cannot be read; `oiv4-kv verify " << *path
                << "` lists the damage\n";
    }
    *exit_code = damaged > 0 ? 1 : 0;
  });
}

}  // namespace oiv4kv::tools
