#include "store/convert/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

struct Entry {
  std::string name;
  std::string data;
  int type = AE_IFREG;
};

// Writes `entries` as a tar (gzip-compressed when `gzip`) with libarchive's
// writer, independent of the reader under test.
void WriteTar(const std::string& path, const std::vector<Entry>& entries, bool gzip) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  ASSERT_EQ(ARCHIVE_OK, archive_write_open_filename(a, path.c_str()));
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, "elsewhere.jpg");
    archive_entry_set_size(entry, e.type == AE_IFREG ? e.data.size() : 0);
    ASSERT_EQ(ARCHIVE_OK, archive_write_header(a, entry));
    if (e.type == AE_IFREG) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::vector<ArchiveMember> ReadAll(const std::string& path, uint64_t limit,
                                   std::vector<Status>* statuses) {
  std::unique_ptr<ArchiveReader> reader;
  EXPECT_OK(ArchiveReader::Open(path, limit, &reader));
  std::vector<ArchiveMember> out;
  if (!reader) return out;
  while (true) {
    ArchiveMember m;
    bool eof = false;
    Status s = reader->Next(&m, &eof);
    if (eof) break;
    statuses->push_back(s);
    out.push_back(std::move(m));
    if (!s.ok() && !s.IsInvalidArgument()) break;
  }
  EXPECT_EQ(reader->total_bytes(), std::filesystem::file_size(path));
  return out;
}

const std::vector<Entry> kEntries = {
    {"train_0/0000000000000001.jpg", std::string(3000, 'a')},
    {"train_0/sub/", "", AE_IFDIR},  // tar writes folders with a slash
    {"train_0/link.jpg", "", AE_IFLNK},
    {"train_0/0000000000000002.jpg", std::string("\xff\xd8\0\x01", 4)},
    {"train_0/big.jpg", std::string(5000, 'b')},
};

TEST(ArchiveReader, ReadsTarGzAndTarMembersInOrder) {
  for (bool gzip : {true, false}) {
    TempDir dir;
    const std::string path = dir.Sub(gzip ? "train_0.tar.gz" : "train_0.tar");
    WriteTar(path, kEntries, gzip);
    std::vector<Status> statuses;
    const auto members = ReadAll(path, 4096, &statuses);
    ASSERT_EQ(kEntries.size(), members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      EXPECT_EQ(kEntries[i].name, members[i].name);
      EXPECT_EQ(kEntries[i].type == AE_IFREG, members[i].regular) << members[i].name;
      EXPECT_EQ(kEntries[i].type == AE_IFDIR, members[i].directory) << members[i].name;
    }
    EXPECT_EQ(kEntries[0].data, std::string(members[0].bytes.begin(), members[0].bytes.end()));
    EXPECT_EQ(kEntries[3].data, std::string(members[3].bytes.begin(), members[3].bytes.end()));
    // Over the limit: named, reported, and reading went on past it.
    EXPECT_TRUE(statuses[4].IsInvalidArgument());
    EXPECT_NE(std::string::npos, statuses[4].message().find("train_0/big.jpg"));
    EXPECT_TRUE(members[4].bytes.empty());
  }
}

TEST(ArchiveReader, SkipPassesOverMembersInTarsAndFolders) {
  TempDir dir;
  const std::string tar = dir.Sub("train_0.tar.gz");
  WriteTar(tar, kEntries, true);
  std::filesystem::create_directories(dir.Sub("train_9"));
  for (const char* name : {"9000000000000001.jpg", "9000000000000002.jpg", "9000000000000003.jpg"}) {
    std::ofstream(dir.Sub(std::string("train_9/") + name)) << name;
  }
  struct Case {
    std::string path;
    int skip;
    std::string next_name;
  };
  for (const Case& c : {Case{tar, 3, kEntries[3].name},
                        Case{dir.Sub("train_9"), 2, "train_9/9000000000000003.jpg"}}) {
    std::unique_ptr<ArchiveReader> reader;
    ASSERT_OK(ArchiveReader::Open(c.path, 4096, &reader));
    bool eof = false;
    for (int i = 0; i < c.skip; ++i) {
      ASSERT_OK(reader->Skip(&eof));
      ASSERT_FALSE(eof);
    }
    ArchiveMember m;
    ASSERT_OK(reader->Next(&m, &eof));
    ASSERT_FALSE(eof);
    EXPECT_EQ(c.next_name, m.name) << c.path;
    EXPECT_FALSE(m.bytes.empty());
    while (!eof) ASSERT_TRUE(reader->Skip(&eof).ok());
  }
}

