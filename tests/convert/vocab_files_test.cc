#include "store/convert/vocab_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::vector<std::string> Mids(const std::vector<VocabEntry>& entries) {
  std::vector<std::string> mids;
  for (const VocabEntry& e : entries) mids.push_back(e.mid);
  return mids;
}

std::vector<std::string> Names(const std::vector<VocabEntry>& entries) {
  std::vector<std::string> names;
  for (const VocabEntry& e : entries) names.push_back(e.display_name);
  return names;
}

// The MIDs whose index differs between two numberings of the same classes.
std::set<std::string> RenumberedMids(const std::vector<VocabEntry>& a,
                                     const std::vector<VocabEntry>& b) {
  const Vocabulary va{std::vector<VocabEntry>(a)}, vb{std::vector<VocabEntry>(b)};
  std::set<std::string> differ;
  for (const VocabEntry& e : a) {
    if (va.Find(e.mid) != vb.Find(e.mid)) differ.insert(e.mid);
  }
  return differ;
}

TEST(ReadClassDescriptions, ReadsQuotedNamesCrlfAndBom) {
  testing::TempDir dir;
  const std::string path = dir.Sub("class-descriptions.csv");
  WriteFile(path,
            "\xEF\xBB\xBF/m/011k07,Tortoise\r\n"
            "/m/09f20,\"Hat, sun\"\r\n"
            "\r\n"
            "/m/0cmf2,\"The \"\"Best\"\" Airplane\"\r\n"
            "/m/0empty,\r\n"
            "/m/0last,No newline");
  std::vector<VocabEntry> entries;
  std::vector<uint64_t> lines;
  ASSERT_OK(ReadClassDescriptions(path, &entries, &lines));
  EXPECT_EQ((std::vector<std::string>{"/m/011k07", "/m/09f20", "/m/0cmf2", "/m/0empty",
                                      "/m/0last"}),
            Mids(entries));
  EXPECT_EQ((std::vector<std::string>{"Tortoise", "Hat, sun", "The \"Best\" Airplane", "",
                                      "No newline"}),
            Names(entries));
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 4, 5, 6}), lines);
}

TEST(ReadClassDescriptions, RejectsMalformedFiles) {
  testing::TempDir dir;
  const std::string path = dir.Sub("class-descriptions.csv");
  std::vector<VocabEntry> entries;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/m/01,A\n/m/02,B\n/m/01,C\n", ":3: duplicate MID /m/01 (also on line 1)"},
      {"/m/01,A\n/m/02,B,extra\n", ":2: expected 2 columns (MID,DisplayName), got 3"},
      {"/m/01\n", ":1: expected 2 columns (MID,DisplayName), got 1"},
      {"/m/01,A\n,B\n", ":2: empty MID"},
      {"/m/01,\"A\n/m/02,B\n", ":1: unterminated quoted field"},
  };
  for (const auto& [content, error] : cases) {
    WriteFile(path, content);
    const Status s = ReadClassDescriptions(path, &entries);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(path + error, s.message());
  }
  EXPECT_TRUE(ReadClassDescriptions(dir.Sub("missing.csv"), &entries).IsIOError());
}

TEST(ReadMidList, StripsLinesAndSkipsBlankOnesLikeTfds) {
  testing::TempDir dir;
  const std::string path = dir.Sub("classes-trainable.txt");
  WriteFile(path, "\xEF\xBB\xBF/m/01\r\n  /m/02 \n\n/m/03\r\n\n\n");
  std::vector<std::string> mids;
  std::vector<uint64_t> lines;
  ASSERT_OK(ReadMidList(path, &mids, &lines));
  EXPECT_EQ((std::vector<std::string>{"/m/01", "/m/02", "/m/03"}), mids);
  EXPECT_EQ((std::vector<uint64_t>{1, 2, 4}), lines);

  WriteFile(path, "/m/01\n/m/02");  // no final newline
  ASSERT_OK(ReadMidList(path, &mids));
  EXPECT_EQ((std::vector<std::string>{"/m/01", "/m/02"}), mids);

  WriteFile(path, "");
  ASSERT_OK(ReadMidList(path, &mids));
  EXPECT_TRUE(mids.empty());
}

