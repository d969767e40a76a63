// The files phase (store/verify/files.cc, log_records.cc): damage to a
// file's bytes that RocksDB itself would not report.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/core/writer_internal.h"
#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

// OPTIONS files carry no checksum and RocksDB does not read them back; a
// byte that is not text in one, even inside a value RocksDB still parses,
// is damage.
TEST_F(VerifyTest, OptionsFilesMustBeText) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(sample_.path)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("OPTIONS-")) continue;
    names.push_back(name);
    std::string text;
    {
      std::ifstream f(e.path(), std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(f), {});
    }
    const size_t at = text.find("db_host_id=__hostname__");
    ASSERT_NE(std::string::npos, at) << name;
    text[at + 13] = '\xe9';
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << text;
  }
  ASSERT_FALSE(names.empty());
  const VerifyReport r = Verify();
  for (const std::string& name : names) {
    EXPECT_EQ(1u, CountProblems(r, name, "byte 233 at offset")) << Describe(r);
  }
  EXPECT_EQ(names.size(), r.num_problems) << Describe(r);
}

// A write-ahead log of several 32 KiB blocks, with records split across
// them, is read record by record: intact it is clean, and a changed bit in
// any record is found (RocksDB's own replay would stop there quietly).
TEST_F(VerifyTest, EveryWriteAheadLogRecordIsChecked) {
  {
    std::unique_ptr<Writer> writer;
    ASSERT_OK(Writer::Open(sample_.path, WriterOptions(), &writer));
    for (int i = 0; i < 40; ++i) {
      Batch batch;
      ASSERT_OK(
          PutProgress(batch, "test/" + std::to_string(i), std::string(500 + 997 * i, 'a' + i % 26)));
      ASSERT_OK(writer->Write(batch));
    }
  }  // closed without a flush: the batches stay in the log
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(sample_.path)) {
    if (e.path().extension() == ".log" && e.file_size() > 100'000) wal = e.path().string();
  }
  ASSERT_FALSE(wal.empty()) << "no write-ahead log of several blocks";
  ASSERT_TRUE(Verify().ok()) << Describe(Verify());

  const std::string original = [&] {
    std::ifstream f(wal, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();
  for (size_t offset : {size_t{3}, size_t{32768 + 2}, original.size() / 3, original.size() / 2,
                        original.size() - 5}) {
    std::string damaged = original;
    damaged[offset] ^= 0x04;
    std::ofstream(wal, std::ios::binary | std::ios::trunc) << damaged;
    const VerifyReport r = Verify();
    const std::string name = std::filesystem::path(wal).filename().string();
    EXPECT_EQ(1u, CountProblems(r, name, "")) << "offset " << offset << "\n" << Describe(r);
  }
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << original;
  EXPECT_TRUE(Verify().ok());
}

}  // namespace
}  // namespace oiv4kv::verify_test
