// Disk full and I/O errors (issue 17 item 4, docs/fault_battery.md): a
// RocksDB FileSystemWrapper (store/convert/fault_injection.h) fails the
// store's writes with NoSpace or IOError after N bytes or at the Nth write
// call; N is swept over a conversion. Each fault must end the run with an
// error naming the cause, keep what was committed, and a resume once the
// fault clears must give the clean conversion's store. Also through the
// command line (exit 1, the message), and on a real full tmpfs where the
// machine lets the test mount one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <rocksdb/file_system.h>

#include "oiv4kv/store.h"
#include "store/convert/converter.h"
#include "store/convert/fault_injection.h"
#include "store/core/writer_internal.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(FaultSpec, ParsesKindTriggerAndCount) {
  FaultSpec spec;
  ASSERT_OK(ParseFaultSpec("nospace:bytes:1048576", &spec));
  EXPECT_EQ(FaultSpec::Error::kNoSpace, spec.error);
  EXPECT_EQ(FaultSpec::Trigger::kBytes, spec.trigger);
  EXPECT_EQ(1048576u, spec.n);
  ASSERT_OK(ParseFaultSpec("ioerror:call:40", &spec));
  EXPECT_EQ(FaultSpec::Error::kIOError, spec.error);
  EXPECT_EQ(FaultSpec::Trigger::kCall, spec.trigger);
  EXPECT_EQ(40u, spec.n);
  for (const char* bad : {"", "nospace", "nospace:bytes", "full:bytes:1", "nospace:time:1",
                          "nospace:bytes:", "nospace:bytes:12x"}) {
    const Status s = ParseFaultSpec(bad, &spec);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_NE(std::string::npos, s.message().find("KIND:TRIGGER:N")) << s.message();
  }
}

// The wrapper alone: a writer on it fails at the Nth call with the cause.
TEST(FaultFileSystem, AWriterOnItFailsWithTheInjectedCauseAndClearResumes) {
  TempDir dir;
  for (FaultSpec::Error error : {FaultSpec::Error::kNoSpace, FaultSpec::Error::kIOError}) {
    const std::string path = dir.Sub(error == FaultSpec::Error::kNoSpace ? "ns" : "io");
    auto counting =
        std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), std::nullopt);
    {
      std::unique_ptr<Writer> w;
      ASSERT_OK(OpenWriterOnFileSystem(path, WriterOptions(), counting, &w));
    }
    EXPECT_GT(counting->write_calls(), 0u);  // the open's files went through it
    EXPECT_GT(counting->bytes_written(), 0u);
    auto faulty = std::make_shared<FaultInjectingFileSystem>(
        rocksdb::FileSystem::Default(), FaultSpec{error, FaultSpec::Trigger::kCall, 1});
    std::unique_ptr<Writer> w;
    const Status s = OpenWriterOnFileSystem(path, WriterOptions(), faulty, &w);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(faulty->fired());
    EXPECT_EQ(Status::Code::kIOError, s.code()) << s.ToString();
    EXPECT_NE(std::string::npos,
              s.message().find(error == FaultSpec::Error::kNoSpace
                                   ? "No space left on device (injected)"
                                   : "Input/output error (injected)"))
        << s.ToString();
    faulty->Clear();
    ASSERT_OK(OpenWriterOnFileSystem(path, WriterOptions(), faulty, &w));
  }
}

struct SweepStats {
  int points = 0, failed = 0, completed_anyway = 0, not_fired = 0;
};

