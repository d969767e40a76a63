// oiv4-kv export STORE --config C --split S --out DIR: each example's stored
// image bytes to DIR/<image id>.jpg.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"
#include "tools/commands.h"
#include "tools/format.h"

namespace oiv4kv::tools {

void AddExportCommand(CLI::App* app, int* exit_code) {
  auto* cmd = app->add_subcommand("export", "Write a split's stored images of one config to files");
  auto path = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>();
  auto out_dir = std::make_shared<std::string>();
  cmd->add_option("STORE", *path, "Store directory")->required();
  cmd->add_option("--config", *config, "Image config")->required()->check(
      CLI::IsMember(ConfigNames()));
  cmd->add_option("--split", *split, "Split")->required()->check(
      CLI::IsMember(SplitNames()));
  cmd->add_option("--out", *out_dir, "Output folder (created if missing)")->required();
  cmd->footer(
      "Exit status: 0 ok, 1 a store error or a file that cannot be written, 2 usage error.\n\n"
      "Example:\n  oiv4-kv export /data/oiv4 --config 300k --split validation --out /tmp/val300k");
  cmd->callback([=] {
    auto fail = [&](const std::string& msg) {
      std::cerr << "oiv4-kv export: " << msg << "\n";
      *exit_code = 1;
    };
    StoreOptions options;
    options.index_annotations = false;  // reads images only: skip the walk at open
    std::unique_ptr<Store> store;
    if (Status s = Store::Open(*path, options, &store); !s.ok()) return fail(s.ToString());
    const Split sp = *ParseSplit(*split);
    const Config c = *ParseConfig(*config);
    std::error_code ec;
    std::filesystem::create_directories(*out_dir, ec);
    if (ec) return fail(*out_dir + ": " + ec.message());
    for (uint64_t i = 0; i < store->NumExamples(sp); ++i) {
      ImageView img;
      if (Status s = store->ImageAt(c, sp, i, &img); !s.ok()) return fail(s.ToString());
      const std::string file = *out_dir + "/" + ImageFileName(img.image_id());
      // The bytes reach the file at close: a full disk shows there.
      errno = 0;
      std::ofstream f(file, std::ios::binary);
      f.write(reinterpret_cast<const char*>(img.bytes().data()),
              static_cast<std::streamsize>(img.bytes().size()));
      f.close();
      if (!f) {
        return fail("cannot write " + file + ": " +
                    (errno != 0 ? std::strerror(errno) : "write error"));
      }
    }
    std::cerr << "exported " << store->NumExamples(sp) << " images to " << *out_dir << "\n";
    *exit_code = 0;
  });
}

}  // namespace oiv4kv::tools
