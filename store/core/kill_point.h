// Named kill points: a test-only hook that stops the process with SIGKILL at
// a commit boundary, so that tests can resume from each boundary exactly
// (docs/fault_battery.md). Off unless the environment asks for it:
//
//   OIV4KV_KILL_AT=NAME:N   SIGKILL at the Nth time (1-based) point NAME is
//                           reached in this process.
//   OIV4KV_KILL_POINTS_LOG=FILE  appends "NAME\n" to FILE at every point
//                           reached (a clean run's log counts them, so a test
//                           knows each point's last occurrence).
//
// The points (kKillPoints): "chunk" after a chunk's batch of images with its
// progress, "progress" after a write of progress keys alone, "annotation_commit"
// twice inside Writer::CommitAnnotations (before and after its manifest
// write), "config_commit" twice inside a config's commit (before its manifest
// write, and after it while the run's progress keys are still there),
// "manifest" after every manifest write.
// The sharded path's own points (kShardKillPoints): "unit_commit" twice in
// `convert-unit` (after the unit manifest is written in the temporary folder,
// and after the folder is renamed into place), "ingest_files" twice in
// `ingest` (with the table files staged, before and after the atomic
// IngestExternalFiles).
// Compiled in unless OIV4KV_KILL_POINTS is OFF (CMake), which makes it a no-op.
#pragma once

#include <array>
#include <string_view>

namespace oiv4kv {

inline constexpr std::array<std::string_view, 5> kKillPoints = {
    "chunk", "progress", "annotation_commit", "config_commit", "manifest"};
inline constexpr std::array<std::string_view, 2> kShardKillPoints = {"unit_commit",
                                                                     "ingest_files"};

// Reaching point `name`: counts it, logs it, and raises SIGKILL when
// OIV4KV_KILL_AT names this occurrence. Thread-safe.
void KillPoint(std::string_view name);

}  // namespace oiv4kv