TEST(ArchiveReader, TruncatedArchiveIsCorruptionAfterTheGoodMembers) {
  TempDir dir;
  const std::string path = dir.Sub("test.tar.gz");
  std::vector<Entry> entries;
  for (int i = 0; i < 20; ++i) {
    std::string data(20000, '\0');
    for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>((k * 7919 + i) >> 3);
    entries.push_back({"test/" + std::to_string(i) + ".jpg", data});
  }
  WriteTar(path, entries, true);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  std::vector<Status> statuses;
  const auto members = ReadAll(path, 1 << 20, &statuses);
  ASSERT_FALSE(statuses.empty());
  EXPECT_TRUE(statuses.back().IsCorruption()) << statuses.back().ToString();
  EXPECT_NE(std::string::npos, statuses.back().message().find("test.tar.gz"));
  EXPECT_LT(members.size(), entries.size());
  for (size_t i = 0; i + 1 < statuses.size(); ++i) EXPECT_OK(statuses[i]);
}

TEST(ArchiveReader, GarbageFileIsAnError) {
  TempDir dir;
  const std::string path = dir.Sub("validation.tar.gz");
  std::ofstream(path) << "this is not an archive at all, just some text";
  std::unique_ptr<ArchiveReader> reader;
  Status s = ArchiveReader::Open(path, 1 << 20, &reader);
  if (s.ok()) {
    ArchiveMember m;
    bool eof = false;
    s = reader->Next(&m, &eof);
  }
  EXPECT_FALSE(s.ok());
}

// A 12-byte gzip stream cut inside its header: libarchive fails to open it
// and gives no message (archive_error_string is null), which crashed Open
// (found by tests/fuzz/member_image_id_fuzz). Now an error naming the file.
TEST(ArchiveReader, ArchiveLibarchiveGivesNoReasonForIsAnError) {
  TempDir dir;
  const std::string path = dir.Sub("train_3.tar.gz");
  const unsigned char bytes[] = {0x1f, 0x8b, 0x08, 0x00, 0x03, 0x2b,
                                 0x03, 0x00, 0x00, 0x00, 0x03, 0x00};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  std::unique_ptr<ArchiveReader> reader;
  Status s = ArchiveReader::Open(path, 1 << 20, &reader);
  if (s.ok()) {
    ArchiveMember m;
    bool eof = false;
    s = reader->Next(&m, &eof);
  }
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("train_3.tar.gz")) << s.ToString();
}

TEST(ArchiveReader, ExtractedFolderReadsLikeItsTar) {
  TempDir dir;
  const std::filesystem::path root = dir.Sub("train_7");
  std::filesystem::create_directories(root / "nested");
  std::filesystem::create_directories(root / "7000000000000004.jpg");
  std::ofstream(root / "7000000000000002.jpg") << "two";
  std::ofstream(root / "7000000000000001.jpg") << "one";
  std::ofstream(root / "nested" / "x.jpg") << "x";
  std::filesystem::create_symlink(root / "7000000000000001.jpg", root / "7000000000000003.jpg");
  std::vector<Status> statuses;
  std::unique_ptr<ArchiveReader> reader;
  ASSERT_OK(ArchiveReader::Open(root.string(), 1 << 20, &reader));
  std::vector<std::pair<std::string, bool>> seen;
  std::string first_bytes;
  while (true) {
    ArchiveMember m;
    bool eof = false;
    ASSERT_OK(reader->Next(&m, &eof));
    if (eof) break;
    if (seen.empty()) first_bytes.assign(m.bytes.begin(), m.bytes.end());
    seen.emplace_back(m.name, m.regular);
  }
  const std::vector<std::pair<std::string, bool>> expected = {
      {"train_7/7000000000000001.jpg", true},
      {"train_7/7000000000000002.jpg", true},
      {"train_7/7000000000000003.jpg", false},  // a symlink is not a regular member
      {"train_7/7000000000000004.jpg/", false},  // a folder named like an image
      {"train_7/nested/x.jpg", true}};  // other folders are not members
  EXPECT_EQ(expected, seen);
  EXPECT_EQ("one", first_bytes);
  EXPECT_EQ(7u, reader->total_bytes());
}

}  // namespace
}  // namespace oiv4kv
