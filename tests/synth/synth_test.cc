// Tests of the synthetic download generator. Everything written is read
// back here by independent means (libarchive, TurboJPEG, a few lines of CSV
// splitting, a small EXIF reader) and checked against the generator's
// record, which other tests use as their expected values.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "store/core/format/keys.h"
#include "store/synth/synth_download.h"
#include "store/synth/synth_image.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// ---- independent readers ----

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Lines of a file that ends in '\n' (checked), without the last empty one.
std::vector<std::string> Lines(const std::string& path) {
  const std::string text = ReadText(path);
  EXPECT_TRUE(!text.empty() && text.back() == '\n') << path;
  std::vector<std::string> lines = SplitOn(text, '\n');
  lines.pop_back();
  return lines;
}

// MID,DisplayName with RFC 4180 quoting of the name.
std::pair<std::string, std::string> ParseDescription(const std::string& line) {
  const size_t comma = line.find(',');
  std::string mid = line.substr(0, comma), rest = line.substr(comma + 1), name;
  if (!rest.empty() && rest[0] == '"') {
    EXPECT_EQ('"', rest.back()) << line;
    for (size_t i = 1; i + 1 < rest.size(); ++i) {
      name += rest[i];
      if (rest[i] == '"') {
        EXPECT_EQ('"', rest[i + 1]) << line;
        ++i;
      }
    }
  } else {
    EXPECT_EQ(std::string::npos, rest.find_first_of(",\"")) << line;
    name = rest;
  }
  return {mid, name};
}

struct Entry {
  std::string name;
  char type = 'f';  // f file, d directory, l symlink
  std::string target;
  std::vector<uint8_t> bytes;
};

std::vector<Entry> ReadArchive(const std::string& path, int* filter = nullptr) {
  std::vector<Entry> entries;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  EXPECT_EQ(ARCHIVE_OK, archive_read_open_filename(a, path.c_str(), 1 << 16))
      << path << ": " << archive_error_string(a);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Entry out;
    out.name = archive_entry_pathname(e);
    const auto type = archive_entry_filetype(e);
    out.type = type == AE_IFDIR ? 'd' : type == AE_IFLNK ? 'l' : 'f';
    if (out.type == 'l') out.target = archive_entry_symlink(e);
    out.bytes.resize(static_cast<size_t>(archive_entry_size(e)));
    if (!out.bytes.empty()) {
      EXPECT_EQ(static_cast<la_ssize_t>(out.bytes.size()),
                archive_read_data(a, out.bytes.data(), out.bytes.size()));
    }
    entries.push_back(std::move(out));
  }
  if (filter != nullptr) *filter = archive_filter_code(a, 0);
  archive_read_free(a);
  return entries;
}

// The entries of an extracted folder, named as in its archive.
std::vector<Entry> ReadFolder(const std::string& parent, const std::string& folder) {
  std::vector<Entry> entries;
  for (const auto& it : fs::directory_iterator(parent + "/" + folder)) {
    Entry out;
    out.name = folder + "/" + it.path().filename().string();
    if (it.is_symlink()) {
      out.type = 'l';
      out.target = fs::read_symlink(it.path()).string();
    } else if (it.is_directory()) {
      out.type = 'd';
    } else {
      const std::string s = ReadText(it.path().string());
      out.bytes.assign(s.begin(), s.end());
    }
    entries.push_back(std::move(out));
  }
  return entries;
}

struct JpegHeader {
  bool ok = false;
  int width = 0, height = 0, subsamp = -1, colorspace = -1;
};

JpegHeader ReadJpegHeader(const std::vector<uint8_t>& b) {
  JpegHeader h;
  tjhandle tj = tjInitDecompress();
  h.ok = tjDecompressHeader3(tj, b.data(), b.size(), &h.width, &h.height, &h.subsamp,
                             &h.colorspace) == 0;
  tjDestroy(tj);
  return h;
}

// Decodes fully (CMYK to CMYK, others to RGB). 0 on success, else
// TurboJPEG's error code (TJERR_WARNING for recoverable damage) + 1.
int Decode(const std::vector<uint8_t>& b, std::string* message = nullptr) {
  const JpegHeader h = ReadJpegHeader(b);
  if (!h.ok || int64_t{h.width} * h.height > (int64_t{1} << 24)) return TJERR_FATAL + 1;
  const int format = h.colorspace == TJCS_CMYK ? TJPF_CMYK : TJPF_RGB;
  std::vector<uint8_t> px(size_t(h.width) * h.height * tjPixelSize[format]);
  tjhandle tj = tjInitDecompress();
  int r = tjDecompress2(tj, b.data(), b.size(), px.data(), h.width, 0, h.height, format, 0);
  if (r != 0) {
    if (message != nullptr) *message = tjGetErrorStr2(tj);
    r = tjGetErrorCode(tj) + 1;
  }
  tjDestroy(tj);
  return r;
}

// The marker bytes of the segments before the first SOS.
std::vector<uint8_t> JpegMarkers(const std::vector<uint8_t>& b) {
  std::vector<uint8_t> markers;
  size_t p = 2;
  while (p + 4 <= b.size() && b[p] == 0xFF) {
    markers.push_back(b[p + 1]);
    if (b[p + 1] == 0xDA) break;
    p += 2 + (size_t{b[p + 2]} << 8 | b[p + 3]);
  }
  return markers;
}

