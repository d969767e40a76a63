#include "tools/format.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace oiv4kv::tools {
namespace {
int g_stdout_errno = 0;  // the first failed write's errno; 0 none
}  // namespace

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string JsonString(std::string_view s) { return DumpJson(nlohmann::json(std::string(s))); }

bool StdoutOk() {
  if (g_stdout_errno == 0 && std::cout.good() && std::ferror(stdout) == 0) return true;
  if (g_stdout_errno == 0) g_stdout_errno = errno != 0 ? errno : EIO;
  return false;
}

std::string StdoutError() {
  if (!StdoutOk()) return std::strerror(g_stdout_errno);
  errno = 0;
  std::cout.flush();
  const bool failed = std::fflush(stdout) != 0;
  if (!failed && StdoutOk()) return "";
  if (g_stdout_errno == 0 || failed) g_stdout_errno = errno != 0 ? errno : EIO;
  return std::strerror(g_stdout_errno);
}

}  // namespace oiv4kv::tools
