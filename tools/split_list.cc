#include "tools/split_list.h"

#include <algorithm>
#include <sstream>

namespace oiv4kv::tools {

Status ParseSplitList(const std::string& list, std::vector<Split>* out) {
  out->clear();
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    auto split = ParseSplit(name);
    if (!split) {
      return Status::InvalidArgument("unknown split '" + name + "' in --splits (" +
                                     JoinNames(SplitNames()) + ")");
    }
    if (std::find(out->begin(), out->end(), *split) == out->end()) out->push_back(*split);
  }
  if (out->empty()) return Status::InvalidArgument("--splits names no split");
  return Status::OK();
}

}  // namespace oiv4kv::tools
