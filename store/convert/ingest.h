// `oiv4-kv ingest`: the units of a plan (store/convert/unit.h), checked and
// taken into a store: every unit's manifest must be there and of this plan
// (else the missing and failed units are named and nothing is ingested); the
// table files of every unit go in with one atomic IngestExternalFiles call
// across the column families; then the vocabularies, the report, the split
// indexes and the config are committed as `convert` commits them. The store
// equals one `convert` of the same download and options. Running it again on
// a complete config does nothing; a plan for another config adds it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "store/convert/plan.h"

namespace oiv4kv {

struct IngestRequest {
  std::string plan;   // the plan file
  std::string units;  // the folder convert-unit wrote to (default: the plan's folder)
  std::string store;  // created if missing
  uint32_t threads = 0;  // recorded as the conversion's threads (0: this machine's cores)
};

struct IngestSummary {
  bool already_complete = false;
  bool annotations_written = false;
  std::array<uint64_t, kNumSplits> images{};
  ConversionReport report;
  size_t units = 0;
};

Status Ingest(const IngestRequest& request, IngestSummary* summary);

}  // namespace oiv4kv
