// --splits A,B,...: the comma list of split names that `convert` and `plan`
// take, shared so both accept and refuse the same lists.
#pragma once

#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"

namespace oiv4kv::tools {

// The splits `list` names, each once, in the order first named.
// InvalidArgument names an unknown split (listing the known ones) or an
// empty list.
Status ParseSplitList(const std::string& list, std::vector<Split>* out);

}  // namespace oiv4kv::tools