// Sweeps N over one conversion of `config` into a copy of `base` (or a new
// store when `base` is empty): each fault, its message, what survives, and
// the resume's store against `clean`.
void Sweep(const std::string& source, const std::string& base, Config config,
           const std::string& clean, const std::string& work, SweepStats* stats) {
  const uint64_t clean_digest = fault::StoreDigest(clean);
  auto fresh = [&](const std::string& path) {
    fs::remove_all(path);
    if (!base.empty()) fs::copy(base, path, fs::copy_options::recursive);
  };
  // A clean run through the wrapper counts what there is to fail.
  auto counting =
      std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), std::nullopt);
  {
    const std::string path = work + "/count";
    fresh(path);
    ConvertRequest r = fault::Request(source, path, config);
    r.file_system = counting;
    ConvertSummary summary;
    ASSERT_OK(Convert(r, nullptr, &summary));
    ASSERT_EQ(clean_digest, fault::StoreDigest(path));
    fs::remove_all(path);
  }
  const uint64_t total_bytes = counting->bytes_written(), total_calls = counting->write_calls();
  ASSERT_GT(total_bytes, 0u);
  ASSERT_GT(total_calls, 10u);
  std::cout << "sweep of config " << ConfigName(config) << (base.empty() ? " (new store)" : "")
            << ": " << total_bytes << " bytes in " << total_calls << " write calls\n";
  int index = 0;
  for (FaultSpec::Trigger trigger : {FaultSpec::Trigger::kBytes, FaultSpec::Trigger::kCall}) {
    const uint64_t total = trigger == FaultSpec::Trigger::kBytes ? total_bytes : total_calls;
    for (double fraction : {0.0, 0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95, 0.995}) {
      FaultSpec spec;
      spec.trigger = trigger;
      spec.n = std::max<uint64_t>(trigger == FaultSpec::Trigger::kCall ? 1 : 0,
                                  static_cast<uint64_t>(fraction * total));
      spec.error = (index++ % 2 == 0) == (trigger == FaultSpec::Trigger::kBytes)
                       ? FaultSpec::Error::kNoSpace
                       : FaultSpec::Error::kIOError;
      const bool nospace = spec.error == FaultSpec::Error::kNoSpace;
      std::ostringstream point;
      point << (nospace ? "nospace" : "ioerror") << ":"
            << (trigger == FaultSpec::Trigger::kBytes ? "bytes" : "call") << ":" << spec.n
            << " (" << std::fixed << std::setprecision(1) << 100 * fraction << "%)";
      SCOPED_TRACE(point.str());
      const std::string path = work + "/point";
      fresh(path);
      auto faulty = std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), spec);
      ConvertRequest r = fault::Request(source, path, config);
      r.file_system = faulty;
      ConvertSummary summary;
      const Status s = Convert(r, nullptr, &summary);
      ++stats->points;
      std::string outcome;
      if (!faulty->fired()) {
        ++stats->not_fired;
        EXPECT_OK(s);
        outcome = "not reached";
      } else if (s.ok()) {
        // The fault fell after the last commit (a background compaction,
        // the close): the store is complete.
        ++stats->completed_anyway;
        outcome = "fired after the last commit: run ok";
      } else {
        ++stats->failed;
        outcome = "exit: " + s.ToString().substr(0, 110);
        // A clear error naming the cause, with the advice to resume.
        if (nospace) {
          EXPECT_TRUE(IsNoSpace(s)) << s.ToString();
          EXPECT_TRUE(s.message().starts_with("No space left on device: " + path))
              << s.ToString();
        } else {
          EXPECT_EQ(Status::Code::kIOError, s.code()) << s.ToString();
        }
        EXPECT_NE(std::string::npos,
                  s.message().find(nospace ? "No space left on device (injected)"
                                           : "Input/output error (injected)"))
            << s.ToString();
        const std::string advice = ConvertFailureAdvice(s, summary);
        EXPECT_NE(std::string::npos, advice.find("run the same command again to resume"))
            << advice;
        EXPECT_EQ(std::string::npos, advice.find("--on-error skip")) << advice;
        // Nothing committed is lost: the configs complete before the run
        // read back whole, the new one is not visible.
        // (The new config may be committed too: a fault after its commit.)
        if (!base.empty()) {
          const fault::Comparison kept = fault::CompareStores(base, path, true);
          EXPECT_TRUE(kept.same()) << kept.lost << " lost, " << kept.differing
                                   << " differing: " << kept.first_problem;
          EXPECT_GT(kept.compared, 40u);
        }
      }
      std::cout << "  " << point.str() << ": " << outcome << "\n";
      // The fault clears: the same command resumes to the clean store.
      ConvertSummary resumed;
      ASSERT_OK(Convert(fault::Request(source, path, config), nullptr, &resumed));
      EXPECT_EQ(clean_digest, fault::StoreDigest(path));
      const fault::Comparison c = fault::CompareStores(clean, path);
      EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                            << " extra, " << c.differing << " differing: " << c.first_problem;
      EXPECT_GT(c.compared, 40u);
      EXPECT_EQ("", fault::LeftoverProgress(path, config));
      fs::remove_all(path);
    }
  }
}

TEST(FaultSweep, DiskFullAndIoErrorsAnywhereInAConversionResumeToTheCleanStore) {
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(60, 17), &record));
  const std::string source = dir.Sub("download");
  // The clean stores: original alone, then 300k added.
  ConvertSummary summary;
  ASSERT_OK(Convert(fault::Request(source, dir.Sub("clean_original"), Config::kOriginal), nullptr,
                    &summary));
  fs::copy(dir.Sub("clean_original"), dir.Sub("clean_both"), fs::copy_options::recursive);
  ASSERT_OK(Convert(fault::Request(source, dir.Sub("clean_both"), Config::k300k), nullptr, &summary));
  fs::create_directories(dir.Sub("work"));
  SweepStats stats;
  // A new store: staging, the annotations' commit, the images, the config's.
  Sweep(source, "", Config::kOriginal, dir.Sub("clean_original"), dir.Sub("work"), &stats);
  // A transcoding config added to a complete store, which must survive.
  Sweep(source, dir.Sub("clean_original"), Config::k300k, dir.Sub("clean_both"),
        dir.Sub("work"), &stats);
  std::cout << "fault sweep: " << stats.points << " points, " << stats.failed
            << " stopped the run with the cause, " << stats.completed_anyway
            << " fired after the last commit, " << stats.not_fired << " not reached\n";
  EXPECT_EQ(40, stats.points);
  EXPECT_GE(stats.failed, 30) << "most points should stop the run";
}