// The EXIF orientation (tag 0x0112 of IFD0), or 0 if there is none.
int ExifOrientation(const std::vector<uint8_t>& b) {
  size_t p = 2;
  while (p + 4 <= b.size() && b[p] == 0xFF && b[p + 1] != 0xDA) {
    const size_t len = size_t{b[p + 2]} << 8 | b[p + 3];
    if (b[p + 1] == 0xE1 && len > 16 && std::memcmp(&b[p + 4], "Exif\0\0", 6) == 0) {
      const uint8_t* t = &b[p + 10];
      const bool be = t[0] == 'M';
      auto u16 = [&](size_t o) { return be ? t[o] << 8 | t[o + 1] : t[o + 1] << 8 | t[o]; };
      auto u32 = [&](size_t o) {
        return be ? uint32_t(u16(o)) << 16 | u16(o + 2) : uint32_t(u16(o + 2)) << 16 | u16(o);
      };
      const uint32_t ifd = u32(4);
      for (int i = 0, n = u16(ifd); i < n; ++i) {
        const size_t e = ifd + 2 + 12 * i;
        if (u16(e) == 0x0112) return u16(e + 8);
      }
    }
    p += 2 + len;
  }
  return 0;
}

// ---- the record's expected data against the CSV text ----

struct Vocab {
  std::map<std::string, int> all, trainable, boxable;
};

Vocab DownloadVocab(const std::string& root) {
  Vocab v;
  for (const std::string& l : Lines(root + "/class-descriptions.csv")) {
    v.all.emplace(ParseDescription(l).first, static_cast<int>(v.all.size()));
  }
  for (const std::string& l : Lines(root + "/class-descriptions-boxable.csv")) {
    v.boxable.emplace(ParseDescription(l).first, static_cast<int>(v.boxable.size()));
  }
  for (const std::string& l : Lines(root + "/classes-trainable.txt")) {
    v.trainable.emplace(l, static_cast<int>(v.trainable.size()));
  }
  return v;
}

Vocab TfdsVocab(const std::string& root) {
  Vocab v;
  auto read = [&](const std::string& name, std::map<std::string, int>* m) {
    for (const std::string& l : Lines(root + "/tfds_lists/open_images_classes_" + name + ".txt")) {
      m->emplace(l, static_cast<int>(m->size()));
    }
  };
  read("all", &v.all);
  read("trainable", &v.trainable);
  read("boxable", &v.boxable);
  return v;
}

int SourceId(const std::string& name) {
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    if (kSourceNames[i] == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "unknown source " << name;
  return -1;
}

uint64_t ParseId(const std::string& hex) {
  EXPECT_EQ(16u, hex.size()) << hex;
  return std::strtoull(hex.c_str(), nullptr, 16);
}

// The features of every image built from the CSV text alone, per docs/SPEC.md.
std::map<uint64_t, ExampleData> ExamplesFromCsv(const std::string& dir, Split split, const Vocab& v,
                                                const std::set<uint64_t>& images,
                                                uint64_t* orphans) {
  std::map<uint64_t, ExampleData> out;
  const std::string prefix = dir + "/" + std::string(SplitName(split)) + "-annotations-";
  for (const char* file : {"human-imagelabels.csv", "machine-imagelabels.csv"}) {
    const auto lines = Lines(prefix + file);
    EXPECT_EQ("ImageID,Source,LabelName,Confidence", lines.at(0));
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto f = SplitOn(lines[i], ',');
      EXPECT_EQ(4u, f.size()) << lines[i];
      const uint64_t id = ParseId(f[0]);
      if (!images.count(id)) {
        ++*orphans;
        continue;
      }
      ExampleData& e = out[id];
      const auto conf =
          static_cast<uint8_t>(static_cast<int>(std::strtod(f[3].c_str(), nullptr) * 10));
      const auto source = static_cast<uint8_t>(SourceId(f[1]));
      e.objects.label.push_back(static_cast<uint16_t>(v.all.at(f[2])));
      e.objects.confidence.push_back(conf);
      e.objects.source.push_back(source);
      if (auto t = v.trainable.find(f[2]); t != v.trainable.end()) {
        e.objects_trainable.label.push_back(static_cast<uint16_t>(t->second));
        e.objects_trainable.confidence.push_back(conf);
        e.objects_trainable.source.push_back(source);
      }
    }
  }
  const auto lines = Lines(prefix + "bbox.csv");
  EXPECT_EQ(
      "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
      "IsGroupOf,IsDepiction,IsInside",
      lines.at(0));
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = SplitOn(lines[i], ',');
    EXPECT_EQ(13u, f.size()) << lines[i];
    const uint64_t id = ParseId(f[0]);
    if (!images.count(id)) {
      ++*orphans;
      continue;
    }
    auto& b = out[id].bobjects;
    b.label.push_back(static_cast<uint16_t>(v.boxable.at(f[2])));
    b.source.push_back(static_cast<uint8_t>(SourceId(f[1])));
    for (int c : {6, 4, 7, 5})
      b.bbox.push_back(static_cast<float>(std::strtod(f[c].c_str(), nullptr)));
    auto flag = [](const std::string& s) { return static_cast<int8_t>(std::stoi(s)); };
    b.is_occluded.push_back(flag(f[8]));
    b.is_truncated.push_back(flag(f[9]));
    b.is_group_of.push_back(flag(f[10]));
    b.is_depiction.push_back(flag(f[11]));
    b.is_inside.push_back(flag(f[12]));
  }
  return out;
}

void ExpectSameLabels(const ExampleData::Labels& a, const ExampleData::Labels& b,
                      const std::string& what) {
  EXPECT_EQ(a.label, b.label) << what;
  EXPECT_EQ(a.confidence, b.confidence) << what;
  EXPECT_EQ(a.source, b.source) << what;
}

