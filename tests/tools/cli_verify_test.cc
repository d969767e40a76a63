// Runs `oiv4-kv verify` on converted and generated stores: clean stores pass,
// one changed byte in any file of a store fails, and damage is named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

using testing::Oiv4kv;

// A download of `images` images (64 px) converted into `store` in `configs`.
void ConvertedStore(const TempDir& dir, const std::string& store, int images, bool awkward,
                    const std::vector<std::string>& configs) {
  const std::string dl = dir.Sub("download");
  CommandResult r = Oiv4kv("synth " + dl + " --images " + std::to_string(images) +
                               " --max-side 64 --archives tar" + (awkward ? "" : " --no-awkward"),
                           true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  for (const std::string& c : configs) {
    r = Oiv4kv("convert --source " + dl + " --store " + store + " --config " + c +
                   " --label-lists " + dl + "/tfds_lists --on-error skip --threads 2",
               true);
    ASSERT_EQ(0, r.exit_code) << r.out;
  }
}

void DeleteKeys(const std::string& path, Family family, const std::vector<std::string>& keys) {
  OpenDb db;
  ASSERT_OK(OpenRocksDb(path, WriterDbOptions(WriterOptions()),
                        WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
  for (const std::string& k : keys) {
    ASSERT_TRUE(db.db->Delete(rocksdb::WriteOptions(), db.family(family), k).ok());
  }
  ASSERT_TRUE(db.db->Flush(rocksdb::FlushOptions(), db.family(family)).ok());
}

std::string Key(Split split, uint64_t id) { return std::string(KeyView(EncodeKey(split, id))); }

TEST(CliVerify, ConvertedStoreWithAwkwardImagesIsCleanDeep) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  ConvertedStore(dir, store, 60, /*awkward=*/true, {"original"});
  const CommandResult r = Oiv4kv("verify --deep --json " + store);
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_TRUE(j["deep"].get<bool>());
  EXPECT_TRUE(j["problems"].empty());
  EXPECT_EQ(0u, j["problem_count"].get<uint64_t>());
  std::unique_ptr<Store> s;
  ASSERT_OK(Store::Open(store, StoreOptions(), &s));
  uint64_t examples = 0;
  for (Split split : kAllSplits) examples += s->NumExamples(split);
  EXPECT_EQ(examples, j["checked"]["records"].get<uint64_t>());
  EXPECT_EQ(examples, j["checked"]["images"]["original"].get<uint64_t>());
  EXPECT_EQ(examples, j["checked"]["decoded"].get<uint64_t>());
  EXPECT_FALSE(j["checked"]["images"].contains("300k"));
  EXPECT_GE(j["checked"]["files"].get<uint64_t>(), 8u);

  const CommandResult text = Oiv4kv("verify " + store);
  EXPECT_EQ(0, text.exit_code) << text.out;
  EXPECT_NE(std::string::npos, text.out.find("OK: no problems found")) << text.out;
}

// Every file of a store with data in it (table files of every family,
// MANIFEST, write-ahead log, OPTIONS, CURRENT, IDENTITY), each with one byte
// changed in a copy of the store: verify finds it every time. LOG and LOCK
// hold no data (RocksDB's text log and its lock file) and are not checked.
// Table files, MANIFEST and logs carry checksums, so any change is found;
// OPTIONS, CURRENT and IDENTITY are text without one, so the byte is
// inverted (a change of one digit into another in OPTIONS cannot be told
// from a setting).
TEST(CliVerify, EveryChangedByteInAnyFileIsFound) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  ConvertedStore(dir, store, 40, /*awkward=*/false, {"original", "300k"});
  ASSERT_EQ(0, Oiv4kv("verify " + store).exit_code);

  std::map<std::string, std::string> family_of;  // "000022.sst" -> "annotations"
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(store, ReaderDbOptions(StoreOptions()), ReaderFamilies(LayoutTuning()),
                          true, &db));
    std::vector<rocksdb::LiveFileMetaData> live;
    db.db->GetLiveFilesMetaData(&live);
    for (const auto& f : live)
      family_of[fs::path(f.name).filename().string()] = f.column_family_name;
  }
  std::set<std::string> covered;  // families, and the kinds of other files
  const std::string copy = dir.Sub("copy");
  for (const auto& e : fs::directory_iterator(store)) {
    const std::string name = e.path().filename().string();
    if (name == "LOCK" || name.starts_with("LOG")) continue;
    const uint64_t size = e.file_size();
    if (size == 0) continue;  // nothing to change
    const bool checksummed =
        name.ends_with(".sst") || name.ends_with(".log") || name.starts_with("MANIFEST-");
    std::vector<std::pair<uint64_t, uint8_t>> changes = {{size / 2, 0xff}};
    if (checksummed) {
      changes.push_back({size / 3, 0x01});
      changes.push_back({size * 2 / 3, 0x10});
    }
    for (const auto& [offset, mask] : changes) {
      fs::remove_all(copy);
      fs::copy(store, copy);
      {
        std::fstream f(copy + "/" + name, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(offset));
        char c;
        f.get(c);
        f.seekp(static_cast<std::streamoff>(offset));
        f.put(static_cast<char>(c ^ mask));
        ASSERT_TRUE(f.good()) << name;
      }
      const CommandResult r = Oiv4kv("verify --json " + copy);
      ASSERT_EQ(1, r.exit_code) << name << " byte " << offset << " ^ " << int{mask} << ": "
                                << r.out;
      const auto j = nlohmann::json::parse(r.out);
      EXPECT_FALSE(j["ok"].get<bool>());
      ASSERT_FALSE(j["problems"].empty());
    }
    if (family_of.count(name)) {
      covered.insert(family_of[name]);
    } else {
      covered.insert(name.ends_with(".log") ? "wal" : name.substr(0, name.find('-')));
    }
  }
  for (const char* what : {"annotations", "images.original", "images.300k", "vocab", "meta",
                           "MANIFEST", "OPTIONS", "CURRENT", "IDENTITY"}) {
    EXPECT_EQ(1u, covered.count(what)) << what << " not covered";
  }
}