TEST(ReadMidList, RejectsDuplicatesAndMissingFiles) {
  testing::TempDir dir;
  const std::string path = dir.Sub("classes-trainable.txt");
  WriteFile(path, "/m/01\n/m/02\n\n/m/01\r\n");
  std::vector<std::string> mids;
  Status s = ReadMidList(path, &mids);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(path + ":4: duplicate MID /m/01 (also on line 1)", s.message());
  s = ReadMidList(dir.Sub("missing.txt"), &mids);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.message().find(dir.Sub("missing.txt")));
  EXPECT_TRUE(ReadMidList(dir.path(), &mids).IsIOError());
}

// A small download and TFDS lists that number the same classes differently:
// in the boxable list only /m/09f20 and /m/09f_2 trade places, as in the real
// files; `all` and `trainable` are in other orders altogether.
class LoadVocabulariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(all_path_,
              "/m/01,Tortoise\n"
              "/m/09f20,\"Hat, sun\"\n"
              "/m/09f_2,\"The \"\"Best\"\" Cup\"\n"
              "/m/03,Container\n"
              "/m/04,Cat\n"
              "/m/05,Dog\n");
    WriteFile(boxable_path_,
              "/m/04,Cat (boxable)\n"
              "/m/09f20,\"Hat, sun\"\n"
              "/m/09f_2,\"The \"\"Best\"\" Cup\"\n"
              "/m/05,Dog\n");
    WriteFile(trainable_path_, "/m/05\n/m/01\n/m/09f_2\n");
    std::filesystem::create_directory(tfds_dir_);
    WriteFile(tfds_dir_ + "/open_images_classes_all.txt",
              "/m/05\n/m/04\n/m/09f_2\n/m/09f20\n/m/03\n/m/01\n");
    WriteFile(tfds_dir_ + "/open_images_classes_boxable.txt",
              "/m/04\n/m/09f_2\n/m/09f20\n/m/05\n");
    WriteFile(tfds_dir_ + "/open_images_classes_trainable.txt", "/m/01\n/m/09f_2\n/m/05\n");
  }

  Status Load(const std::string& tfds_dir, Vocabularies* v) {
    return LoadVocabularies(all_path_, boxable_path_, trainable_path_, tfds_dir, v);
  }

  testing::TempDir dir_;
  const std::string all_path_ = dir_.Sub("class-descriptions.csv");
  const std::string boxable_path_ = dir_.Sub("class-descriptions-boxable.csv");
  const std::string trainable_path_ = dir_.Sub("classes-trainable.txt");
  const std::string tfds_dir_ = dir_.Sub("tfds");
};

void ExpectSourceList(const Vocabularies& v) {
  ASSERT_EQ(kSourceNames.size(), v.source.size());
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    EXPECT_EQ(kSourceNames[i], v.source[i].mid);
    EXPECT_EQ("", v.source[i].display_name);
  }
}

TEST_F(LoadVocabulariesTest, DownloadOrder) {
  Vocabularies v;
  ASSERT_OK(Load("", &v));
  EXPECT_EQ(LabelOrder::kDownload, v.order);
  EXPECT_EQ((std::vector<std::string>{"/m/01", "/m/09f20", "/m/09f_2", "/m/03", "/m/04", "/m/05"}),
            Mids(v.all));
  EXPECT_EQ((std::vector<std::string>{"Tortoise", "Hat, sun", "The \"Best\" Cup", "Container",
                                      "Cat", "Dog"}),
            Names(v.all));
  EXPECT_EQ((std::vector<std::string>{"/m/04", "/m/09f20", "/m/09f_2", "/m/05"}),
            Mids(v.boxable));
  EXPECT_EQ("Cat (boxable)", v.boxable[0].display_name);
  EXPECT_EQ((std::vector<std::string>{"/m/05", "/m/01", "/m/09f_2"}), Mids(v.trainable));
  EXPECT_EQ((std::vector<std::string>{"Dog", "Tortoise", "The \"Best\" Cup"}),
            Names(v.trainable));
  ExpectSourceList(v);
}

