// oiv4-kv show STORE --split S (--id HEX | --index I | --query Q [--limit N])...
// --out FILE.png [--config C] [--grid CxR] [--size PX]: pictures of examples
// with their boxes (tools/render.h).
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "oiv4kv/image_id.h"
#include "oiv4kv/query.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/render.h"

namespace oiv4kv::tools {
namespace {

struct ShowArgs {
  std::string path;
  std::string split;
  std::vector<std::string> ids;
  std::vector<uint64_t> indices;
  std::string query;
  uint64_t limit = 9;
  std::string out;
  std::string config;
  std::string grid;
  int size = kShowDefaultSize;
};

// The examples to draw, as positions in the split: every --id then every
// --index, in the order given, then the first --limit examples the --query
// selects (in split order).
Status Positions(const Store& store, Split split, const ShowArgs& a,
                 std::vector<uint64_t>* out) {
  const std::span<const uint64_t> ids = store.ImageIds(split);
  for (const std::string& text : a.ids) {
    const uint64_t id = *ParseImageId(text);  // checked by the option's validator
    const auto it = std::lower_bound(ids.begin(), ids.end(), id);
    if (it == ids.end() || *it != id) {
      std::string elsewhere;
      if (const std::optional<Split> other = store.SplitOf(id)) {
        elsewhere = " (it is in " + std::string(SplitName(*other)) + ")";
      }
      return Status::NotFound(a.path + ": example " + ExampleName(split, id) +
                              " is not in the store" + elsewhere);
    }
    out->push_back(static_cast<uint64_t>(it - ids.begin()));
  }
  for (uint64_t index : a.indices) {
    if (index >= ids.size()) {
      return Status::InvalidArgument(a.path + ": index " + std::to_string(index) +
                                     " is out of range: split " + a.split + " has " +
                                     std::to_string(ids.size()) + " examples");
    }
    out->push_back(index);
  }
  if (!a.query.empty()) {
    Query q;
    OIV4KV_RETURN_IF_ERROR(ParseQuery(a.query, store, &q));
    std::vector<uint64_t> selected;
    OIV4KV_RETURN_IF_ERROR(store.Select(split, q, &selected));
    if (selected.empty()) {
      return Status::NotFound(a.path + ": no example of " + a.split + " matches " + a.query);
    }
    if (selected.size() > a.limit) selected.resize(a.limit);
    out->insert(out->end(), selected.begin(), selected.end());
  }
  return Status::OK();
}

int Run(const ShowArgs& a) {
  auto fail = [](const std::string& msg, int code = 1) {
    std::cerr << "oiv4-kv show: " << msg << "\n";
    return code;
  };
  const Split split = *ParseSplit(a.split);
  ShowOptions options;
  options.size = a.size;
  if (!a.grid.empty()) {
    const auto grid = ParseGrid(a.grid);
    if (!grid) {
      return fail("--grid " + a.grid + ": want COLUMNSxROWS, each 1..64, e.g. 3x2", 2);
    }
    options.columns = grid->first;
    options.rows = grid->second;
  }
  StoreOptions store_options;
  store_options.index_annotations = false;  // a few records: no need to walk them all
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(a.path, store_options, &store); !s.ok()) return fail(s.ToString());
  if (!store->manifest().num_examples[static_cast<int>(split)]) {
    return fail(a.path + ": the store holds no " + a.split + " split");
  }
  if (!a.config.empty()) {
    options.config = *ParseConfig(a.config);
    if (!store->HasConfig(options.config)) {
      std::vector<std::string> names;
      for (Config c : store->Configs()) names.emplace_back(ConfigName(c));
      return fail(a.path + ": the store has no complete " + a.config + " config (it has " +
                  (names.empty() ? std::string("none") : JoinNames(names)) + ")");
    }
  } else if (const std::optional<Config> c = store->DefaultConfig()) {
    options.config = *c;
  } else {
    return fail(a.path + ": the store holds no complete image config");
  }
  std::vector<uint64_t> positions;
  if (Status s = Positions(*store, split, a, &positions); !s.ok()) return fail(s.message());
  int width = 0, height = 0;
  if (Status s = RenderExamples(*store, split, positions, options, a.out, &width, &height);
      !s.ok()) {
    return fail(s.ToString());
  }
  const int columns = options.columns > 0 ? options.columns : DefaultGrid(positions.size()).first;
  const int rows = options.rows > 0 ? options.rows : DefaultGrid(positions.size()).second;
  std::cout << "wrote " << a.out << ": " << positions.size() << " example"
            << (positions.size() == 1 ? "" : "s") << " of " << a.split << " ("
            << ConfigName(options.config) << ") in a " << columns << "x" << rows << " grid, "
            << width << "x" << height << " px\n";
  return 0;
}

}  // namespace

void AddShowCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand(
      "show", "Draw examples with their boxes and labels into a PNG (like tfds.show_examples)");
  auto a = std::make_shared<ShowArgs>();
  cmd->add_option("STORE", a->path, "Store directory")->required();
  cmd->add_option("--split", a->split, "Split")->required()->check(CLI::IsMember(SplitNames()));
  auto* which = cmd->add_option_group("examples", "Which examples (at least one)");
  which->add_option("--id", a->ids,
                    "Image id (16 hex digits, or its file name); repeat or separate with commas "
                    "for several")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            return ParseImageId(s) ? ""
                                   : "not an image id: " + s +
                                         " (want exactly 16 hex digits, e.g. 0011d545a9314517, "
                                         "or <16 hex digits>.jpg)";
          },
          "HEX"));
  which->add_option("--index", a->indices,
                    "Position in the split (ids ascending), from 0; repeat or separate with "
                    "commas for several")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  which->add_option("--query", a->query,
                    "The examples a query selects (the text form of `oiv4-kv query`, e.g. "
                    "'box:Dog AND NOT group_of'), the first --limit of them");
  which->require_option(1, 3);
  cmd->add_option("--limit", a->limit, "Pictures a --query gives at most (default 9)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}));
  cmd->add_option("--out", a->out, "The PNG file to write")->required();
  cmd->add_option("--config", a->config,
                  "Image config (default: the first complete of 300k, 200k, original)")
      ->check(CLI::IsMember(ConfigNames()));
  cmd->add_option("--grid", a->grid,
                  "COLUMNSxROWS of the picture grid (default: ceil(sqrt(n)) columns, as many "
                  "rows as needed)");
  cmd->add_option("--size", a->size,
                  "Side of each picture in pixels: the image is scaled so that its longer side "
                  "is this (default 400)")
      ->check(CLI::Range(16, 4096));
  cmd->footer(
      "Each picture: the image decoded (upright: EXIF orientation applied), its boxes in a\n"
      "colour per class (from the label id) labelled with display names, and under it the\n"
      "example's name and its positive image-level labels (objects, confidence >= 0.5).\n"
      "Pictures fill the grid row by row in the order given (every --id, then every --index,\n"
      "then the query's first --limit matches in split order).\n"
      "Exit status: 0 ok, 1 no such example, a query that does not parse or matches nothing,\n"
      "a store error or a PNG that cannot be written,\n"
      "2 usage error (a bad command line or --grid, more examples than grid cells is 1).\n\n"
      "Examples:\n"
      "  oiv4-kv show /data/oiv4 --split validation --index 0 --out ex.png\n"
      "  oiv4-kv show /data/oiv4 --split train --index 0,1,2,3,4,5 --grid 3x2 --out grid.png\n"
      "  oiv4-kv show /data/oiv4 --split validation --query 'box:Dog' --limit 6 --out dogs.png\n"
      "  oiv4-kv show /data/oiv4 --split train --id 0011d545a9314517 --config original "
      "--out one.png");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace oiv4kv::tools