void ExpectSameData(const ExampleData& want, const ExampleData& got, const std::string& what) {
  ExpectSameLabels(want.objects, got.objects, what + " objects");
  ExpectSameLabels(want.objects_trainable, got.objects_trainable, what + " objects_trainable");
  const auto& a = want.bobjects;
  const auto& b = got.bobjects;
  EXPECT_EQ(a.label, b.label) << what;
  EXPECT_EQ(a.source, b.source) << what;
  EXPECT_EQ(a.bbox, b.bbox) << what;  // exact: the same text, the same float
  EXPECT_EQ(a.is_occluded, b.is_occluded) << what;
  EXPECT_EQ(a.is_truncated, b.is_truncated) << what;
  EXPECT_EQ(a.is_group_of, b.is_group_of) << what;
  EXPECT_EQ(a.is_depiction, b.is_depiction) << what;
  EXPECT_EQ(a.is_inside, b.is_inside) << what;
}

// Checks both expected maps of `record` against the CSVs under `root`.
void CheckCsvsAgainstRecord(const std::string& root, bool split_subdirs,
                            const SynthRecord& record) {
  const Vocab download = DownloadVocab(root), tfds = TfdsVocab(root);
  for (Split split : kAllSplits) {
    const std::string dir = split_subdirs ? root + "/" + std::string(SplitName(split)) : root;
    std::set<uint64_t> ids;
    for (const SynthImage& img : record.images) {
      if (img.split == split) ids.insert(img.image_id);
    }
    for (const auto* expected : {&record.expected_download, &record.expected_tfds}) {
      const Vocab& v = expected == &record.expected_download ? download : tfds;
      uint64_t orphans = 0;
      const auto got = ExamplesFromCsv(dir, split, v, ids, &orphans);
      EXPECT_EQ(record.orphan_rows[static_cast<int>(split)], orphans);
      size_t n = 0;
      for (const auto& [key, want] : *expected) {
        if (key.first != split) continue;
        ++n;
        EXPECT_TRUE(ids.count(key.second));
        EXPECT_EQ(ImageIdHex(key.second) + ".jpg", want.filename);
        auto it = got.find(key.second);
        ExpectSameData(want, it == got.end() ? ExampleData() : it->second,
                       ExampleName(split, key.second));
      }
      EXPECT_EQ(ids.size(), n);
    }
  }
}

// ---- fixture: one download shared by the read-only tests ----

class SynthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    record_ = new SynthRecord();
    SynthOptions o;
    o.images = 300;
    o.seed = 42;
    o.max_side = 48;
    o.keep_bytes = true;
    // Not ASSERT here: a failure inside SetUpTestSuite makes gtest mark every
    // test SKIPPED, which ctest counts as passing; SetUp fails each test.
    setup_ = WriteSynthDownload(root(), o, record_);
  }
  static void TearDownTestSuite() {
    delete record_;
    record_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(setup_.ok()) << "the suite's set-up failed: " << setup_.ToString();
  }
  static std::string root() { return dir_->Sub("dl"); }
  static const SynthRecord& record() { return *record_; }

  static inline Status setup_;
  static TempDir* dir_;
  static SynthRecord* record_;
};
TempDir* SynthTest::dir_ = nullptr;
SynthRecord* SynthTest::record_ = nullptr;

const std::vector<std::string> kArchiveStems = {
    "train_0", "train_1", "train_2", "train_3", "train_4",    "train_5",
    "train_6", "train_7", "train_8", "train_9", "train_a",    "train_b",
    "train_c", "train_d", "train_e", "train_f", "validation", "test"};

TEST_F(SynthTest, WritesEveryFileOfTheOfficialLayout) {
  for (const char* f :
       {"class-descriptions.csv", "class-descriptions-boxable.csv", "classes-trainable.txt",
        "tfds_lists/open_images_classes_all.txt", "tfds_lists/open_images_classes_trainable.txt",
        "tfds_lists/open_images_classes_boxable.txt"}) {
    EXPECT_TRUE(fs::is_regular_file(root() + "/" + f)) << f;
  }
  for (Split split : kAllSplits) {
    for (const char* kind : {"bbox", "human-imagelabels", "machine-imagelabels"}) {
      const std::string f = std::string(SplitName(split)) + "-annotations-" + kind + ".csv";
      EXPECT_TRUE(fs::is_regular_file(root() + "/" + f)) << f;
    }
  }
  for (const std::string& stem : kArchiveStems) {
    EXPECT_TRUE(fs::is_regular_file(root() + "/" + stem + ".tar.gz")) << stem;
  }
  EXPECT_EQ(270u, record().num_images[0]);
  EXPECT_EQ(15u, record().num_images[1]);
  EXPECT_EQ(15u, record().num_images[2]);
  uint64_t bytes = 0;
  for (const auto& it : fs::recursive_directory_iterator(root())) {
    if (it.is_regular_file()) bytes += it.file_size();
  }
  EXPECT_EQ(bytes, record().bytes_written);
}

