// A sharded conversion's plan (`oiv4-kv plan`): the units of work one
// conversion splits into, the options every unit converts with, and the
// fingerprint of every input, so that a unit run later, on another machine,
// refuses a download that changed since. Written as versioned JSON (format
// "oiv4kv-plan", version 1; docs in store/convert/README.md).
//
// Units: one per train archive (train_0 .. train_f) with the train
// annotation rows whose image id starts with that archive's hex digit (the
// rule train's archives are cut by), and one per other split (its archive
// and all its rows). So every unit holds the examples of exactly the images
// it stores, and a unit needs no other unit's output. A row that cannot be
// read names no image: the first unit of its split reports it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

inline constexpr std::string_view kPlanFormat = "oiv4kv-plan";
inline constexpr int kPlanVersion = 1;

struct PlanUnit {
  std::string name;                   // "train_3", "validation", "test"
  Split split = Split::kTrain;
  std::vector<std::string> archives;  // stems ("train_3")
  int annotation_digit = -1;          // -1: every row of the split
  bool report_bad_rows = true;        // the unit that reports unreadable rows
  std::vector<std::string> inputs;    // the inputs it reads (keys of Plan::inputs)
};

struct PlanInput {
  std::string path;         // absolute
  std::string fingerprint;  // InputFingerprint::Encode
};

struct Plan {
  std::string source;  // absolute
  Config config = Config::kOriginal;
  std::vector<Split> splits;
  std::string label_lists;  // absolute, or empty
  bool skip_bad_inputs = false;
  uint64_t max_pixels = 100'000'000;
  std::vector<PlanInput> inputs;
  std::vector<PlanUnit> units;
  std::string id;  // a hash of everything above, set by MakePlan / ReadPlan
};

struct PlanRequest {
  std::string source;
  Config config = Config::kOriginal;
  std::vector<Split> splits = {Split::kTrain, Split::kValidation, Split::kTest};
  std::string label_lists;
  bool skip_bad_inputs = false;
  uint64_t max_pixels = 100'000'000;
};

// Finds the download's files (FindSourceFiles) and fingerprints them.
Status MakePlan(const PlanRequest& request, Plan* plan);

// Writes `plan` to `path` atomically (write, fsync, rename).
Status WritePlan(const Plan& plan, const std::string& path);

// Reads a plan: InvalidArgument naming the file for another format or version.
Status ReadPlan(const std::string& path, Plan* plan);

// Fails naming the input and what changed (size, content) when an input of
// unit `k` is not the one the plan fingerprinted.
Status CheckUnitInputs(const Plan& plan, size_t k);

// The fingerprint the plan recorded for `path` ("" when none).
std::string PlanFingerprint(const Plan& plan, const std::string& path);

// How a plan names a file: absolute, normalized, no trailing slash.
std::string PlanPath(const std::string& path);

// The plan's JSON text.
std::string EncodePlan(const Plan& plan);

// Writes `bytes` to `path` atomically: a temporary file beside it, fsync,
// rename, fsync of the folder.
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace oiv4kv
