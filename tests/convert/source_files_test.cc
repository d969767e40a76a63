#include "store/convert/source_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

void Touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// A complete download for `splits`, flat or with split subfolders.
void MakeDownload(const fs::path& root, bool subdirs) {
  Touch(root / "class-descriptions.csv");
  Touch(root / "class-descriptions-boxable.csv");
  Touch(root / "classes-trainable.txt");
  for (Split split : kAllSplits) {
    const std::string name(SplitName(split));
    const fs::path dir = subdirs ? root / name : root;
    for (const char* kind : {"-annotations-bbox.csv", "-annotations-human-imagelabels.csv",
                             "-annotations-machine-imagelabels.csv"}) {
      Touch(dir / (name + kind));
    }
    for (const std::string& stem : ArchiveStems(split)) Touch(dir / (stem + ".tar.gz"));
  }
}

TEST(SourceFiles, FindsAFlatDownload) {
  TempDir dir;
  MakeDownload(dir.path(), false);
  SourceFiles f;
  ASSERT_OK(FindSourceFiles(dir.path(), kAllSplits, &f));
  EXPECT_EQ(dir.Sub("class-descriptions.csv"), f.class_descriptions);
  EXPECT_EQ(dir.Sub("validation-annotations-human-imagelabels.csv"), f.splits[1].human_csv);
  ASSERT_EQ(16u, f.splits[0].archives.size());
  EXPECT_EQ(dir.Sub("train_0.tar.gz"), f.splits[0].archives[0]);
  EXPECT_EQ(dir.Sub("train_f.tar.gz"), f.splits[0].archives[15]);
  EXPECT_EQ(std::vector<std::string>{dir.Sub("test.tar.gz")}, f.splits[2].archives);
}

TEST(SourceFiles, FindsSplitSubfoldersTarsAndExtractedFolders) {
  TempDir dir;
  MakeDownload(dir.path(), true);
  // train_3 extracted instead of archived; test as a plain tar.
  fs::remove(dir.Sub("train/train_3.tar.gz"));
  Touch(dir.Sub("train/train_3/3000000000000000.jpg"));
  fs::rename(dir.Sub("test/test.tar.gz"), dir.Sub("test/test.tar"));
  SourceFiles f;
  ASSERT_OK(FindSourceFiles(dir.path(), kAllSplits, &f));
  EXPECT_EQ(dir.Sub("train/train_3"), f.splits[0].archives[3]);
  EXPECT_EQ(dir.Sub("test/test.tar"), f.splits[2].archives[0]);
  EXPECT_EQ(dir.Sub("train/train-annotations-bbox.csv"), f.splits[0].bbox_csv);
}

TEST(SourceFiles, NamesEveryMissingOrAmbiguousFile) {
  TempDir dir;
  MakeDownload(dir.path(), false);
  fs::remove(dir.Sub("train_a.tar.gz"));
  fs::remove(dir.Sub("test-annotations-bbox.csv"));
  Touch(dir.Sub("copy/classes-trainable.txt"));
  SourceFiles f;
  const Status s = FindSourceFiles(dir.path(), kAllSplits, &f);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.message().find("missing train_a.tar.gz")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("missing test-annotations-bbox.csv"));
  EXPECT_NE(std::string::npos, s.message().find("classes-trainable.txt found twice"));
}

TEST(SourceFiles, OnlyTheAskedSplitsAreRequired) {
  TempDir dir;
  MakeDownload(dir.path(), false);
  for (const std::string& stem : ArchiveStems(Split::kTrain)) fs::remove(dir.Sub(stem + ".tar.gz"));
  SourceFiles f;
  const Split splits[] = {Split::kValidation};
  ASSERT_OK(FindSourceFiles(dir.path(), splits, &f));
  EXPECT_TRUE(f.splits[0].archives.empty());
}

}  // namespace
}  // namespace oiv4kv
