// oiv4-kv dump STORE --split S [--limit N]: one JSON object per example, in
// key order, with floats printed so they round-trip float32.
#include <charconv>
#include <iostream>
#include <memory>

#include "oiv4kv/store.h"
#include "store/keys.h"
#include "tools/commands.h"

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

std::string DumpLine(const Store& store, const ExampleView& ex) {
  std::string out = "{\"split\": \"" + std::string(SplitName(ex.split())) +
                    "\", \"image_id\": \"" + ImageIdHex(ex.image_id()) +
                    "\", \"image/filename\": \"" + std::string(ex.filename()) +
                    "\", \"objects\": ";
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
    if (!store.GetImage(c, ex.split(), ex.image_id(), &img).ok()) continue;
    if (!first) out.append(", ");
    first = false;
    out.append("\"").append(ConfigName(c)).append("\": {\"height\": ");
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
      CLI::IsMember({"train", "validation", "test"}));
  cmd->add_option("--limit", *limit, "At most this many examples");
  cmd->footer("Example:\n  oiv4-kv dump /data/oiv4 --split validation --limit 3");
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
    for (uint64_t i = 0; i < n; ++i) {
      ExampleView ex;
      if (Status s = store->At(sp, i, &ex); !s.ok()) {
        std::cerr << "oiv4-kv dump: " << s.ToString() << "\n";
        *exit_code = 1;
        return;
      }
      std::cout << DumpLine(*store, ex) << "\n";
    }
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
