// oiv4-kv query STORE --split S QUERY [--count] [--ids] [--json] [--limit N]:
// the examples of a split that meet a query (oiv4kv/query.h).
// oiv4-kv index STORE: builds the label index of a store converted before it
// existed (a conversion writes it when it commits the annotations).
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "oiv4kv/image_id.h"
#include "oiv4kv/query.h"
#include "oiv4kv/store.h"
#include "store/convert/progress.h"
#include "store/convert/label_index_build.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {

void AddQueryCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand("query", "List the examples of a split that meet a query");
  auto path = std::make_shared<std::string>();
  auto split_name = std::make_shared<std::string>();
  auto words = std::make_shared<std::vector<std::string>>();
  auto count = std::make_shared<bool>(false);
  auto ids = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  auto limit = std::make_shared<uint64_t>(0);
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->add_option("QUERY", *words, "The query (quote it; words are joined with spaces)")
      ->required();
  cmd->add_option("--split", *split_name, "Split: " + JoinNames(SplitNames()))->required();
  cmd->add_flag("--count", *count, "Print only the number of examples found");
  cmd->add_flag("--ids", *ids, "Print only the image ids (16 hex digits), one a line");
  cmd->add_flag("--json", *json, "Print JSON: the count and the examples (index, id)");
  cmd->add_option("--limit", *limit, "Print at most N examples (0: all; --count counts all)")
      ->capture_default_str();
  cmd->footer(
      "Prints one line per example, ascending: its index in the split and its image id.\n"
      "The query runs on the store's label index; records are read only for conditions\n"
      "on single boxes (box:Person[!group_of]). Grammar (oiv4kv/query.h):\n"
      "  box:NAME[COND,...]>=N   boxes of a class (NAME, \"Two words\", /m/MID, #index, *)\n"
      "  label:NAME@C            image-level label, confidence >= C (default 0.5)\n"
      "  trainable:NAME@C        the same in the trainable list\n"
      "  COND                    a box with it: occluded truncated group_of depiction\n"
      "                          inside (!FLAG: not), human, machine, source=NAME\n"
      "  AND OR NOT ( )          combine; `all` is every example\n\n"
      "Exit status: 0 (also for no match), 1 a store problem (no label index: run\n"
      "`oiv4-kv index STORE`), 2 a usage error (a bad query included).\n\n"
      "Examples:\n"
      "  oiv4-kv query /data/oiv4 --split train box:Dog --count\n"
      "  oiv4-kv query /data/oiv4 --split train 'box:Person[!group_of]>=3' --ids\n"
      "  oiv4-kv query /data/oiv4 --split validation 'box:Dog AND box:Person>=3 AND NOT group_of'");
  cmd->callback([=] {
    const std::optional<Split> split = ParseSplit(*split_name);
    if (!split) {
      std::cerr << "oiv4-kv query: unknown split '" << *split_name << "' ("
                << JoinNames(SplitNames()) << ")\n";
      *exit_code = 2;
      return;
    }
    if (int(*count) + int(*ids) + int(*json) > 1) {
      std::cerr << "oiv4-kv query: --count, --ids and --json exclude each other\n";
      *exit_code = 2;
      return;
    }
    // A query runs on the label index and reads only the records of the
    // candidates that conditions on single boxes leave: Gets, not the walk
    // over every annotation block at open (all of them mapped into RSS).
    StoreOptions options;
    options.index_annotations = false;
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(*path, options, &store); !s.ok()) {
      std::cerr << "oiv4-kv query: " << s.message() << "\n";
      *exit_code = 1;
      return;
    }
    std::string text;
    for (const std::string& w : *words) text += (text.empty() ? "" : " ") + w;
    Query query;
    if (Status s = ParseQuery(text, *store, &query); !s.ok()) {
      std::cerr << "oiv4-kv query: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    std::vector<uint64_t> found;
    if (Status s = store->Select(*split, query, &found); !s.ok()) {
      std::cerr << "oiv4-kv query: " << s.message() << "\n";
      *exit_code = 1;
      return;
    }
    const std::span<const uint64_t> all_ids = store->ImageIds(*split);
    const size_t shown = *limit == 0 ? found.size() : std::min<size_t>(found.size(), *limit);
    if (*count) {
      std::cout << found.size() << "\n";
    } else if (*json) {
      nlohmann::ordered_json j;
      j["store"] = *path;
      j["split"] = std::string(SplitName(*split));
      j["query"] = text;
      j["count"] = found.size();
      j["examples"] = nlohmann::ordered_json::array();
      for (size_t i = 0; i < shown; ++i) {
        j["examples"].push_back({{"index", found[i]}, {"id", ImageIdHex(all_ids[found[i]])}});
      }
      std::cout << DumpJson(j, 2) << "\n";
    } else {
      std::string out;
      for (size_t i = 0; i < shown; ++i) {
        if (!*ids) out += std::to_string(found[i]) + " ";
        out += ImageIdHex(all_ids[found[i]]) + "\n";
        if (out.size() > (1 << 16)) {
          std::cout << out;
          out.clear();
        }
      }
      std::cout << out;
    }
    *exit_code = 0;
  });
}

void AddIndexCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "index", "Build the label index of a store converted before queries existed");
  auto path = std::make_shared<std::string>();
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->footer(
      "Reads every annotation record and writes, for each split, the examples of each\n"
      "boxable and image-level class (what `oiv4-kv query` and Store::Select run on),\n"
      "replacing any index there: running it again is harmless. A conversion writes\n"
      "the index itself; this is for stores converted before. Needs the store to\n"
      "itself (no `oiv4-kv convert` running on it).\n\n"
      "Exit status: 0 done, 1 no store, an incomplete store, or a write failed.\n\n"
      "Example:\n"
      "  oiv4-kv index /data/oiv4 && oiv4-kv query /data/oiv4 --split train box:Dog --count");
  cmd->callback([=] {
    auto fail = [&](const Status& s) {
      std::cerr << "oiv4-kv index: " << s.message() << "\n";
      *exit_code = 1;
    };
    ProgressMeter meter(stderr, isatty(STDERR_FILENO) != 0);
    std::optional<Split> current;
    const Status s = IndexStore(*path, [&](Split split, uint64_t done, uint64_t total) {
      if (current != split) {
        if (current) meter.Finish();
        meter.Start("index " + std::string(SplitName(split)), "records", 0);
        current = split;
      }
      meter.Update(done, 0, "");
      (void)total;
    });
    if (current) meter.Finish();
    if (!s.ok()) return fail(s);
    std::unique_ptr<Store> store;
    if (Status o = Store::Open(*path, StoreOptions(), &store); !o.ok()) return fail(o);
    const uint64_t index_bytes = store->LabelIndexBytes();
    const uint64_t annotation_bytes = store->ColumnFamilyBytes()["annotations"];
    std::cout << "indexed " << *path << ": label index " << HumanBytes(index_bytes) << " ("
              << index_bytes << " bytes)";
    if (annotation_bytes > 0) {
      std::cout << ", " << 100.0 * static_cast<double>(index_bytes) /
                               static_cast<double>(annotation_bytes)
                << "% of the annotations family (" << HumanBytes(annotation_bytes) << ")";
    }
    std::cout << "\n";
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
