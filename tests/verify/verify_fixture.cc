#include "tests/verify/verify_fixture.h"

namespace oiv4kv::verify_test {
namespace {

// Put with a value, Delete with none.
void Overwrite(const std::string& path, Family family, std::string_view key,
               const std::string* value) {
  OpenDb db;
  ASSERT_OK(OpenRocksDb(path, WriterDbOptions(WriterOptions()),
                        WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
  const rocksdb::Slice k(key.data(), key.size());
  rocksdb::Status s = value ? db.db->Put(rocksdb::WriteOptions(), db.family(family), k, *value)
                            : db.db->Delete(rocksdb::WriteOptions(), db.family(family), k);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db.db->Flush(rocksdb::FlushOptions(), db.family(family)).ok());
}

}  // namespace

void Put(const std::string& path, Family family, std::string_view key, const std::string& value) {
  Overwrite(path, family, key, &value);
}
void Delete(const std::string& path, Family family, std::string_view key) {
  Overwrite(path, family, key, nullptr);
}

std::string Describe(const VerifyReport& r) {
  std::string out = std::to_string(r.num_problems) + " problems:\n";
  for (const Problem& p : r.problems) out += "  " + p.where + ": " + p.reason + "\n";
  return out;
}

size_t CountProblems(const VerifyReport& r, const std::string& where, const std::string& reason) {
  size_t n = 0;
  for (const Problem& p : r.problems) {
    n += p.where == where && p.reason.find(reason) != std::string::npos;
  }
  return n;
}

void VerifyTest::SetUp() {
  testing::SampleSpec spec;
  spec.configs = {};
  ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), spec, &sample_));
  ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample_));
}

VerifyReport VerifyTest::Verify(bool deep, size_t max_problems) {
  VerifyOptions o;
  o.deep = deep;
  o.max_problems = max_problems;
  o.threads = 2;
  VerifyReport r;
  EXPECT_OK(VerifyStore(sample_.path, o, nullptr, &r));
  return r;
}

}  // namespace oiv4kv::verify_test