TEST_F(SynthTest, ArchivesHoldExactlyTheRecordedMembers) {
  std::map<std::string, const SynthImage*> by_member;
  for (const SynthImage& img : record().images) {
    EXPECT_TRUE(by_member.emplace(img.archive + ":" + img.member, &img).second) << img.member;
  }
  const std::set<std::string> bad(record().bad_members.begin(), record().bad_members.end());
  std::map<Split, std::set<uint64_t>> ids;
  size_t images_seen = 0, bad_seen = 0;
  int filter = -1;
  for (const std::string& stem : kArchiveStems) {
    const std::string archive = stem + ".tar.gz";
    const auto entries = ReadArchive(root() + "/" + archive, &filter);
    EXPECT_EQ(ARCHIVE_FILTER_GZIP, filter);
    ASSERT_FALSE(entries.empty()) << archive;
    EXPECT_EQ('d', entries[0].type);  // as `tar czf` writes it
    EXPECT_EQ(stem + "/", entries[0].name);
    for (const Entry& e : entries) {
      const std::string key = archive + ":" + e.name;
      if (bad.count(key)) {
        ++bad_seen;
        continue;
      }
      auto it = by_member.find(key);
      ASSERT_NE(it, by_member.end()) << key << " is neither an image nor a bad member";
      const SynthImage& img = *it->second;
      ++images_seen;
      EXPECT_EQ('f', e.type);
      EXPECT_EQ(stem + "/" + ImageIdHex(img.image_id) + ".jpg", e.name);
      EXPECT_EQ(img.bytes, e.bytes) << key;
      EXPECT_EQ(img.size, e.bytes.size());
      if (img.split == Split::kTrain) {
        EXPECT_EQ("0123456789abcdef"[img.image_id >> 60], stem.back()) << key;
      } else {
        EXPECT_EQ(SplitName(img.split), stem);
      }
      EXPECT_TRUE(ids[img.split].insert(img.image_id).second) << "duplicate image " << key;
    }
  }
  EXPECT_EQ(record().images.size(), images_seen);
  EXPECT_EQ(record().bad_members.size(), bad_seen);
  for (Split s : kAllSplits) EXPECT_EQ(record().num_images[static_cast<int>(s)], ids[s].size());
  // No id in two splits.
  for (uint64_t id : ids[Split::kValidation]) EXPECT_FALSE(ids[Split::kTrain].count(id));
  for (uint64_t id : ids[Split::kTest]) EXPECT_FALSE(ids[Split::kTrain].count(id));
}

TEST_F(SynthTest, BadMembersCoverEveryRejectionReason) {
  int dirs = 0, links = 0, non_jpg = 0, duplicates = 0;
  std::set<std::string> image_members;
  for (const SynthImage& img : record().images) {
    image_members.insert(img.member.substr(img.member.find('/') + 1));
  }
  for (const std::string& b : record().bad_members) {
    const std::string archive = b.substr(0, b.find(':')), member = b.substr(b.find(':') + 1);
    for (const Entry& e : ReadArchive(root() + "/" + archive)) {
      if (e.name != member) continue;
      if (e.type == 'd') {
        ++dirs;
      } else if (e.type == 'l') {
        ++links;
        EXPECT_TRUE(image_members.count(e.target)) << "symlink to an image: " << e.target;
      } else if (member.size() < 4 || member.substr(member.size() - 4) != ".jpg") {
        ++non_jpg;
      } else {
        // Same base name as an image in another archive of train.
        ++duplicates;
        EXPECT_TRUE(image_members.count(member.substr(member.find('/') + 1))) << member;
        EXPECT_TRUE(ReadJpegHeader(e.bytes).ok);
      }
    }
  }
  EXPECT_EQ(18 + 1, dirs);  // one per archive, plus one named like a .jpg
  EXPECT_EQ(1, links);
  EXPECT_EQ(1, non_jpg);
  EXPECT_EQ(1, duplicates);
}

TEST_F(SynthTest, NormalImagesDecodeToTheirRecordedSize) {
  tjhandle tj = tjInitDecompress();
  int checked = 0, at_max_side = 0;
  std::set<std::pair<uint32_t, uint32_t>> shapes;
  for (const SynthImage& img : record().images) {
    if (img.kind != SynthKind::kNormal) continue;
    const JpegHeader h = ReadJpegHeader(img.bytes);
    ASSERT_TRUE(h.ok) << img.member;
    EXPECT_EQ(static_cast<int>(img.width), h.width);
    EXPECT_EQ(static_cast<int>(img.height), h.height);
    EXPECT_EQ(TJSAMP_420, h.subsamp);
    EXPECT_LE(std::max(img.width, img.height), 48u);
    EXPECT_GE(img.quality, 85);
    EXPECT_LE(img.quality, 97);
    at_max_side += std::max(img.width, img.height) == 48;
    shapes.insert({img.width, img.height});
    std::vector<uint8_t> px(size_t(h.width) * h.height * 3);
    EXPECT_EQ(0, tjDecompress2(tj, img.bytes.data(), img.bytes.size(), px.data(), h.width, 0,
                               h.height, TJPF_RGB, 0))
        << tjGetErrorStr2(tj);
    // Natural content, not a flat colour.
    const auto [lo, hi] = std::minmax_element(px.begin(), px.end());
    EXPECT_GT(*hi - *lo, 30) << img.member;
    ++checked;
  }
  tjDestroy(tj);
  EXPECT_GT(checked, 250);
  EXPECT_GT(at_max_side, checked * 7 / 10);
  EXPECT_GT(shapes.size(), 5u) << "varied aspect ratios";
}

