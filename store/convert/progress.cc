#include "store/convert/progress.h"

namespace oiv4kv {
namespace {

std::string Duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

ProgressMeter::ProgressMeter(std::FILE* out, bool terminal, std::chrono::seconds log_interval)
    : out_(out), terminal_(terminal), log_interval_(log_interval) {}

void ProgressMeter::Start(const std::string& what, const std::string& unit,
                          uint64_t total_bytes) {
  what_ = what;
  unit_ = unit;
  total_ = total_bytes;
  items_ = bytes_ = 0;
  where_.clear();
  start_ = last_print_ = std::chrono::steady_clock::now();
}

void ProgressMeter::Update(uint64_t items, uint64_t bytes, const std::string& where) {
  items_ = items;
  bytes_ = bytes;
  where_ = where;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = terminal_ ? std::chrono::milliseconds(250)
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(log_interval_);
  if (now - last_print_ >= interval) {
    last_print_ = now;
    Print(false);
  }
}

void ProgressMeter::Finish() { Print(true); }

void ProgressMeter::Print(bool final) {
  if (out_ == nullptr) return;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? items_ / secs : 0;
  const double mbps = secs > 0 ? bytes_ / secs / 1e6 : 0;
  std::string line = what_ + ": " + std::to_string(items_) + " " + unit_;
  char buf[160];
  std::snprintf(buf, sizeof(buf), ", %.0f %s/s, %.1f MB/s", rate, unit_.c_str(), mbps);
  line += buf;
  if (final) {
    line += ", " + Duration(secs);
  } else {
    if (total_ > 0 && bytes_ > 0 && bytes_ < total_) {
      std::snprintf(buf, sizeof(buf), ", %.1f%%, ETA %s", 100.0 * bytes_ / total_,
                    Duration(secs * (total_ - bytes_) / bytes_).c_str());
      line += buf;
    }
    if (!where_.empty()) line += " [" + where_ + "]";
  }
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace oiv4kv