TEST_F(LoadVocabulariesTest, TfdsOrder) {
  Vocabularies download, tfds;
  ASSERT_OK(Load("", &download));
  ASSERT_OK(Load(tfds_dir_, &tfds));
  EXPECT_EQ(LabelOrder::kTfds, tfds.order);
  EXPECT_EQ((std::vector<std::string>{"/m/05", "/m/04", "/m/09f_2", "/m/09f20", "/m/03", "/m/01"}),
            Mids(tfds.all));
  EXPECT_EQ((std::vector<std::string>{"Dog", "Cat", "The \"Best\" Cup", "Hat, sun", "Container",
                                      "Tortoise"}),
            Names(tfds.all));
  EXPECT_EQ((std::vector<std::string>{"/m/04", "/m/09f_2", "/m/09f20", "/m/05"}),
            Mids(tfds.boxable));
  EXPECT_EQ((std::vector<std::string>{"Cat (boxable)", "The \"Best\" Cup", "Hat, sun", "Dog"}),
            Names(tfds.boxable));
  EXPECT_EQ((std::vector<std::string>{"/m/01", "/m/09f_2", "/m/05"}), Mids(tfds.trainable));
  EXPECT_EQ((std::vector<std::string>{"Tortoise", "The \"Best\" Cup", "Dog"}),
            Names(tfds.trainable));
  ExpectSourceList(tfds);
  // Boxable ids differ exactly for the swapped pair.
  EXPECT_EQ((std::set<std::string>{"/m/09f20", "/m/09f_2"}),
            RenumberedMids(download.boxable, tfds.boxable));
}