class CliVerifySample : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), SampleSpec(), &sample_));
  }
  TempDir dir_;
  SampleStore sample_;
};

TEST_F(CliVerifySample, MissingImageIsNamed) {
  const uint64_t id = sample_.Ids(Split::kTrain)[5];
  DeleteKeys(sample_.path, Family::kImagesOriginal, {Key(Split::kTrain, id)});
  CommandResult r = Oiv4kv("verify " + sample_.path);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("images.original train/" + ImageIdHex(id) +
                                          ": missing: the example has no image in config original"))
      << r.out;
  EXPECT_NE(std::string::npos, r.out.find("2 problems:")) << r.out;

  r = Oiv4kv("verify --json " + sample_.path);
  EXPECT_EQ(1, r.exit_code);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_FALSE(j["deep"].get<bool>());
  EXPECT_EQ(2u, j["problem_count"].get<uint64_t>());
  EXPECT_EQ("images.original train/" + ImageIdHex(id), j["problems"][0]["where"]);
  EXPECT_EQ(59u, j["checked"]["images"]["original"].get<uint64_t>());
  EXPECT_EQ(60u, j["checked"]["records"].get<uint64_t>());
}

TEST_F(CliVerifySample, LongProblemListsAreCut) {
  std::vector<std::string> keys;
  for (const auto& [key, e] : sample_.examples) keys.push_back(Key(key.first, key.second));
  DeleteKeys(sample_.path, Family::kImagesOriginal, keys);
  CommandResult r = Oiv4kv("verify " + sample_.path);
  EXPECT_EQ(1, r.exit_code);
  // 60 missing images and 3 split counts.
  EXPECT_NE(std::string::npos, r.out.find("63 problems:")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("... and 13 more")) << r.out;
  size_t lines = 0;
  for (size_t at = 0; (at = r.out.find("\n  images.original ", at)) != std::string::npos; ++at)
    ++lines;
  EXPECT_EQ(50u, lines);
  r = Oiv4kv("verify --json " + sample_.path);
  EXPECT_EQ(63u, nlohmann::json::parse(r.out)["problems"].size());
}

// Usage errors exit 2; no store at STORE exits 1, as `info` does.
TEST(CliVerify, UsageErrorsExitTwoNoStoreExitsOne) {
  TempDir dir;
  EXPECT_EQ(2, Oiv4kv("verify").exit_code);
  EXPECT_EQ(0, Oiv4kv("verify --help").exit_code);
  const CommandResult r = Oiv4kv("verify " + dir.Sub("missing"), true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("no oiv4-kv store here")) << r.out;
  EXPECT_EQ(1, Oiv4kv("info " + dir.Sub("missing")).exit_code);
  EXPECT_EQ(1, Oiv4kv("verify " + dir.path()).exit_code);  // a folder, no store
  EXPECT_EQ(1, Oiv4kv("info " + dir.path()).exit_code);
  EXPECT_EQ(2, Oiv4kv("verify " + dir.path() + " --no-such-flag").exit_code);
}

}  // namespace
}  // namespace oiv4kv
