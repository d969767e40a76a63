// oiv4-kv: the command line of the Open Images V4 key-value store.
#include <CLI/CLI.hpp>
#include <iostream>

#include "oiv4kv/version.h"
#include "tools/commands.h"
#include "tools/format.h"

int main(int argc, char** argv) {
  CLI::App app{"oiv4-kv: Open Images V4 (TFDS open_images_v4) as an embedded key-value store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(oiv4kv::LibraryVersion()));
  int exit_code = 0;
  oiv4kv::tools::AddConvertCommand(&app, &exit_code);
  oiv4kv::tools::AddInfoCommand(&app, &exit_code);
  oiv4kv::tools::AddDumpCommand(&app, &exit_code);
  oiv4kv::tools::AddGetCommand(&app, &exit_code);
  oiv4kv::tools::AddExportCommand(&app, &exit_code);
  oiv4kv::tools::AddSynthCommand(&app, &exit_code);
  oiv4kv::tools::AddVerifyCommand(&app, &exit_code);
  oiv4kv::tools::AddBenchCommand(&app, &exit_code);
  oiv4kv::tools::AddQueryCommand(&app, &exit_code);
  oiv4kv::tools::AddIndexCommand(&app, &exit_code);
  oiv4kv::tools::AddSampleReportCommand(&app, &exit_code);
  oiv4kv::tools::AddStatsCommand(&app, &exit_code);
  oiv4kv::tools::AddShowCommand(&app, &exit_code);
  oiv4kv::tools::AddPlanCommand(&app, &exit_code);
  oiv4kv::tools::AddConvertUnitCommand(&app, &exit_code);
  oiv4kv::tools::AddIngestCommand(&app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; usage errors 2
  }
  // Output that did not reach stdout (a full disk, /dev/full) is a failure,
  // whatever the command found.
  if (const std::string error = oiv4kv::tools::StdoutError(); !error.empty()) {
    const auto subcommands = app.get_subcommands();
    std::cerr << "oiv4-kv" << (subcommands.empty() ? "" : " " + subcommands[0]->get_name())
              << ": cannot write the output to standard output: " << error << "\n";
    return exit_code == 0 ? 1 : exit_code;
  }
  return exit_code;
}