// Through the command line: OIV4KV_FAULT_FS, exit status 1 and the message.
TEST(FaultSweep, TheCommandLineExitsOneNamingTheCauseAndTheSameCommandResumes) {
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(60, 17), &record));
  const std::string source = dir.Sub("download");
  ASSERT_EQ(0, fault::RunConvert(source, dir.Sub("clean"), Config::k300k).code);
  const uint64_t clean = fault::StoreDigest(dir.Sub("clean"));
  const std::string clean_cli = fault::DumpAndExportDigest(dir.Sub("clean"), dir.Sub("scratch"));
  struct Case {
    const char* spec;
    const char* cause;
    const char* advice;
  };
  for (const Case& c : {Case{"nospace:bytes:300000", "No space left on device (injected)",
                             "free space on the store's disk"},
                        Case{"ioerror:call:60", "Input/output error (injected)",
                             "run the same command again to resume once the cause is fixed"}}) {
    SCOPED_TRACE(c.spec);
    const std::string store = dir.Sub(std::string("store_") + c.spec);
    const std::string err = dir.Sub("err");
    const fault::Exit e = fault::RunConvert(source, store, Config::k300k,
                                            {std::string("OIV4KV_FAULT_FS=") + c.spec}, err);
    std::ifstream in(err);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_TRUE(e.exited && e.code == 1) << "exited " << e.exited << " code " << e.code << "\n"
                                         << text.str();
    EXPECT_NE(std::string::npos, text.str().find(c.cause)) << text.str();
    EXPECT_NE(std::string::npos, text.str().find(c.advice)) << text.str();
    if (std::string(c.spec).starts_with("nospace")) {
      EXPECT_NE(std::string::npos, text.str().find("No space left on device: " + store))
          << text.str();
    }
    const fault::Exit resumed = fault::RunConvert(source, store, Config::k300k);
    ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.code;
    EXPECT_EQ(clean, fault::StoreDigest(store));
    EXPECT_EQ(clean_cli, fault::DumpAndExportDigest(store, dir.Sub("scratch")));
  }
  // A malformed spec is refused before anything is written.
  const fault::Exit bad = fault::RunConvert(source, dir.Sub("bad"), Config::k300k,
                                            {"OIV4KV_FAULT_FS=full:1"}, dir.Sub("bad.err"));
  EXPECT_TRUE(bad.exited && bad.code == 1);
  EXPECT_FALSE(fs::exists(dir.Sub("bad") + "/CURRENT"));
}

// A real full file system: a small tmpfs fills during the conversion; once
// it is grown (remount), the same command resumes to the clean store.
// Skipped where a tmpfs cannot be mounted (not root, no CAP_SYS_ADMIN).
TEST(FaultSweep, RealFullTmpfsThenMoreSpaceResumesToTheCleanStore) {
  TempDir dir;
  const std::string mnt = dir.Sub("small");
  fs::create_directories(mnt);
  if (testing::RunCommand("mount -t tmpfs -o size=14m tmpfs " + mnt + " 2>/dev/null", false)
          .exit_code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): the real full disk is not tested";
  }
  struct Unmount {
    std::string mnt;
    ~Unmount() { testing::RunCommand("umount " + mnt, false); }
  } unmount{mnt};
  SynthOptions o = fault::Download(400, 17);
  o.max_side = 256;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), o, &record));
  const std::string source = dir.Sub("download");
  ASSERT_EQ(0, fault::RunConvert(source, dir.Sub("clean"), Config::kOriginal).code);
  const std::string store = mnt + "/store";
  const fault::Exit full =
      fault::RunConvert(source, store, Config::kOriginal, {}, dir.Sub("full.err"));
  std::ifstream in(dir.Sub("full.err"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(full.exited && full.code == 1) << full.code << "\n" << text.str();
  EXPECT_NE(std::string::npos, text.str().find("No space left on device: " + store))
      << text.str();
  ASSERT_EQ(0, testing::RunCommand("mount -o remount,size=256m " + mnt, false).exit_code);
  const fault::Exit resumed = fault::RunConvert(source, store, Config::kOriginal);
  ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.code;
  EXPECT_EQ(fault::StoreDigest(dir.Sub("clean")), fault::StoreDigest(store));
  const fault::Comparison c = fault::CompareStores(dir.Sub("clean"), store);
  EXPECT_TRUE(c.same()) << c.first_problem;
}

}  // namespace
}  // namespace oiv4kv
