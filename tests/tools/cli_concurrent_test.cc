// Readers of a store that a real writer process is extending (issue 12 item
// 9): `oiv4-kv convert` adds a config and is then run again and again on
// the same store (each run opens the writer: a new MANIFEST, a flushed and
// deleted log, the old MANIFEST deleted). Meanwhile this process opens the
// store afresh in a loop and verifies it now and then: no open may fail, and
// verify either finds the store clean or says a writer is running; it never
// reports a problem the store does not have.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <string>
#include <vector>

#include "oiv4kv/store.h"
#include "store/verify/verify.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::CommandResult;
using testing::Oiv4kv;
using testing::TempDir;

TEST(CliConcurrent, FreshOpensAndVerifyDuringConvertNeverReportCorruption) {
  TempDir dir;
  const std::string dl = dir.Sub("download");
  const std::string store = dir.Sub("store");
  ASSERT_EQ(0, Oiv4kv("synth " + dl + " --images 120 --max-side 1024 --archives tar --no-awkward")
                   .exit_code);
  const std::string convert = std::string(OIV4KV_BINARY) + " convert --source " + dl +
                              " --store " + store + " --label-lists " + dl +
                              "/tfds_lists --threads 1 --chunk-images 4";
  CommandResult r = testing::RunCommand(convert + " --config original", true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  uint64_t examples = 0;
  {
    std::unique_ptr<Store> s;
    ASSERT_OK(Store::Open(store, StoreOptions(), &s));
    for (Split split : kAllSplits) examples += s->NumExamples(split);
  }
  ASSERT_EQ(120u, examples);  // synth --images 120, over the three splits

  // The writer: adds 300k, then reopens the store at least 40 times more,
  // and goes on (up to kMaxWriterRuns) until the reader has opened the store
  // kMinOpens times and says so with the file STOP: a slow build (ASan) then
  // still tests as many opens as a fast one.
  constexpr int kMinWriterRuns = 41, kMaxWriterRuns = 400, kMinOpens = 40;
  const std::string stop = dir.Sub("STOP");
  const std::string script =
      "i=0; while [ $i -lt " + std::to_string(kMinWriterRuns) + " ] || { [ ! -e " + stop +
      " ] && [ $i -lt " + std::to_string(kMaxWriterRuns) + " ]; }; do " + convert +
      " --config 300k >> " + dir.Sub("writer.log") + " 2>&1 || exit 1; i=$((i+1)); done; " +
      "echo $i > " + dir.Sub("runs");
  const pid_t writer = fork();
  ASSERT_NE(-1, writer);
  if (writer == 0) {
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }

  constexpr int kMaxOpens = 3000;  // bounds the loop if the writer hangs
  int opens = 0, verifies = 0, verify_clean = 0, verify_writer = 0;
  std::vector<std::string> failures;
  int status = 0;
  bool writer_done = false;
  while (opens < kMaxOpens) {
    if (waitpid(writer, &status, WNOHANG) == writer) {
      writer_done = true;
      break;
    }
    if (opens == kMinOpens) std::ofstream(stop).close();  // the writer may stop now
    std::unique_ptr<Store> s;
    ++opens;
    if (Status st = Store::Open(store, StoreOptions(), &s); !st.ok()) {
      failures.push_back("open: " + st.ToString());
      continue;
    }
    uint64_t n = 0;
    for (Split split : kAllSplits) n += s->NumExamples(split);
    if (n != examples) failures.push_back("open: " + std::to_string(n) + " examples");
    ExampleView view;
    if (Status st = s->At(Split::kTrain, 0, &view); !st.ok()) {
      failures.push_back("read: " + st.ToString());
    }
    if (opens % 8 == 0) {
      ++verifies;
      VerifyReport report;
      const Status st = VerifyStore(store, VerifyOptions(), nullptr, &report);
      if (st.ok() && report.ok()) {
        ++verify_clean;
      } else if (!st.ok() && (st.message().find("is writing this store") != std::string::npos ||
                              st.message().find("files changed while verify") !=
                                  std::string::npos)) {
        ++verify_writer;
      } else {
        failures.push_back("verify: " + (st.ok() ? report.problems.front().where + ": " +
                                                       report.problems.front().reason
                                                 : st.ToString()));
      }
    }
  }
  if (!writer_done) {
    kill(writer, SIGKILL);
    waitpid(writer, &status, 0);
  }
  ASSERT_TRUE(writer_done) << "the writer did not finish within " << kMaxOpens << " opens";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << testing::RunCommand("cat " + dir.Sub("writer.log"), true).out;
  std::string first;
  for (size_t i = 0; i < failures.size() && i < 5; ++i) first += "\n  " + failures[i];
  EXPECT_EQ(0u, failures.size()) << failures.size() << " of " << opens << " opens failed:" << first;
  EXPECT_GE(opens, kMinOpens) << "the writer stopped before the reader's " << kMinOpens
                              << " opens (it runs at most " << kMaxWriterRuns << " times)";
  EXPECT_EQ(verifies, verify_clean + verify_writer);
  std::string runs = testing::RunCommand("cat " + dir.Sub("runs"), false).out;
  while (!runs.empty() && std::isspace(static_cast<unsigned char>(runs.back()))) runs.pop_back();
  std::cout << opens << " opens, " << verifies << " verifies (" << verify_clean << " clean, "
            << verify_writer << " saw the writer) while convert ran " << runs << " times\n";

  std::unique_ptr<Store> s;
  ASSERT_OK(Store::Open(store, StoreOptions(), &s));
  EXPECT_TRUE(s->HasConfig(Config::k300k));
  r = Oiv4kv("verify " + store, true);
  EXPECT_EQ(0, r.exit_code) << r.out;
}

}  // namespace
}  // namespace oiv4kv
