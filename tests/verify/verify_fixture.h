// What the verify tests share: a generated store with real JPEGs in 300k
// (VerifyTest), ways to damage it around the writer (Put, Delete: valid block
// checksums, wrong contents) and to read the report (CountProblems,
// Describe). One test file per phase of store/verify.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/verify/verify.h"
#include "tests/testutil.h"

namespace oiv4kv::verify_test {

// Writes `value` to (Put) or deletes (Delete) one key straight into RocksDB,
// as a bug or a foreign tool could, and flushes it into a table file.
void Put(const std::string& path, Family family, std::string_view key, const std::string& value);
void Delete(const std::string& path, Family family, std::string_view key);

// The report's problems, one a line, for a failure message.
std::string Describe(const VerifyReport& r);

// The problems whose `where` is `where` and whose reason contains `reason`.
size_t CountProblems(const VerifyReport& r, const std::string& where, const std::string& reason);

// 60 examples with real JPEGs in 300k, so that `deep` decodes them all.
class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override;

  VerifyReport Verify(bool deep = false, size_t max_problems = 1000);

  std::string Key(Split split, uint64_t id) const {
    return std::string(KeyView(EncodeKey(split, id)));
  }

  testing::TempDir dir_;
  testing::SampleStore sample_;
};

}  // namespace oiv4kv::verify_test