TEST_F(SynthTest, AwkwardKindsHaveTheirProperties) {
  std::map<SynthKind, int> seen;
  for (const SynthImage& img : record().images) {
    ++seen[img.kind];
    const JpegHeader h = ReadJpegHeader(img.bytes);
    const std::vector<uint8_t>& b = img.bytes;
    const std::string what = std::string(SynthKindName(img.kind)) + " " + img.member;
    std::string error;
    const int decoded = Decode(b, &error);
    switch (img.kind) {
      case SynthKind::kNormal:
        EXPECT_TRUE(h.ok) << what;
        break;
      case SynthKind::kGray:
        EXPECT_TRUE(h.ok && h.colorspace == TJCS_GRAY) << what;
        break;
      case SynthKind::kCmyk: {
        EXPECT_TRUE(h.ok && h.colorspace == TJCS_CMYK) << what;
        const auto m = JpegMarkers(b);
        EXPECT_NE(m.end(), std::find(m.begin(), m.end(), 0xEE)) << "Adobe APP14 " << what;
        break;
      }
      case SynthKind::kProgressive: {
        const auto m = JpegMarkers(b);
        EXPECT_NE(m.end(), std::find(m.begin(), m.end(), 0xC2)) << what;
        EXPECT_EQ(m.end(), std::find(m.begin(), m.end(), 0xC0)) << what;
        break;
      }
      case SynthKind::kExifRotated:
        EXPECT_TRUE(h.ok) << what;
        EXPECT_GE(img.exif_orientation, 2);
        EXPECT_LE(img.exif_orientation, 8);
        EXPECT_EQ(img.exif_orientation, ExifOrientation(b)) << what;
        break;
      case SynthKind::kChroma444:
        EXPECT_TRUE(h.ok && h.subsamp == TJSAMP_444) << what;
        break;
      case SynthKind::kTruncated: {
        EXPECT_TRUE(h.ok) << what;
        EXPECT_FALSE(b[b.size() - 2] == 0xFF && b[b.size() - 1] == 0xD9) << what;
        EXPECT_EQ(TJERR_WARNING + 1, decoded) << "recoverable damage: " << what << " " << error;
        break;
      }
      case SynthKind::kPngNamedJpg: {
        ASSERT_GE(b.size(), 24u);
        EXPECT_EQ(0, std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8)) << what;
        const uint32_t w = b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
        const uint32_t hh = b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
        EXPECT_EQ(img.width, w);
        EXPECT_EQ(img.height, hh);
        break;
      }
      case SynthKind::kNotAnImage:
        EXPECT_FALSE(h.ok) << what;
        EXPECT_EQ(0u, img.width);
        break;
      case SynthKind::kHugeHeader:
        EXPECT_TRUE(h.ok && h.width == 60000 && h.height == 60000) << what;
        break;
    }
    if (img.kind != SynthKind::kPngNamedJpg && img.kind != SynthKind::kNotAnImage &&
        img.kind != SynthKind::kHugeHeader) {
      EXPECT_EQ(static_cast<int>(img.width), h.width) << what;
      EXPECT_EQ(static_cast<int>(img.height), h.height) << what;
      if (img.kind != SynthKind::kTruncated) {
        EXPECT_EQ(0, decoded) << what << ": " << error;
      }
    }
    if (img.kind != SynthKind::kExifRotated) {
      const int o = ExifOrientation(b);
      EXPECT_TRUE(o == 0 || o == 1) << what;
      EXPECT_EQ(1, img.exif_orientation);
    }
  }
  for (int k = 0; k < kNumSynthKinds; ++k) {
    const auto kind = static_cast<SynthKind>(k);
    EXPECT_GE(seen[kind], 1) << SynthKindName(kind);
    EXPECT_EQ(record().num_kind[k], static_cast<uint64_t>(seen[kind]));
  }
}

TEST_F(SynthTest, CsvRowsMatchTheRecordInFileOrder) {
  CheckCsvsAgainstRecord(root(), false, record());
  for (uint64_t n : record().orphan_rows) EXPECT_GT(n, 0u);
}

TEST_F(SynthTest, CsvValuesAreWellFormed) {
  for (Split split : kAllSplits) {
    const std::string prefix = root() + "/" + std::string(SplitName(split)) + "-annotations-";
    std::string last;
    for (const std::string& l : Lines(prefix + "human-imagelabels.csv")) {
      const auto f = SplitOn(l, ',');
      if (f[0] == "ImageID") continue;
      EXPECT_TRUE(f[1] == "verification" || f[1] == "crowdsource-verification") << l;
      EXPECT_TRUE(f[3] == "0" || f[3] == "1") << l;
      EXPECT_LE(last, f[0]) << "sorted by ImageID";
      last = f[0];
    }
    std::set<size_t> decimals;
    for (const std::string& l : Lines(prefix + "machine-imagelabels.csv")) {
      const auto f = SplitOn(l, ',');
      if (f[0] == "ImageID") continue;
      EXPECT_EQ("machine", f[1]);
      const double c = std::strtod(f[3].c_str(), nullptr);
      EXPECT_TRUE(c > 0 && c <= 1) << l;
      const size_t dot = f[3].find('.');
      decimals.insert(dot == std::string::npos ? 0 : f[3].size() - dot - 1);
      if (dot != std::string::npos) {
        EXPECT_NE('0', f[3].back()) << "shortest form: " << l;
      }
    }
    if (split == Split::kTrain) {
      EXPECT_EQ((std::set<size_t>{0, 1, 2, 3, 4}), decimals);
    }
    for (const std::string& l : Lines(prefix + "bbox.csv")) {
      const auto f = SplitOn(l, ',');
      if (f[0] == "ImageID") continue;
      EXPECT_TRUE(f[1] == "xclick" || f[1] == "activemil") << l;
      EXPECT_EQ("1", f[3]);
      const double x0 = std::strtod(f[4].c_str(), nullptr), x1 = std::strtod(f[5].c_str(), nullptr);
      const double y0 = std::strtod(f[6].c_str(), nullptr), y1 = std::strtod(f[7].c_str(), nullptr);
      EXPECT_TRUE(0 <= x0 && x0 <= x1 && x1 <= 1 && 0 <= y0 && y0 <= y1 && y1 <= 1) << l;
      for (int c = 8; c < 13; ++c) EXPECT_TRUE(f[c] == "-1" || f[c] == "0" || f[c] == "1") << l;
    }
  }
}

