// The command line's output under failure: writes that do not reach stdout
// or a file (a full disk, /dev/full) exit 1 naming the error; images that
// cannot be read are named by `dump`; names that are not UTF-8 do not crash
// the JSON writers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::Oiv4kv;
using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

// Runs oiv4-kv with `args`, its stdout sent to `out_file`; returns its exit
// code and its stderr.
CommandResult StdoutTo(const std::string& args, const std::string& out_file) {
  return testing::RunCommand(
      "sh -c '" + std::string(OIV4KV_BINARY) + " " + args + " 2>&1 >" + out_file + "'", false);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class CliOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SampleSpec spec;  // 40/12/8 examples, config original (not JPEGs)
    ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), spec, &sample_));
    ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample_));  // for bench
  }
  const std::string& store() const { return sample_.path; }

  TempDir dir_;
  SampleStore sample_;
};

TEST_F(CliOutputTest, EveryCommandThatWritesStdoutFailsOnAFullDevice) {
  const std::vector<std::string> commands = {
      "dump " + store() + " --split train",
      "dump " + store() + " --split test --limit 1",
      "info " + store(),
      "info --json " + store(),
      "verify " + store(),
      "verify --json " + store(),
      "get " + store() + " --split train --index 0",
      "get " + store() + " --split train --index 0 --json",
      "bench " + store() + " --config 300k --seconds 0.1 --threads 1 --json",
  };
  size_t checked = 0;
  for (const std::string& args : commands) {
    // The same command to a real file works: the failure is the output's.
    const CommandResult ok = StdoutTo(args, dir_.Sub("out.txt"));
    EXPECT_EQ(0, ok.exit_code) << args << ": " << ok.out;
    EXPECT_GT(fs::file_size(dir_.Sub("out.txt")), 0u) << args;
    const CommandResult r = StdoutTo(args, "/dev/full");
    EXPECT_EQ(1, r.exit_code) << args << ": " << r.out;
    const std::string name = args.substr(0, args.find(' '));
    EXPECT_NE(std::string::npos,
              r.out.find("oiv4-kv " + name +
                         ": cannot write the output to standard output: No space left on device"))
        << args << ": " << r.out;
    ++checked;
  }
  EXPECT_EQ(commands.size(), checked);
}

TEST_F(CliOutputTest, ExportAndGetNameAFileThatCannotBeWritten) {
  const std::string out = dir_.Sub("export");
  fs::create_directories(out);
  const uint64_t first = sample_.Ids(Split::kValidation).front();
  const std::string file = out + "/" + ImageIdHex(first) + ".jpg";
  fs::create_symlink("/dev/full", file);
  CommandResult r = Oiv4kv(
      "export " + store() + " --config original --split validation --out " + out, true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find("oiv4-kv export: cannot write " + file + ": No space left on device"))
      << r.out;

  r = Oiv4kv("get " + store() + " --split validation --index 0 --image /dev/full", true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find("oiv4-kv get: cannot write /dev/full: No space left on device"))
      << r.out;
}

