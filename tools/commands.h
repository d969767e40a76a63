// The oiv4-kv subcommands. Each Add*Command registers its CLI11 subcommand
// on `app`; when that subcommand runs, its callback stores the process exit
// code in `*exit_code`: 0 ok, 1 a problem was found, 2 a usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace oiv4kv::tools {

void AddInfoCommand(CLI::App* app, int* exit_code);
void AddConvertCommand(CLI::App* app, int* exit_code);
void AddDumpCommand(CLI::App* app, int* exit_code);
void AddExportCommand(CLI::App* app, int* exit_code);
void AddSynthCommand(CLI::App* app, int* exit_code);
void AddGetCommand(CLI::App* app, int* exit_code);
void AddVerifyCommand(CLI::App* app, int* exit_code);
void AddBenchCommand(CLI::App* app, int* exit_code);
// query.cc: `query` and `index` (issue 15).
void AddQueryCommand(CLI::App* app, int* exit_code);
void AddIndexCommand(CLI::App* app, int* exit_code);
void AddSampleReportCommand(CLI::App* app, int* exit_code);  // issue 15 (sampling)
// issue 15: dataset statistics and pictures of examples (tools/stats.cc, tools/show.cc).
void AddStatsCommand(CLI::App* app, int* exit_code);
void AddShowCommand(CLI::App* app, int* exit_code);
// tools/shard.cc: a conversion split into units (issue 16).
void AddPlanCommand(CLI::App* app, int* exit_code);
void AddConvertUnitCommand(CLI::App* app, int* exit_code);
void AddIngestCommand(CLI::App* app, int* exit_code);

}  // namespace oiv4kv::tools
