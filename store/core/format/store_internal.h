// Entry points that take a LayoutTuning, for benchmarks that compare
// layouts. Production code uses Store::Open and Writer::Open.
#pragma once

#include <memory>
#include <string>

#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"
#include "store/core/format/layout.h"

namespace oiv4kv {

Status OpenStoreTuned(const std::string& path, const StoreOptions& options,
                      const LayoutTuning& tuning, std::unique_ptr<Store>* store);
Status OpenWriterTuned(const std::string& path, const WriterOptions& options,
                       const LayoutTuning& tuning, std::unique_ptr<Writer>* writer);

}  // namespace oiv4kv
