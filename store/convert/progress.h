// Progress of a long conversion step: on a terminal, one line redrawn in
// place (count, rate, MB/s, ETA); elsewhere, a plain line every
// `log_interval`. Thread-compatible: call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace oiv4kv {

class ProgressMeter {
 public:
  // `out` null: silent.
  ProgressMeter(std::FILE* out, bool terminal,
                std::chrono::seconds log_interval = std::chrono::seconds(30));

  // Starts a step of `total_bytes` input (0 if unknown); `what` names it.
  void Start(const std::string& what, const std::string& unit, uint64_t total_bytes);
  // `items` done and `bytes` of input consumed so far in this step; `where`
  // names the current file.
  void Update(uint64_t items, uint64_t bytes, const std::string& where);
  // Prints the step's final line.
  void Finish();

 private:
  void Print(bool final);

  std::FILE* out_;
  bool terminal_;
  std::chrono::seconds log_interval_;
  std::string what_, unit_, where_;
  uint64_t total_ = 0, items_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace oiv4kv
