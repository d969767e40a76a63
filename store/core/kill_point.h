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
// Compiled in unless OIV4KV_KILL_POINTS is OFF (CMake), which makes it a no-op.
#pragma once

#include <array>
#include <string_view>

namespace oiv4kv {

inline constexpr std::array<std::string_view, 5> kKillPoints = {
    "chunk", "progress", "annotation_commit", "config_commit", "manifest"};

// Reaching point `name`: counts it, logs it, and raises SIGKILL when
// OIV4KV_KILL_AT names this occurrence. Thread-safe.
void KillPoint(std::string_view name);

}  // namespace oiv4kv