TEST_F(SynthTest, StatisticsFollowTheRealTrainSplit) {
  const std::string prefix = root() + "/train-annotations-";
  std::set<uint64_t> train;
  for (const SynthImage& img : record().images) {
    if (img.split == Split::kTrain) train.insert(img.image_id);
  }
  auto per_image = [&](const std::string& file) {
    std::map<uint64_t, int> n;
    for (const std::string& l : Lines(prefix + file)) {
      if (l.rfind("ImageID", 0) == 0) continue;
      const uint64_t id = ParseId(l.substr(0, 16));
      if (train.count(id)) ++n[id];
    }
    return n;
  };
  const auto boxes = per_image("bbox.csv"), human = per_image("human-imagelabels.csv"),
             machine = per_image("machine-imagelabels.csv");
  auto mean = [&](const std::map<uint64_t, int>& n) {
    double sum = 0;
    for (const auto& [id, k] : n) sum += k;
    return sum / static_cast<double>(train.size());
  };
  EXPECT_NEAR(8.4, mean(boxes), 1.5);
  EXPECT_NEAR(16.0, mean(human), 2.5);
  EXPECT_NEAR(45.0, mean(machine), 6.0);
  int without_rows = 0;
  for (uint64_t id : train) {
    without_rows += !boxes.count(id) && !human.count(id) && !machine.count(id);
  }
  EXPECT_GE(without_rows, 1);
  EXPECT_LE(without_rows, 10);
}

TEST_F(SynthTest, ClassListsHaveTheRealSizesAndOrders) {
  const auto all = Lines(root() + "/class-descriptions.csv");
  const auto boxable = Lines(root() + "/class-descriptions-boxable.csv");
  const auto trainable = Lines(root() + "/classes-trainable.txt");
  const auto t_all = Lines(root() + "/tfds_lists/open_images_classes_all.txt");
  const auto t_boxable = Lines(root() + "/tfds_lists/open_images_classes_boxable.txt");
  const auto t_trainable = Lines(root() + "/tfds_lists/open_images_classes_trainable.txt");
  EXPECT_EQ(19'995u, all.size());
  EXPECT_EQ(601u, boxable.size());
  EXPECT_EQ(7'186u, trainable.size());

  std::vector<std::string> mids_all, mids_boxable;
  int quoted = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto [mid, name] = ParseDescription(all[i]);
    EXPECT_EQ(record().vocab.download_all[i].mid, mid);
    EXPECT_EQ(record().vocab.download_all[i].display_name, name);
    quoted += all[i].find('"') != std::string::npos;
    mids_all.push_back(mid);
  }
  EXPECT_GT(quoted, 20) << "names with commas and quotes exercise CSV quoting";
  for (const std::string& l : boxable) mids_boxable.push_back(ParseDescription(l).first);
  EXPECT_EQ(t_all, mids_all);  // the all list has one order

  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(mids_boxable), sorted(t_boxable));
  EXPECT_EQ(sorted(trainable), sorted(t_trainable));
  EXPECT_EQ(std::set<std::string>(mids_all.begin(), mids_all.end()).size(), mids_all.size());

  // Boxable: TFDS has /m/09f_2 right before /m/09f20, the download the other way round.
  std::vector<size_t> differ;
  for (size_t i = 0; i < boxable.size(); ++i) {
    if (mids_boxable[i] != t_boxable[i]) differ.push_back(i);
  }
  ASSERT_EQ(2u, differ.size());
  EXPECT_EQ("/m/09f_2", t_boxable[differ[0]]);
  EXPECT_EQ("/m/09f20", t_boxable[differ[1]]);
  EXPECT_EQ("/m/09f20", mids_boxable[differ[0]]);
  // Trainable: another order for many classes.
  size_t moved = 0;
  for (size_t i = 0; i < trainable.size(); ++i) moved += trainable[i] != t_trainable[i];
  EXPECT_GT(moved, 100u);

  // Labels numbered by the two sets of lists differ for some boxes.
  size_t box_labels_differ = 0;
  for (const auto& [key, e] : record().expected_download) {
    const auto& t = record().expected_tfds.at(key);
    EXPECT_EQ(e.objects.label, t.objects.label);
    box_labels_differ += e.bobjects.label != t.bobjects.label;
    box_labels_differ += e.objects_trainable.label != t.objects_trainable.label;
  }
  EXPECT_GT(box_labels_differ, 0u);
}

TEST(SynthImage, EveryKindDecodesInAnyOrderFromOneEncoder) {
  // One encoder serves all kinds in random order in the generator; a
  // TurboJPEG handle that compressed a progressive image once corrupted the
  // baseline images after it.
  synth::ImageEncoder encoder;
  const SynthKind order[] = {
      SynthKind::kProgressive, SynthKind::kNormal,    SynthKind::kGray,
      SynthKind::kProgressive, SynthKind::kChroma444, SynthKind::kCmyk,
      SynthKind::kExifRotated, SynthKind::kNormal,    SynthKind::kProgressive};
  uint64_t seed = 1;
  for (SynthKind kind : order) {
    synth::ImageSpec spec;
    spec.kind = kind;
    spec.width = 40;
    spec.height = 24;
    spec.seed = seed++;
    spec.exif_orientation = kind == SynthKind::kExifRotated ? 6 : 1;
    std::vector<uint8_t> bytes;
    ASSERT_OK(encoder.Encode(spec, &bytes));
    std::string error;
    EXPECT_EQ(0, Decode(bytes, &error)) << SynthKindName(kind) << ": " << error;
    const JpegHeader h = ReadJpegHeader(bytes);
    EXPECT_EQ(40, h.width);
    EXPECT_EQ(24, h.height);
  }
}