TEST_F(LoadVocabulariesTest, TfdsListsMustHoldTheDownloadsMids) {
  Vocabularies v;
  const std::string tfds_boxable = tfds_dir_ + "/open_images_classes_boxable.txt";
  WriteFile(tfds_boxable, "/m/04\n/m/09f_2\n/m/09f20\n/m/05\n/m/99\n");
  Status s = Load(tfds_dir_, &v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(tfds_boxable + ":5: MID /m/99 not in " + boxable_path_, s.message());

  WriteFile(tfds_boxable, "/m/04\n/m/09f_2\n/m/09f20\n");
  s = Load(tfds_dir_, &v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(boxable_path_ + ":4: MID /m/05 not in " + tfds_boxable, s.message());

  std::filesystem::remove(tfds_boxable);
  s = Load(tfds_dir_, &v);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.message().find(tfds_boxable)) << s.message();

  // The trainable list is checked against classes-trainable.txt.
  WriteFile(tfds_boxable, "/m/04\n/m/09f_2\n/m/09f20\n/m/05\n");
  const std::string tfds_trainable = tfds_dir_ + "/open_images_classes_trainable.txt";
  WriteFile(tfds_trainable, "/m/01\n/m/09f_2\n/m/05\n/m/03\n");
  s = Load(tfds_dir_, &v);
  EXPECT_EQ(tfds_trainable + ":4: MID /m/03 not in " + trainable_path_, s.message());
}

TEST_F(LoadVocabulariesTest, DownloadFilesMustAgree) {
  Vocabularies v;
  WriteFile(trainable_path_, "/m/05\n/m/77\n");
  Status s = Load("", &v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(trainable_path_ + ":2: MID /m/77 not in " + all_path_, s.message());

  WriteFile(trainable_path_, "/m/05\n");
  WriteFile(boxable_path_, "/m/04,Cat\n/m/88,Ghost\n");
  s = Load("", &v);
  EXPECT_EQ(boxable_path_ + ":2: MID /m/88 not in " + all_path_, s.message());

  EXPECT_TRUE(LoadVocabularies(dir_.Sub("none.csv"), boxable_path_, trainable_path_, "", &v)
                  .IsIOError());
}

// The real TFDS lists, with a download derived from them: all in byte order,
// boxable with the /m/09f20 and /m/09f_2 pair swapped, trainable reversed.
TEST(LoadVocabulariesReal, TfdsListsNumberLikeTfds) {
  const std::string tfds_dir = std::string(OIV4KV_SHARED_DIR) + "/data/tfds_vocab";
  if (!std::filesystem::exists(tfds_dir + "/open_images_classes_all.txt")) {
    GTEST_SKIP() << "no TFDS lists at " << tfds_dir;
  }
  std::vector<std::string> all, trainable, boxable;
  ASSERT_OK(ReadMidList(tfds_dir + "/open_images_classes_all.txt", &all));
  ASSERT_OK(ReadMidList(tfds_dir + "/open_images_classes_trainable.txt", &trainable));
  ASSERT_OK(ReadMidList(tfds_dir + "/open_images_classes_boxable.txt", &boxable));
  ASSERT_EQ(19'995u, all.size());
  ASSERT_EQ(7'186u, trainable.size());
  ASSERT_EQ(601u, boxable.size());

  testing::TempDir dir;
  std::vector<std::string> download_all = all;
  std::sort(download_all.begin(), download_all.end());
  std::string text;
  for (size_t i = 0; i < download_all.size(); ++i) {
    // Some names need CSV quoting, as in the real file.
    text += download_all[i] + (i % 50 == 0 ? ",\"Name, \"\"" + download_all[i] + "\"\"\"\n"
                                           : ",Name " + download_all[i] + "\n");
  }
  WriteFile(dir.Sub("class-descriptions.csv"), text);
  std::vector<std::string> download_boxable = boxable;
  const auto a = std::find(download_boxable.begin(), download_boxable.end(), "/m/09f20");
  const auto b = std::find(download_boxable.begin(), download_boxable.end(), "/m/09f_2");
  ASSERT_NE(download_boxable.end(), a);
  ASSERT_NE(download_boxable.end(), b);
  std::iter_swap(a, b);
  text.clear();
  for (const std::string& mid : download_boxable) text += mid + ",Boxable " + mid + "\r\n";
  WriteFile(dir.Sub("class-descriptions-boxable.csv"), text);
  text.clear();
  for (auto it = trainable.rbegin(); it != trainable.rend(); ++it) text += *it + "\n";
  WriteFile(dir.Sub("classes-trainable.txt"), text);

  Vocabularies download, tfds;
  ASSERT_OK(LoadVocabularies(dir.Sub("class-descriptions.csv"),
                             dir.Sub("class-descriptions-boxable.csv"),
                             dir.Sub("classes-trainable.txt"), "", &download));
  ASSERT_OK(LoadVocabularies(dir.Sub("class-descriptions.csv"),
                             dir.Sub("class-descriptions-boxable.csv"),
                             dir.Sub("classes-trainable.txt"), tfds_dir, &tfds));
  EXPECT_EQ(all, Mids(tfds.all));
  EXPECT_EQ(trainable, Mids(tfds.trainable));
  EXPECT_EQ(boxable, Mids(tfds.boxable));
  EXPECT_EQ(download_all, Mids(download.all));
  EXPECT_EQ(download_boxable, Mids(download.boxable));
  EXPECT_EQ(std::vector<std::string>(trainable.rbegin(), trainable.rend()),
            Mids(download.trainable));
  EXPECT_EQ("Name, \"" + download_all[0] + "\"", download.all[0].display_name);
  for (size_t i = 0; i < tfds.all.size(); ++i) {
    const std::string& mid = tfds.all[i].mid;
    const size_t k = static_cast<size_t>(
        std::lower_bound(download_all.begin(), download_all.end(), mid) - download_all.begin());
    ASSERT_EQ(download.all[k].display_name, tfds.all[i].display_name) << mid;
  }
  for (const VocabEntry& e : tfds.boxable) EXPECT_EQ("Boxable " + e.mid, e.display_name);
  EXPECT_EQ((std::set<std::string>{"/m/09f20", "/m/09f_2"}),
            RenumberedMids(download.boxable, tfds.boxable));
}

}  // namespace
}  // namespace oiv4kv
