// Disk full and I/O errors in the annotation staging (issue 17 item 4,
// docs/fault_battery.md): the converter's scratch database
// (STORE/convert-staging) writes through the conversion's file system; here
// only its writes fail, N swept over the bytes and calls a clean run stages.
// Each fault must end the run with an error naming the cause, and the resume
// once the fault clears must give the clean conversion's store.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <rocksdb/file_system.h>

#include "store/convert/converter.h"
#include "store/convert/fault_injection.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Writes below a "convert-staging" folder go through `staging` (a
// FaultInjectingFileSystem), every other write straight to the disk.
class StagingOnly : public rocksdb::FileSystemWrapper {
 public:
  explicit StagingOnly(std::shared_ptr<FaultInjectingFileSystem> staging)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), staging_(std::move(staging)) {}
  const char* Name() const override { return "StagingOnly"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return For(f)->NewWritableFile(f, o, r, dbg);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return For(f)->ReopenWritableFile(f, o, r, dbg);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    return For(f)->ReuseWritableFile(f, old, o, r, dbg);
  }
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return For(t)->RenameFile(s, t, o, dbg);
  }

 private:
  rocksdb::FileSystem* For(const std::string& file) {
    return file.find("/convert-staging/") != std::string::npos
               ? static_cast<rocksdb::FileSystem*>(staging_.get())
               : target();
  }
  std::shared_ptr<FaultInjectingFileSystem> staging_;
};

TEST(StagingFaults, DiskFullAndIoErrorsWhileStagingNameTheCauseAndResumeToTheCleanStore) {
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), fault::Download(60, 23), &record));
  const std::string source = dir.Sub("download");
  const Config config = Config::k300k;
  ConvertSummary summary;
  ASSERT_OK(Convert(fault::Request(source, dir.Sub("clean"), config), nullptr, &summary));
  const uint64_t clean = fault::StoreDigest(dir.Sub("clean"));

  // A clean run counts what the staging writes.
  auto counting =
      std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), std::nullopt);
  {
    ConvertRequest r = fault::Request(source, dir.Sub("count"), config);
    r.file_system = std::make_shared<StagingOnly>(counting);
    ASSERT_OK(Convert(r, nullptr, &summary));
    ASSERT_EQ(clean, fault::StoreDigest(dir.Sub("count")));
  }
  const uint64_t bytes = counting->bytes_written(), calls = counting->write_calls();
  ASSERT_GT(bytes, 0u) << "the staging wrote nothing through the conversion's file system";
  ASSERT_GT(calls, 2u);

  int points = 0, failed = 0;
  for (double fraction : {0.0, 0.3, 0.6, 0.95}) {
    for (FaultSpec::Trigger trigger : {FaultSpec::Trigger::kBytes, FaultSpec::Trigger::kCall}) {
      FaultSpec spec;
      spec.trigger = trigger;
      spec.error = (points % 2 == 0) ? FaultSpec::Error::kNoSpace : FaultSpec::Error::kIOError;
      spec.n = trigger == FaultSpec::Trigger::kBytes
                   ? static_cast<uint64_t>(fraction * static_cast<double>(bytes))
                   : 1 + static_cast<uint64_t>(fraction * static_cast<double>(calls - 1));
      const bool nospace = spec.error == FaultSpec::Error::kNoSpace;
      std::ostringstream point;
      point << (nospace ? "nospace" : "ioerror") << ":"
            << (trigger == FaultSpec::Trigger::kBytes ? "bytes" : "call") << ":" << spec.n;
      SCOPED_TRACE(point.str());
      const std::string store = dir.Sub("point" + std::to_string(points));
      auto faulty = std::make_shared<FaultInjectingFileSystem>(rocksdb::FileSystem::Default(), spec);
      ConvertRequest r = fault::Request(source, store, config);
      r.file_system = std::make_shared<StagingOnly>(faulty);
      const Status s = Convert(r, nullptr, &summary);
      ++points;
      EXPECT_TRUE(faulty->fired()) << "the fault was never reached";
      EXPECT_FALSE(s.ok()) << "a staging write failed and the run went on";
      if (!s.ok()) {
        ++failed;
        std::cout << "  " << point.str() << ": " << s.ToString().substr(0, 160) << "\n";
        if (nospace) {
          EXPECT_TRUE(s.message().starts_with("No space left on device: " + store))
              << s.ToString();
        }
        EXPECT_NE(std::string::npos, s.message().find(nospace ? "No space left on device (injected)"
                                                              : "Input/output error (injected)"))
            << s.ToString();
        const std::string advice = ConvertFailureAdvice(s, summary);
        EXPECT_NE(std::string::npos, advice.find("run the same command again to resume"))
            << advice;
      }
      // The fault clears: the same command resumes to the clean store.
      ASSERT_OK(Convert(fault::Request(source, store, config), nullptr, &summary));
      EXPECT_EQ(clean, fault::StoreDigest(store));
      const fault::Comparison c = fault::CompareStores(dir.Sub("clean"), store);
      EXPECT_TRUE(c.same()) << c.lost << " lost, " << c.duplicated << " duplicated, " << c.extra
                            << " extra, " << c.differing << " differing: " << c.first_problem;
      EXPECT_GT(c.compared, 40u);
      EXPECT_EQ("", fault::LeftoverProgress(store, config));
      fs::remove_all(store);
    }
  }
  std::cout << "staging faults: " << failed << " of " << points << " points stopped the run ("
            << bytes << " staged bytes in " << calls << " write calls), all resumed\n";
  EXPECT_EQ(8, points);
  EXPECT_EQ(8, failed);
}

}  // namespace
}  // namespace oiv4kv
