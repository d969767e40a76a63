#include "store/core/kill_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace oiv4kv {
namespace {

struct KillPlan {
  std::string name;      // empty: kill nowhere
  unsigned long at = 0;  // 1-based occurrence
  int log_fd = -1;
  std::mutex mu;
  std::map<std::string, unsigned long, std::less<>> seen;

  KillPlan() {
    if (const char* at_env = std::getenv("OIV4KV_KILL_AT"); at_env != nullptr) {
      const std::string spec(at_env);
      const size_t colon = spec.rfind(':');
      if (colon != std::string::npos) {
        name = spec.substr(0, colon);
        at = std::strtoul(spec.c_str() + colon + 1, nullptr, 10);
      }
    }
    if (const char* log = std::getenv("OIV4KV_KILL_POINTS_LOG"); log != nullptr && *log) {
      log_fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
  }
  bool active() const { return (!name.empty() && at > 0) || log_fd >= 0; }
};

}  // namespace

void KillPoint(std::string_view name) {
#ifdef OIV4KV_NO_KILL_POINTS
  (void)name;
#else
  // Never destroyed: points are reached from background threads too.
  static KillPlan* plan = new KillPlan();
  if (!plan->active()) return;
  std::lock_guard<std::mutex> lock(plan->mu);
  if (plan->log_fd >= 0) {
    const std::string line = std::string(name) + "\n";
    (void)!::write(plan->log_fd, line.data(), line.size());
  }
  auto it = plan->seen.find(name);
  if (it == plan->seen.end()) it = plan->seen.emplace(std::string(name), 0).first;
  if (++it->second == plan->at && name == plan->name) ::raise(SIGKILL);
#endif
}

}  // namespace oiv4kv