TEST(SynthImage, CmykIsAdobeInvertedAndDecodesToThePaintedColours) {
  synth::ImageEncoder encoder;
  synth::ImageSpec spec;
  spec.kind = SynthKind::kCmyk;
  spec.width = 64;
  spec.height = 40;
  spec.quality = 95;
  spec.seed = 77;
  std::vector<uint8_t> bytes, rgb;
  ASSERT_OK(encoder.Encode(spec, &bytes));
  synth::PaintNatural(64, 40, 77, &rgb);
  std::vector<uint8_t> cmyk(64 * 40 * 4);
  tjhandle tj = tjInitDecompress();
  ASSERT_EQ(0, tjDecompress2(tj, bytes.data(), bytes.size(), cmyk.data(), 64, 0, 40, TJPF_CMYK, 0));
  tjDestroy(tj);
  // Inverted CMYK as Photoshop writes it: R = C' * K' / 255 (what OpenCV
  // and libjpeg-based readers compute for an Adobe CMYK file).
  double error = 0;
  for (size_t i = 0; i < 64 * 40; ++i) {
    const int k = cmyk[i * 4 + 3];
    for (int c = 0; c < 3; ++c) error += std::abs(cmyk[i * 4 + c] * k / 255 - rgb[i * 3 + c]);
  }
  EXPECT_LT(error / (64 * 40 * 3), 6.0);
}

// ---- other layouts and options ----

SynthOptions Small(uint64_t seed) {
  SynthOptions o;
  o.images = 40;
  o.seed = seed;
  o.max_side = 32;
  return o;
}

std::map<std::string, std::string> TreeContents(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& it : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(it.path(), root).string();
    if (it.is_symlink()) {
      files[rel] = "-> " + fs::read_symlink(it.path()).string();
    } else if (it.is_regular_file()) {
      files[rel] = ReadText(it.path().string());
    } else {
      files[rel] = "<dir>";
    }
  }
  return files;
}

TEST(Synth, SameSeedGivesByteIdenticalFilesWhateverTheThreads) {
  TempDir dir;
  SynthOptions one = Small(7), two = Small(7), other = Small(8);
  one.threads = 1;
  two.threads = 2;
  SynthRecord r1, r2, r3;
  ASSERT_OK(WriteSynthDownload(dir.Sub("a"), one, &r1));
  ASSERT_OK(WriteSynthDownload(dir.Sub("b"), two, &r2));
  ASSERT_OK(WriteSynthDownload(dir.Sub("c"), other, &r3));
  const auto a = TreeContents(dir.Sub("a")), b = TreeContents(dir.Sub("b"));
  EXPECT_EQ(a.size(), b.size());
  for (const auto& [name, content] : a) {
    auto it = b.find(name);
    ASSERT_NE(it, b.end()) << name;
    EXPECT_TRUE(content == it->second) << name << " differs";
  }
  const auto c = TreeContents(dir.Sub("c"));
  EXPECT_NE(a.at("train-annotations-bbox.csv"), c.at("train-annotations-bbox.csv"));
  EXPECT_NE(a.at("test.tar.gz"), c.at("test.tar.gz"));
}

TEST(Synth, SplitSubdirsWithFoldersAndShuffledRows) {
  TempDir dir;
  SynthOptions o = Small(3);
  o.images = 80;
  o.split_subdirs = true;
  o.archives = SynthOptions::Archives::kDirectories;
  o.sorted_csv = false;
  o.keep_bytes = true;
  SynthRecord r;
  ASSERT_OK(WriteSynthDownload(dir.Sub("dl"), o, &r));
  const std::string root = dir.Sub("dl");
  EXPECT_TRUE(fs::is_regular_file(root + "/class-descriptions.csv"));
  EXPECT_FALSE(fs::exists(root + "/train-annotations-bbox.csv"));
  for (Split split : kAllSplits) {
    const std::string name(SplitName(split));
    EXPECT_TRUE(fs::is_regular_file(root + "/" + name + "/" + name + "-annotations-bbox.csv"));
  }
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_TRUE(fs::is_directory(root + "/train/" + kArchiveStems[i])) << kArchiveStems[i];
  }
  EXPECT_TRUE(fs::is_directory(root + "/validation/validation"));
  EXPECT_TRUE(fs::is_directory(root + "/test/test"));

  // Every folder holds exactly its images and bad members.
  std::set<std::string> expected, seen;
  for (const SynthImage& img : r.images) {
    EXPECT_EQ(std::string(SplitName(img.split)) + "/" + img.member.substr(0, img.member.find('/')),
              img.archive);
    expected.insert(img.archive + ":" + img.member);
    const std::string path = root + "/" + SplitName(img.split).data() + "/" + img.member;
    const std::string bytes = ReadText(path);
    EXPECT_EQ(std::string(img.bytes.begin(), img.bytes.end()), bytes) << path;
  }
  for (const std::string& b : r.bad_members) expected.insert(b);
  int links = 0;
  for (Split split : kAllSplits) {
    const std::string name(SplitName(split));
    for (const auto& it : fs::directory_iterator(root + "/" + name)) {
      if (!it.is_directory() || it.is_symlink()) continue;
      const std::string folder = it.path().filename().string();
      for (const Entry& e : ReadFolder(root + "/" + name, folder)) {
        seen.insert(name + "/" + folder + ":" + e.name);
        links += e.type == 'l';
      }
    }
  }
  EXPECT_EQ(expected, seen);
  EXPECT_EQ(1, links);

  // Shuffled rows: not in ImageID order, and still what the record says.
  const auto lines = Lines(root + "/train/train-annotations-machine-imagelabels.csv");
  EXPECT_FALSE(std::is_sorted(lines.begin() + 1, lines.end()));
  CheckCsvsAgainstRecord(root, true, r);
}

