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

std::string_view ErrorPolicyName(ErrorPolicy policy) {
  return policy == ErrorPolicy::kSkip ? "skip" : "fail";
}

std::optional<ErrorPolicy> ParseErrorPolicy(std::string_view name) {
  for (ErrorPolicy p : kAllErrorPolicies) {
    if (ErrorPolicyName(p) == name) return p;
  }
  return std::nullopt;
}

std::vector<std::string> ErrorPolicyNames() {
  std::vector<std::string> names;
  for (ErrorPolicy p : kAllErrorPolicies) names.emplace_back(ErrorPolicyName(p));
  return names;
}

}  // namespace oiv4kv
