#include "store/convert/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace oiv4kv {
namespace {

std::string Contents(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[512];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) s.append(buf, n);
  return s;
}

TEST(ProgressMeter, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(nullptr, f);
  ProgressMeter meter(f, /*terminal=*/false, std::chrono::seconds(0));
  meter.Start("300k train_0.tar.gz", "images", 1000);
  meter.Update(10, 250, "train_0.tar.gz");
  meter.Finish();
  const std::string out = Contents(f);
  EXPECT_EQ(std::string::npos, out.find('\r')) << "no redraws in a log";
  EXPECT_NE(std::string::npos, out.find("300k train_0.tar.gz: 10 images")) << out;
  EXPECT_NE(std::string::npos, out.find("images/s")) << out;
  EXPECT_NE(std::string::npos, out.find("MB/s")) << out;
  EXPECT_NE(std::string::npos, out.find("25.0%, ETA")) << out;
  EXPECT_EQ(2, std::count(out.begin(), out.end(), '\n')) << out;  // the update and the end
  std::fclose(f);
}

TEST(ProgressMeter, RedrawsOneLineOnATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(nullptr, f);
  ProgressMeter meter(f, /*terminal=*/true);
  meter.Start("staging x.csv", "rows", 0);
  meter.Finish();
  const std::string out = Contents(f);
  EXPECT_EQ(0u, out.find("\r\033[K")) << out;
  EXPECT_EQ('\n', out.back());
  std::fclose(f);
}

}  // namespace
}  // namespace oiv4kv
