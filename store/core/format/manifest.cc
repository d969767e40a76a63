#include "oiv4kv/manifest.h"

#include <utility>

namespace oiv4kv {

const ConfigManifest* Manifest::FindConfig(Config config) const {
  for (const ConfigManifest& c : configs) {
    if (c.config == config) return &c;
  }
  return nullptr;
}

ConfigManifest* Manifest::FindConfig(Config config) {
  return const_cast<ConfigManifest*>(std::as_const(*this).FindConfig(config));
}

}  // namespace oiv4kv
