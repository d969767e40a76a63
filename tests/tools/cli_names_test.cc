// The command line's choice options take their names from the public API's
// lists (SplitNames, ConfigNames, ErrorPolicyNames): each refuses other names
// with exit 2 and lists the valid ones. Expected lists are written by hand.
#include <gtest/gtest.h>

#include <string>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::CommandResult;
using testing::TempDir;

CommandResult Oiv4kv(const std::string& args) { return testing::Oiv4kv(args, true); }

TEST(CliNames, ChoiceOptionsListTheApisNames) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"get " + store + " --split dev --index 0", "--split: dev not in {train,validation,test}"},
      {"get " + store + " --split train --index 0 --config 100k",
       "--config: 100k not in {original,300k,200k}"},
      {"dump " + store + " --split Train", "--split: Train not in {train,validation,test}"},
      {"export " + store + " --config 300K --split test --out " + dir.Sub("out"),
       "--config: 300K not in {original,300k,200k}"},
      {"bench " + store + " --config full", "--config: full not in {original,300k,200k}"},
      {"convert --source " + dir.Sub("dl") + " --store " + store + " --config 300k --on-error warn",
       "--on-error: warn not in {fail,skip}"},
      {"convert --source " + dir.Sub("dl") + " --store " + store + " --config 300k --splits "
       "train,dev",
       "unknown split 'dev' in --splits (train, validation or test)"},
  };
  int checked = 0;
  for (const Case& c : cases) {
    const CommandResult r = Oiv4kv(c.args);
    EXPECT_EQ(2, r.exit_code) << c.args << "\n" << r.out;
    EXPECT_NE(std::string::npos, r.out.find(c.message)) << c.args << "\n" << r.out;
    ++checked;
  }
  EXPECT_EQ(7, checked);
}

}  // namespace
}  // namespace oiv4kv