// One byte flipped in the images family's table file: `dump` prints every
// example, names each whose image cannot be read on stderr and in its JSON
// line, and exits 1.
TEST_F(CliOutputTest, DumpNamesImagesThatCannotBeRead) {
  std::string table;
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(store(), ReaderDbOptions(StoreOptions()), ReaderFamilies(LayoutTuning()),
                          true, &db));
    std::vector<rocksdb::LiveFileMetaData> live;
    db.db->GetLiveFilesMetaData(&live);
    for (const auto& f : live) {
      if (f.column_family_name == "images.original") {
        ASSERT_TRUE(table.empty()) << "more than one table file of images.original";
        table = store() + "/" + fs::path(f.name).filename().string();
      }
    }
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(table) / 4));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(fs::file_size(table) / 4));
    f.write(&c, 1);
  }
  size_t lines = 0, damaged = 0, intact = 0;
  for (Split split : kAllSplits) {
    const std::vector<uint64_t> ids = sample_.Ids(split);
    const CommandResult out = Oiv4kv("dump " + store() + " --split " + std::string(SplitName(split)),
                                     false);
    const CommandResult err =
        StdoutTo("dump " + store() + " --split " + std::string(SplitName(split)), "/dev/null");
    EXPECT_EQ(out.exit_code, err.exit_code);
    std::set<std::string> named_in_json;
    const std::vector<std::string> json_lines = Lines(out.out);
    ASSERT_EQ(ids.size(), json_lines.size()) << SplitName(split);
    for (size_t i = 0; i < json_lines.size(); ++i) {
      const auto j = nlohmann::json::parse(json_lines[i]);
      ASSERT_EQ(ImageIdHex(ids[i]), j["image_id"]);
      const auto& img = j["image"]["original"];
      if (img.contains("error")) {
        EXPECT_NE(std::string::npos, img["error"].get<std::string>().find("Corruption"))
            << json_lines[i];
        named_in_json.insert(ExampleName(split, ids[i]));
      } else {
        const auto& stored = sample_.images.at({Config::kOriginal, split, ids[i]});
        EXPECT_EQ(stored.bytes.size(), img["bytes"].get<size_t>());
        EXPECT_EQ(stored.meta.width, img["width"].get<uint32_t>());
        ++intact;
      }
      ++lines;
    }
    std::set<std::string> named_on_stderr;
    for (const std::string& line : Lines(err.out)) {
      const std::string prefix = "oiv4-kv dump: example ";
      if (!line.starts_with(prefix)) continue;
      const size_t end = line.find(':', prefix.size());
      named_on_stderr.insert(line.substr(prefix.size(), end - prefix.size()));
      EXPECT_NE(std::string::npos, line.find(": its original image cannot be read: Corruption"))
          << line;
    }
    EXPECT_EQ(named_in_json, named_on_stderr) << err.out;
    EXPECT_EQ(named_in_json.empty() ? 0 : 1, out.exit_code) << err.out;
    damaged += named_in_json.size();
  }
  EXPECT_EQ(60u, lines);
  EXPECT_GE(damaged, 1u);
  EXPECT_EQ(60u, damaged + intact);
}

// Display names that are not UTF-8 (a store may hold whatever bytes a
// download gave) print with U+FFFD in JSON instead of crashing.
TEST_F(CliOutputTest, NamesThatAreNotUtf8PrintAsReplacementCharacters) {
  std::vector<VocabEntry> all = sample_.vocab.all;
  for (VocabEntry& e : all) e.display_name = "\xff\xfe" + e.display_name;
  {
    OpenDb db;
    ASSERT_OK(OpenRocksDb(store(), WriterDbOptions(WriterOptions()),
                          WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
    ASSERT_TRUE(db.db->Put(rocksdb::WriteOptions(), db.family(Family::kVocab),
                           std::string(VocabKindName(VocabKind::kAll)),
                           EncodeVocabulary(VocabKind::kAll, all))
                    .ok());
    ASSERT_TRUE(db.db->Flush(rocksdb::FlushOptions(), db.family(Family::kVocab)).ok());
  }
  const auto& [key, expected] = *sample_.examples.begin();  // train, index 0
  ASSERT_FALSE(expected.objects.label.empty());
  const CommandResult r =
      Oiv4kv("get " + store() + " --split train --index 0 --json", true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(expected.objects.label.size(), j["objects"].size());
  size_t checked = 0;
  for (size_t i = 0; i < expected.objects.label.size(); ++i) {
    EXPECT_EQ("\xef\xbf\xbd\xef\xbf\xbd" + sample_.vocab.all[expected.objects.label[i]].display_name,
              j["objects"][i]["name"].get<std::string>());
    ++checked;
  }
  EXPECT_EQ(expected.objects.label.size(), checked);
  for (const std::string args : {"info --json " + store(), "dump " + store() + " --split train",
                                 "verify --json " + store()}) {
    const CommandResult o = Oiv4kv(args, false);
    EXPECT_EQ(0, o.exit_code) << args;
    EXPECT_FALSE(o.out.empty()) << args;
  }
}

}  // namespace
}  // namespace oiv4kv