TEST(Synth, SortedAndShuffledHoldTheSameRows) {
  TempDir dir;
  SynthOptions sorted = Small(11), shuffled = Small(11);
  shuffled.sorted_csv = false;
  SynthRecord a, b;
  ASSERT_OK(WriteSynthDownload(dir.Sub("a"), sorted, &a));
  ASSERT_OK(WriteSynthDownload(dir.Sub("b"), shuffled, &b));
  for (const char* f :
       {"train-annotations-bbox.csv", "validation-annotations-human-imagelabels.csv",
        "test-annotations-machine-imagelabels.csv"}) {
    auto la = Lines(dir.Sub("a") + "/" + f), lb = Lines(dir.Sub("b") + "/" + f);
    EXPECT_NE(la, lb) << f;
    std::sort(la.begin(), la.end());
    std::sort(lb.begin(), lb.end());
    EXPECT_EQ(la, lb) << f;
  }
  EXPECT_EQ(a.orphan_rows, b.orphan_rows);
  ASSERT_EQ(a.expected_tfds.size(), b.expected_tfds.size());
  // Same rows per image; only their order within an image may differ.
  for (const auto& [key, e] : a.expected_tfds) {
    const ExampleData& f = b.expected_tfds.at(key);
    auto sorted_labels = [](std::vector<uint16_t> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(sorted_labels(e.objects.label), sorted_labels(f.objects.label));
    EXPECT_EQ(sorted_labels(e.bobjects.label), sorted_labels(f.bobjects.label));
  }
}

TEST(Synth, PlainTarAndEmptyArchives) {
  TempDir dir;
  SynthOptions o = Small(5);
  o.images = 12;  // 10 train images: some train_X archives stay empty
  o.archives = SynthOptions::Archives::kTar;
  o.awkward = false;
  SynthRecord r;
  ASSERT_OK(WriteSynthDownload(dir.Sub("dl"), o, &r));
  EXPECT_TRUE(r.bad_members.empty());
  EXPECT_EQ(12u, r.images.size());
  size_t members = 0, empty = 0;
  for (const std::string& stem : kArchiveStems) {
    int filter = -1;
    const auto entries = ReadArchive(dir.Sub("dl") + "/" + stem + ".tar", &filter);
    EXPECT_FALSE(fs::exists(dir.Sub("dl") + "/" + stem + ".tar.gz"));
    EXPECT_EQ(ARCHIVE_FILTER_NONE, filter);
    members += entries.size();
    empty += entries.empty();
    for (const Entry& e : entries) EXPECT_EQ('f', e.type) << e.name;
  }
  EXPECT_EQ(12u, members);
  EXPECT_GT(empty, 0u);
  for (const SynthImage& img : r.images) {
    EXPECT_EQ(SynthKind::kNormal, img.kind);
    EXPECT_TRUE(img.bytes.empty()) << "bytes kept only with keep_bytes";
    EXPECT_GT(img.size, 0u);
  }
}

TEST(Synth, RejectsBadOptionsAndNonEmptyDirectories) {
  TempDir dir;
  SynthRecord r;
  SynthOptions o = Small(1);
  o.images = 2;
  EXPECT_TRUE(WriteSynthDownload(dir.Sub("a"), o, &r).IsInvalidArgument());
  o = Small(1);
  o.max_side = 8;
  EXPECT_TRUE(WriteSynthDownload(dir.Sub("b"), o, &r).IsInvalidArgument());
  fs::create_directories(dir.Sub("c"));
  std::ofstream(dir.Sub("c/x")) << "x";
  EXPECT_TRUE(WriteSynthDownload(dir.Sub("c"), Small(1), &r).IsInvalidArgument());
  std::ofstream(dir.Sub("file")) << "x";
  EXPECT_TRUE(WriteSynthDownload(dir.Sub("file"), Small(1), &r).IsInvalidArgument());
  // procfs takes no new directories, not even from root.
  const Status s = WriteSynthDownload("/proc/oiv4kv-synth-test", Small(1), &r);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("/proc/oiv4kv-synth-test")) << s.ToString();
}

TEST(Synth, ReportsProgress) {
  TempDir dir;
  SynthOptions o = Small(2);
  size_t calls = 0, last = 0, total = 0;
  o.progress = [&](size_t done, size_t n) {
    ++calls;
    EXPECT_GE(done, last);
    last = done, total = n;
  };
  SynthRecord r;
  ASSERT_OK(WriteSynthDownload(dir.Sub("dl"), o, &r));
  EXPECT_GT(calls, 0u);
  EXPECT_EQ(40u, last);
  EXPECT_EQ(40u, total);
}

}  // namespace
}  // namespace oiv4kv
