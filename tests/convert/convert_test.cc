// End-to-end conversion of generated downloads: parity of every feature with
// the generator's own record, bad inputs under both policies, resume after
// kill -9, and the same store whatever the download's layout.
#include "store/convert/converter.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <chrono>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <set>

#include "oiv4kv/store.h"
#include "store/convert/transcode.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/synth/synth_download.h"
#include "store/core/writer_internal.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

void AppendLine(const std::string& path, const std::string& line) {
  std::ofstream(path, std::ios::app) << line << "\n";
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

SynthOptions SmallDownload(size_t images, bool awkward) {
  SynthOptions o;
  o.images = images;
  o.seed = 17;
  o.awkward = awkward;
  o.max_side = 96;
  return o;
}

ConvertRequest Request(const std::string& source, const std::string& store, Config config) {
  ConvertRequest r;
  r.source = source;
  r.store = store;
  r.config = config;
  r.threads = 2;
  r.skip_bad_inputs = true;
  r.label_lists = source + "/tfds_lists";
  return r;
}

// Kinds the converter cannot store: no image format, or over --max-pixels.
bool Unstorable(const SynthImage& img) {
  return img.kind == SynthKind::kNotAnImage || img.kind == SynthKind::kHugeHeader;
}

// Whether `img` is there to check, given the status `s` of looking it up:
// the kinds the generator records as unstorable must be absent (NotFound),
// every other image present.
bool PresentUnlessUnstorable(const SynthImage& img, const Status& s) {
  if (Unstorable(img)) {
    EXPECT_TRUE(s.IsNotFound()) << img.member << ": " << s.ToString();
    return false;
  }
  EXPECT_TRUE(s.ok()) << img.member << " (" << SynthKindName(img.kind) << "): " << s.ToString();
  return s.ok();
}

// Everything a store holds, hashed: every example's features and every
// image's bytes and metadata, in key order.
uint64_t StoreDigest(const std::string& path) {
  std::unique_ptr<Store> store;
  EXPECT_OK(Store::Open(path, StoreOptions(), &store));
  if (!store) return 0;
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ULL;
  };
  // The manifest's counts and report are content too (not its timestamps).
  for (const ConfigManifest& c : store->manifest().configs) {
    std::vector<std::string> problems;
    for (const Problem& p : c.report.problems) problems.push_back(p.where + "\n" + p.reason);
    std::sort(problems.begin(), problems.end());
    for (const std::string& p : problems) mix(p.data(), p.size());
    mix(&c.report.orphan_annotation_rows, 8);
    mix(&c.complete, 1);
  }
  for (Split split : kAllSplits) {
    for (uint64_t i = 0; i < store->NumExamples(split); ++i) {
      ExampleView ex;
      EXPECT_OK(store->At(split, i, &ex));
      const uint64_t id = ex.image_id();
      mix(&id, 8);
      mix(ex.record().data(), ex.record().size());
      for (Config c : store->Configs()) {
        ImageView img;
        EXPECT_OK(store->GetImage(c, split, id, &img));
        mix(img.bytes().data(), img.bytes().size());
        const uint32_t dims[2] = {img.width(), img.height()};
        mix(dims, sizeof(dims));
      }
    }
  }
  return h;
}

class ConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(WriteSynthDownload(dir_.Sub("download"), SmallDownload(60, true), &record_));
  }
  std::string source() const { return dir_.Sub("download"); }
  // dir_/other: a download of the same size from another seed, whose images
  // and ids differ from source()'s.
  Status WriteOtherDownload() {
    SynthOptions other = SmallDownload(60, true);
    other.seed = 18;
    SynthRecord other_record;
    return WriteSynthDownload(dir_.Sub("other"), other, &other_record);
  }

  // Every stored example carries the labels of the download's own files,
  // and some of them differ from TFDS's numbering (else the check is moot).
  void ExpectDownloadOrder(const std::string& path) {
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(path, StoreOptions(), &store));
    EXPECT_EQ(LabelOrder::kDownload, store->label_order());
    size_t differing = 0, checked = 0;
    for (const SynthImage& img : record_.images) {
      ExampleView view;
      const Status s = store->Get(img.split, img.image_id, &view);
      if (!PresentUnlessUnstorable(img, s)) continue;  // counted: `checked` falls short
      const ExampleData& e = record_.expected_download.at({img.split, img.image_id});
      testing::ExpectSameExample(e, view);
      differing +=
          e.bobjects.label != record_.expected_tfds.at({img.split, img.image_id}).bobjects.label;
      ++checked;
    }
    uint64_t stored = 0;
    for (Split split : kAllSplits) stored += store->NumExamples(split);
    EXPECT_EQ(stored, checked);
    EXPECT_GT(checked, 40u);
    EXPECT_GT(differing, 0u) << "the generated download should number some boxable labels "
                                "differently from TFDS, as the real one does";
  }

  TempDir dir_;
  SynthRecord record_;
};

TEST_F(ConvertTest, EveryFeatureMatchesTheGeneratorsRecord) {
  ConvertSummary summary;
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir_.Sub("store"), StoreOptions(), &store));
  EXPECT_EQ(LabelOrder::kTfds, store->label_order());

  std::set<std::pair<Split, uint64_t>> stored;
  uint64_t orphan_rows = 0;
  for (Split s : kAllSplits) orphan_rows += record_.orphan_rows[static_cast<int>(s)];
  for (const SynthImage& img : record_.images) {
    const auto key = std::make_pair(img.split, img.image_id);
    const ExampleData& expected = record_.expected_tfds.at(key);
    ExampleView view;
    if (Unstorable(img) || stored.count(key) > 0) {
      // Left out: its rows count as rows without an image.
      if (stored.count(key) == 0) {
        EXPECT_TRUE(store->Get(img.split, img.image_id, &view).IsNotFound()) << img.member;
        orphan_rows += expected.objects.label.size() + expected.bobjects.label.size();
      }
      continue;
    }
    stored.insert(key);
    ASSERT_OK(store->Get(img.split, img.image_id, &view));
    testing::ExpectSameExample(expected, view);
    ImageView image;
    ASSERT_OK(store->GetImage(Config::kOriginal, img.split, img.image_id, &image));
    EXPECT_EQ(img.width, image.width()) << img.member;
    EXPECT_EQ(img.height, image.height()) << img.member;
    EXPECT_EQ(img.kind == SynthKind::kPngNamedJpg ? ImageFormat::kPng : ImageFormat::kJpeg,
              image.format()) << img.member;
  }
  uint64_t total = 0;
  for (Split s : kAllSplits) total += store->NumExamples(s);
  EXPECT_EQ(stored.size(), total);
  EXPECT_EQ(orphan_rows, summary.report.orphan_annotation_rows);

  // Every bad member and unstorable image is in the report, with a reason.
  std::set<std::string> reported;
  for (const Problem& p : store->manifest().FindConfig(Config::kOriginal)->report.problems) {
    reported.insert(p.where);
    EXPECT_FALSE(p.reason.empty()) << p.where;
  }
  for (const std::string& bad : record_.bad_members) {
    // A tar's own folder entries ("train_3/") carry nothing and are passed over.
    if (bad.ends_with("/") && !bad.ends_with(".jpg/")) {
      EXPECT_EQ(0u, reported.count(bad)) << bad;
      continue;
    }
    EXPECT_EQ(1u, reported.count(bad)) << bad;
  }
  for (const SynthImage& img : record_.images) {
    if (Unstorable(img)) {
      EXPECT_EQ(1u, reported.count(img.archive + ":" + img.member)) << img.member;
    }
  }
}

TEST_F(ConvertTest, DownloadOrderWithoutLabelLists) {
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.label_lists.clear();
  ConvertSummary summary;
  ASSERT_OK(Convert(r, nullptr, &summary));
  ExpectDownloadOrder(dir_.Sub("store"));
}

TEST_F(ConvertTest, ResumingWithOtherLabelListsRenumbersStagedRows) {
  // A bad row in the last CSV staged stops a TFDS-numbered run after the
  // other files were staged; the resumed run asks for the download's order.
  AppendLine(source() + "/test-annotations-bbox.csv", "0123456789abcdef,xclick,nope");
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  ASSERT_FALSE(Convert(r, nullptr, &summary).ok());
  r.label_lists.clear();
  r.skip_bad_inputs = true;
  ASSERT_OK(Convert(r, nullptr, &summary));
  ExpectDownloadOrder(dir_.Sub("store"));
}

TEST_F(ConvertTest, ResizedConfigsHaveOpenCvDimensions) {
  ConvertSummary summary;
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::k200k), nullptr, &summary));
  EXPECT_FALSE(summary.annotations_written);
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir_.Sub("store"), StoreOptions(), &store));
  EXPECT_EQ((std::vector<Config>{Config::kOriginal, Config::k200k}), store->Configs());
  tjhandle tj = tjInitDecompress();
  // Every image the generator recorded is checked, except the kinds it
  // records as unstorable, which must be absent (the duplicated id's second
  // copy is only in bad_members, not in images).
  size_t checked = 0, unstorable = 0;
  for (const SynthImage& img : record_.images) {
    ImageView image;
    const Status s = store->GetImage(Config::k200k, img.split, img.image_id, &image);
    unstorable += Unstorable(img);
    if (!PresentUnlessUnstorable(img, s)) continue;  // counted: `checked` falls short below
    ++checked;
    // The decoded size is the stored one, turned by EXIF orientations 5..8.
    const bool turned = img.exif_orientation >= 5;
    const uint64_t w = turned ? img.height : img.width, h = turned ? img.width : img.height;
    const double f = w * h > 200'000 ? std::sqrt(200'000.0 / (w * h)) : 1.0;
    EXPECT_EQ(static_cast<uint32_t>(std::nearbyint(w * f)), image.width()) << img.member;
    EXPECT_EQ(static_cast<uint32_t>(std::nearbyint(h * f)), image.height()) << img.member;
    int jw = 0, jh = 0, sub = 0, cs = 0;
    ASSERT_EQ(0, tjDecompressHeader3(tj, image.bytes().data(), image.bytes().size(), &jw, &jh,
                                     &sub, &cs)) << img.member;
    EXPECT_EQ(static_cast<int>(image.width()), jw);
    EXPECT_EQ(static_cast<int>(image.height()), jh);
    EXPECT_EQ(TJSAMP_420, sub) << img.member;
  }
  tjDestroy(tj);
  uint64_t stored = 0;
  for (Split s : kAllSplits) stored += store->NumExamples(s);
  EXPECT_EQ(stored, checked);
  EXPECT_EQ(record_.images.size(), checked + unstorable);
  EXPECT_GT(unstorable, 0u);  // the awkward download has some
  EXPECT_GT(checked, 40u);
}

TEST_F(ConvertTest, FailPolicyStopsAtTheFirstBadInputAndResumeFinishes) {
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  const Status s = Convert(r, nullptr, &summary);
  ASSERT_FALSE(s.ok());
  // The message names the archive and member (or CSV line) and why.
  EXPECT_NE(std::string::npos, s.message().find(".tar.gz:")) << s.message();
  std::unique_ptr<Store> store;
  EXPECT_TRUE(Store::Open(dir_.Sub("store"), StoreOptions(), &store).IsInvalidArgument());
  r.skip_bad_inputs = true;
  ASSERT_OK(Convert(r, nullptr, &summary));
  TempDir clean;
  ASSERT_OK(Convert(Request(source(), clean.Sub("store"), Config::kOriginal), nullptr, &summary));
  EXPECT_EQ(StoreDigest(clean.Sub("store")), StoreDigest(dir_.Sub("store")));
}

// Starts `oiv4-kv convert` as its own process (a fork without exec would
// inherit RocksDB's thread pools without their threads).
// `config_name`: one config or a comma list.
// `env`: "NAME=VALUE" entries added to the child's environment.
pid_t SpawnConvert(const std::string& source, const std::string& store,
                   const std::string& config_name, const std::vector<std::string>& env = {}) {
  const std::string lists = source + "/tfds_lists";
  std::vector<std::string> args = {OIV4KV_BINARY, "convert", "--source", source, "--store", store,
                                   "--config", config_name, "--on-error", "skip", "--threads", "2",
                                   "--label-lists", lists, "--chunk-images", "2",
                                   "--archive-readers", "2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    for (const std::string& entry : env) putenv(const_cast<char*>(entry.c_str()));
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

pid_t SpawnConvert(const std::string& source, const std::string& store, Config config) {
  return SpawnConvert(source, store, std::string(ConfigName(config)));
}

TEST_F(ConvertTest, KillNineAtManyPointsThenResumeGivesTheCleanStore) {
  // A clean run through the command line, timed to spread the kills over it.
  const auto start = std::chrono::steady_clock::now();
  const pid_t clean_pid = SpawnConvert(source(), dir_.Sub("timed"), Config::k300k);
  ASSERT_GT(clean_pid, 0);
  int wstatus = 0;
  ASSERT_EQ(clean_pid, waitpid(clean_pid, &wstatus, 0));
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  const auto run_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start).count();
  // The reference: one archive at a time, default chunks, in process.
  ConvertSummary reference;
  ConvertRequest one_reader = Request(source(), dir_.Sub("clean"), Config::k300k);
  one_reader.archive_readers = 1;
  ASSERT_OK(Convert(one_reader, nullptr, &reference));
  const uint64_t clean = StoreDigest(dir_.Sub("clean"));
  EXPECT_EQ(clean, StoreDigest(dir_.Sub("timed"))) << "two readers and small chunks changed the store";

  int interrupted = 0, points = 0;
  for (double at : {0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9}) {
    const std::string path = dir_.Sub("killed" + std::to_string(points++));
    const pid_t child = SpawnConvert(source(), path, Config::k300k);
    ASSERT_GT(child, 0);
    usleep(static_cast<useconds_t>(run_us * at));
    kill(child, SIGKILL);
    waitpid(child, &wstatus, 0);
    interrupted += WIFSIGNALED(wstatus) ? 1 : 0;
    SCOPED_TRACE("killed at " + std::to_string(at) + " of a clean run");
    ConvertSummary summary;
    ConvertRequest resume = Request(source(), path, Config::k300k);
    resume.chunk_images = 2;  // archives span several commits: resume inside one
    resume.archive_readers = 2;  // and several archives are in flight at once
    ASSERT_OK(Convert(resume, nullptr, &summary));
    EXPECT_EQ(clean, StoreDigest(path));
  }
  EXPECT_GE(interrupted, 4) << "too few runs were interrupted to test resuming";
}

// Every config stores an image for every example: a file `original` keeps
// must also transcode. Seed 1 makes a JPEG that ends inside its first row of
// blocks (small images, a cut early in the scan), which the resized configs
// once refused while `original` kept it, so the second commit failed.
TEST(ConvertConfigs, EveryExampleHasAnImageInEveryConfig) {
  TempDir dir;
  SynthOptions o = SmallDownload(40, true);
  o.seed = 1;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("src"), o, &record));
  ConvertSummary summary;
  for (Config c : {Config::kOriginal, Config::k300k}) {
    SCOPED_TRACE(ConfigName(c));
    ASSERT_OK(Convert(Request(dir.Sub("src"), dir.Sub("store"), c), nullptr, &summary));
  }
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir.Sub("store"), StoreOptions(), &store));
  EXPECT_EQ((std::vector<Config>{Config::kOriginal, Config::k300k}), store->Configs());
  size_t truncated = 0, checked = 0;
  for (const SynthImage& img : record.images) {
    ExampleView ex;
    const Status s = store->Get(img.split, img.image_id, &ex);
    if (!PresentUnlessUnstorable(img, s)) continue;  // counted: `checked` falls short
    truncated += img.kind == SynthKind::kTruncated;
    SCOPED_TRACE(img.member);
    for (Config c : store->Configs()) {
      ImageView view;
      EXPECT_OK(store->GetImage(c, img.split, img.image_id, &view));
      ++checked;
    }
  }
  uint64_t stored = 0;
  for (Split split : kAllSplits) stored += store->NumExamples(split);
  EXPECT_EQ(2 * stored, checked);  // two configs
  EXPECT_GT(stored, 30u);
  EXPECT_GT(truncated, 0u);
}

TEST(ConvertLayouts, EveryLayoutAndRowOrderGivesTheRecordedExamples) {
  TempDir dir;
  struct Variant {
    SynthOptions::Archives archives;
    bool split_subdirs, sorted_csv;
  };
  const Variant variants[] = {{SynthOptions::Archives::kTarGz, false, true},
                              {SynthOptions::Archives::kTar, true, false},
                              {SynthOptions::Archives::kDirectories, false, false}};
  int n = 0;
  for (const Variant& v : variants) {
    SCOPED_TRACE("variant " + std::to_string(n));
    SynthOptions o = SmallDownload(40, false);
    o.archives = v.archives;
    o.split_subdirs = v.split_subdirs;
    o.sorted_csv = v.sorted_csv;
    SynthRecord record;
    const std::string src = dir.Sub("src" + std::to_string(n));
    ASSERT_OK(WriteSynthDownload(src, o, &record));
    ConvertSummary summary;
    const std::string path = dir.Sub("store" + std::to_string(n++));
    ASSERT_OK(Convert(Request(src, path, Config::kOriginal), nullptr, &summary));
    for (const Problem& p : summary.report.problems) ADD_FAILURE() << p.where << ": " << p.reason;
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(path, StoreOptions(), &store));
    uint64_t total = 0;
    for (Split s : kAllSplits) total += store->NumExamples(s);
    EXPECT_EQ(record.images.size(), total);
    for (const SynthImage& img : record.images) {
      ExampleView view;
      ASSERT_OK(store->Get(img.split, img.image_id, &view));
      testing::ExpectSameExample(record.expected_tfds.at({img.split, img.image_id}), view);
    }
  }
}

std::string RunTool(const std::string& args) {
  const testing::CommandResult r = testing::Oiv4kv(args);
  EXPECT_EQ(0, r.exit_code) << args;
  return r.out;
}

TEST_F(ConvertTest, DumpPrintsTheRecordedFeaturesAndExportTheStoredBytes) {
  ConvertSummary summary;
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::k300k), nullptr, &summary));
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir_.Sub("store"), StoreOptions(), &store));
  const std::string out = RunTool("dump " + dir_.Sub("store") + " --split validation");
  std::istringstream lines(out);
  std::string line;
  uint64_t n = 0;
  uint64_t previous = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::ordered_json::parse(line);
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.push_back(k);
    EXPECT_EQ((std::vector<std::string>{"split", "image_id", "image/filename", "objects",
                                        "objects_trainable", "bobjects", "image"}),
              keys);
    EXPECT_EQ("validation", j["split"]);
    const uint64_t id = std::stoull(j["image_id"].get<std::string>(), nullptr, 16);
    EXPECT_TRUE(n == 0 || id > previous) << "key order";
    previous = id;
    const ExampleData& e = record_.expected_tfds.at({Split::kValidation, id});
    EXPECT_EQ(e.filename, j["image/filename"]);
    EXPECT_EQ(std::vector<int>(e.objects.label.begin(), e.objects.label.end()),
              j["objects"]["label"].get<std::vector<int>>());
    EXPECT_EQ(std::vector<int>(e.objects_trainable.confidence.begin(),
                               e.objects_trainable.confidence.end()),
              j["objects_trainable"]["confidence"].get<std::vector<int>>());
    ASSERT_EQ(e.bobjects.label.size(), j["bobjects"]["bbox"].size());
    for (size_t b = 0; b < e.bobjects.label.size(); ++b) {
      for (int k = 0; k < 4; ++k) {
        // Printed so that it reads back as the very same float32.
        EXPECT_EQ(e.bobjects.bbox[4 * b + k], j["bobjects"]["bbox"][b][k].get<float>());
      }
    }
    EXPECT_EQ(std::vector<int>(e.bobjects.is_inside.begin(), e.bobjects.is_inside.end()),
              j["bobjects"]["is_inside"].get<std::vector<int>>());
    ImageView img;
    ASSERT_OK(store->GetImage(Config::k300k, Split::kValidation, id, &img));
    EXPECT_EQ(img.width(), j["image"]["300k"]["width"].get<uint32_t>());
    EXPECT_EQ(img.bytes().size(), j["image"]["300k"]["bytes"].get<size_t>());
    EXPECT_TRUE(j["image"].contains("original"));
    ++n;
  }
  EXPECT_EQ(store->NumExamples(Split::kValidation), n);

  RunTool("export " + dir_.Sub("store") + " --config original --split validation --out " +
             dir_.Sub("export"));
  size_t exported = 0;
  for (const SynthImage& img : record_.images) {
    if (img.split != Split::kValidation || Unstorable(img)) continue;
    std::ifstream f(dir_.Sub("export/" + ImageIdHex(img.image_id) + ".jpg"), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(img.size, bytes.size()) << img.member;  // the archive's bytes, as they were
    ++exported;
  }
  EXPECT_EQ(store->NumExamples(Split::kValidation), exported);
  EXPECT_GT(exported, 0u);
}

// A clean download of 30 images with its archives extracted, so that a test
// can drop in or rename files.
Status WriteExtractedDownload(const std::string& src, SynthRecord* record) {
  SynthOptions o = SmallDownload(30, false);
  o.archives = SynthOptions::Archives::kDirectories;
  return WriteSynthDownload(src, o, record);
}

// A member's name follows the one image-id rule (oiv4kv/image_id.h): its 16
// hex digits may be of either case, and name the same id as in lower case.
TEST(ConvertMemberNames, UpperCaseHexDigitsNameTheSameImage) {
  TempDir dir;
  SynthRecord record;
  const std::string src = dir.Sub("src");
  ASSERT_OK(WriteExtractedDownload(src, &record));
  size_t renamed = 0;
  for (const SynthImage& img : record.images) {
    const std::string lower = ImageFileName(img.image_id);
    std::string upper = ImageIdHex(img.image_id);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    upper += ".jpg";
    if (upper == lower) continue;  // digits only
    const std::filesystem::path file =
        std::filesystem::path(src) / std::filesystem::path(img.archive).parent_path() / img.member;
    ASSERT_EQ(lower, file.filename().string());
    std::filesystem::rename(file, file.parent_path() / upper);
    ++renamed;
  }
  ASSERT_GT(renamed, 0u);

  ConvertRequest r = Request(src, dir.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;  // a name the rule refuses would stop the run
  ConvertSummary summary;
  ASSERT_OK(Convert(r, nullptr, &summary));
  EXPECT_TRUE(summary.report.problems.empty());
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir.Sub("store"), StoreOptions(), &store));
  size_t checked = 0;
  for (const SynthImage& img : record.images) {
    ExampleView view;
    ASSERT_OK(store->Get(img.split, img.image_id, &view));
    EXPECT_EQ(ImageFileName(img.image_id), view.filename());
    testing::ExpectSameExample(record.expected_tfds.at({img.split, img.image_id}), view);
    ImageView image;
    ASSERT_OK(store->GetImage(Config::kOriginal, img.split, img.image_id, &image));
    EXPECT_EQ(img.size, image.bytes().size());
    ++checked;
  }
  EXPECT_EQ(record.images.size(), checked);
  EXPECT_GT(checked, 0u);
}

TEST(ConvertInputs, MissingFilesAreNamed) {
  TempDir dir;
  ConvertSummary summary;
  ConvertRequest r = Request(dir.path(), dir.Sub("store"), Config::kOriginal);
  const Status s = Convert(r, nullptr, &summary);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.message().find("class-descriptions.csv")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("train_0.tar.gz")) << s.message();
}


// Issue 12 #1: a resume reads the archives it started from, or is refused.
TEST_F(ConvertTest, ResumingWithAnotherDownloadIsRefusedNamingTheArchive) {
  ASSERT_OK(WriteOtherDownload());
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  const Status stopped = Convert(r, nullptr, &summary);
  ASSERT_FALSE(stopped.ok());
  ASSERT_NE(std::string::npos, stopped.message().find(".tar.gz:")) << stopped.message();

  ConvertRequest mixed = Request(dir_.Sub("other"), dir_.Sub("store"), Config::kOriginal);
  const Status s = Convert(mixed, nullptr, &summary);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(summary.refused);
  EXPECT_NE(std::string::npos, s.message().find("input changed since this conversion started: " +
                                                dir_.Sub("other") + "/train_")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("--restart")) << s.message();
  EXPECT_EQ("", ConvertFailureAdvice(s, summary));

  // Nothing of the other download went in: resuming with the first one gives
  // the clean store.
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));
  TempDir clean;
  ASSERT_OK(Convert(Request(source(), clean.Sub("store"), Config::kOriginal), nullptr, &summary));
  EXPECT_EQ(StoreDigest(clean.Sub("store")), StoreDigest(dir_.Sub("store")));
}

// Issue 12 #1 and #8: --restart forgets an unfinished conversion, whatever it
// was read from.
TEST_F(ConvertTest, RestartDiscardsAnUnfinishedConversion) {
  ASSERT_OK(WriteOtherDownload());
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  ASSERT_FALSE(Convert(r, nullptr, &summary).ok());
  ConvertRequest restart = Request(dir_.Sub("other"), dir_.Sub("store"), Config::kOriginal);
  restart.restart = true;
  ASSERT_OK(Convert(restart, nullptr, &summary));
  TempDir clean;
  ASSERT_OK(Convert(Request(dir_.Sub("other"), clean.Sub("store"), Config::kOriginal), nullptr,
                    &summary));
  EXPECT_EQ(StoreDigest(clean.Sub("store")), StoreDigest(dir_.Sub("store")));
  // A complete config is not discarded.
  const Status s = Convert(restart, nullptr, &summary);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("is complete")) << s.message();
  EXPECT_EQ(StoreDigest(clean.Sub("store")), StoreDigest(dir_.Sub("store")));
}

// Issue 12 #8: a later config from another download fails before any image
// is transcoded, and the right download (with --restart) then finishes.
TEST_F(ConvertTest, LaterConfigFromAnotherDownloadFailsFast) {
  ASSERT_OK(WriteOtherDownload());
  ConvertSummary summary;
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));
  const Status s =
      Convert(Request(dir_.Sub("other"), dir_.Sub("store"), Config::k200k), nullptr, &summary);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(summary.refused);
  EXPECT_NE(std::string::npos, s.message().find(dir_.Sub("other") + "/train_")) << s.message();
  EXPECT_NE(std::string::npos, s.message().find("is not the archive this store's examples were "
                                                "converted from")) << s.message();
  {
    // No archive of 200k was started.
    std::unique_ptr<Writer> writer;
    ASSERT_OK(Writer::Open(dir_.Sub("store"), WriterOptions(), &writer));
    size_t started = 0;
    ASSERT_OK(ScanProgress(*writer, "archive/200k/", [&](std::string_view, std::string_view) {
      ++started;
      return true;
    }));
    EXPECT_EQ(0u, started);
  }
  ConvertRequest right = Request(source(), dir_.Sub("store"), Config::k200k);
  right.restart = true;
  ASSERT_OK(Convert(right, nullptr, &summary));
  TempDir clean;
  ASSERT_OK(Convert(Request(source(), clean.Sub("store"), Config::kOriginal), nullptr, &summary));
  ASSERT_OK(Convert(Request(source(), clean.Sub("store"), Config::k200k), nullptr, &summary));
  EXPECT_EQ(StoreDigest(clean.Sub("store")), StoreDigest(dir_.Sub("store")));
}

// Issue 12 #2: a CSV fixed after a run stopped on it is staged again whole.
TEST_F(ConvertTest, FixingACsvAndRerunningStagesItAgainWhole) {
  const std::string csv = source() + "/train-annotations-bbox.csv";
  std::vector<std::string> lines;
  {
    std::ifstream in(csv);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GT(lines.size(), 12u);
  // Line 3 is an extra copy of line 2's box; line 10 has an extra column.
  std::vector<std::string> edited = lines;
  edited.insert(edited.begin() + 2, lines[1]);
  edited[9] += ",1";
  std::string text;
  for (const std::string& l : edited) text += l + "\n";
  WriteFile(csv, text);
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  const Status s = Convert(r, nullptr, &summary);
  ASSERT_FALSE(s.ok());
  ASSERT_NE(std::string::npos, s.message().find(csv + ":10")) << s.message();
  // The user puts the download's own file back (line 3 gone, line 10 fixed).
  text.clear();
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(csv, text);
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::kOriginal), nullptr, &summary));

  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir_.Sub("store"), StoreOptions(), &store));
  size_t checked = 0, line2_image = 0;
  const uint64_t line2_id = std::stoull(lines[1].substr(0, 16), nullptr, 16);
  for (const SynthImage& img : record_.images) {
    ExampleView view;
    if (img.split != Split::kTrain || !store->Get(img.split, img.image_id, &view).ok()) continue;
    const ExampleData& expected = record_.expected_tfds.at({img.split, img.image_id});
    EXPECT_EQ(expected.bobjects.label.size(), view.bobjects().size()) << img.member;
    testing::ExpectSameExample(expected, view);
    ++checked;
    line2_image += img.image_id == line2_id;
  }
  EXPECT_GT(checked, 20u);
  EXPECT_EQ(1u, line2_image) << "line 2's image should be stored, else the duplicate is moot";
}

// Issue 12 #3: a quote that runs to the end of the file loses the rest of
// it: the run stops in both modes, naming the lines lost.
TEST_F(ConvertTest, UnterminatedQuoteStopsTheRunNamingTheLinesLost) {
  const std::string csv = source() + "/train-annotations-bbox.csv";
  std::vector<std::string> lines;
  {
    std::ifstream in(csv);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GT(lines.size(), 12u);
  lines[5] = "\"" + lines[5];  // line 6
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(csv, text);
  for (bool skip : {true, false}) {
    ConvertRequest r = Request(source(), dir_.Sub(skip ? "skip" : "fail"), Config::kOriginal);
    r.skip_bad_inputs = skip;
    ConvertSummary summary;
    const Status s = Convert(r, nullptr, &summary);
    ASSERT_FALSE(s.ok()) << "skip " << skip;
    EXPECT_NE(std::string::npos, s.message().find(csv + ":6: ")) << s.message();
    const std::string span = "lines 6-" + std::to_string(lines.size()) + ", " +
                             std::to_string(lines.size() - 5) + " lines";
    EXPECT_NE(std::string::npos, s.message().find(span)) << "skip " << skip << ": " << s.message();
    // Skipping cannot help: the advice does not suggest it.
    const std::string advice = ConvertFailureAdvice(s, summary);
    EXPECT_NE(std::string::npos, advice.find("fix the input")) << advice;
    EXPECT_EQ(std::string::npos, advice.find("--on-error skip")) << "skip " << skip << ": " << advice;
  }
}

// Issue 12 #6: display names and MIDs must be UTF-8, in either mode.
TEST_F(ConvertTest, NonUtf8DisplayNameIsAnErrorOfItsLine) {
  const std::string csv = source() + "/class-descriptions.csv";
  size_t lines = 0;
  {
    std::ifstream in(csv);
    for (std::string line; std::getline(in, line);) ++lines;
  }
  AppendLine(csv, "/m/0zzzzz,Bad \xff\xfe name");
  for (bool skip : {true, false}) {
    ConvertRequest r = Request(source(), dir_.Sub(skip ? "skip" : "fail"), Config::kOriginal);
    r.skip_bad_inputs = skip;
    ConvertSummary summary;
    const Status s = Convert(r, nullptr, &summary);
    ASSERT_FALSE(s.ok()) << "skip " << skip;
    EXPECT_NE(std::string::npos,
              s.message().find(csv + ":" + std::to_string(lines + 1) +
                               ": display name is not valid UTF-8 (byte 0xff at offset 4)"))
        << s.message();
    const std::string advice = ConvertFailureAdvice(s, summary);
    EXPECT_NE(std::string::npos, advice.find("fix the input")) << advice;
    EXPECT_EQ(std::string::npos, advice.find("--on-error skip")) << "skip " << skip << ": " << advice;
  }
}

// Issue 12 #10: one rule for a truncated archive, however early it ends:
// skip mode leaves it out with a report, fail mode stops naming it.
TEST(ConvertTruncatedArchives, EarlyAndMidwayTruncationFollowOneRule) {
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), SmallDownload(60, false), &record));
  const std::string early = dir.Sub("download") + "/validation.tar.gz";
  const std::string midway = dir.Sub("download") + "/test.tar.gz";
  std::filesystem::resize_file(early, 20);
  std::filesystem::resize_file(midway, std::filesystem::file_size(midway) / 2);
  ConvertSummary summary;
  ConvertRequest r = Request(dir.Sub("download"), dir.Sub("store"), Config::kOriginal);
  r.label_lists.clear();
  ASSERT_OK(Convert(r, nullptr, &summary));
  size_t reported = 0;
  for (const Problem& p : summary.report.problems) {
    if ((p.where == "validation.tar.gz" || p.where == "test.tar.gz") &&
        p.reason.starts_with("archive unreadable after ")) {
      ++reported;
    }
  }
  EXPECT_EQ(2u, reported);
  r.store = dir.Sub("fail");
  r.skip_bad_inputs = false;
  const Status s = Convert(r, nullptr, &summary);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(s.message().starts_with("validation.tar.gz: archive unreadable after 0 members"))
      << s.message();
}

// The table files of the store's vocab family: how many, and their bytes.
std::pair<size_t, uint64_t> VocabTables(const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles, &db).ok());
  std::pair<size_t, uint64_t> out{0, 0};
  if (db == nullptr) return out;
  size_t found = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "vocab") {
      rocksdb::ColumnFamilyMetaData meta;
      db->GetColumnFamilyMetaData(handles[i], &meta);
      out = {meta.file_count, meta.size};
      ++found;
    }
    db->DestroyColumnFamilyHandle(handles[i]).PermitUncheckedError();
  }
  EXPECT_EQ(1u, found);
  delete db;
  return out;
}

// Issue 12 #10: a resumed run does not write the vocabularies again when the
// store holds the same ones, and `info` on an unfinished store shows the
// label order the run numbers labels by.
TEST_F(ConvertTest, ResumesKeepTheVocabulariesAndInfoShowsTheLabelOrder) {
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.skip_bad_inputs = false;
  ConvertSummary summary;
  // The first run's writes are in the write-ahead log until the next open.
  ASSERT_FALSE(Convert(r, nullptr, &summary).ok());
  ASSERT_FALSE(Convert(r, nullptr, &summary).ok());
  const auto first = VocabTables(dir_.Sub("store"));
  EXPECT_GT(first.first, 0u);
  // (RocksDB merges table files four at a time: look after each resume.)
  for (int resume = 0; resume < 3; ++resume) {
    ASSERT_FALSE(Convert(r, nullptr, &summary).ok());
    const auto later = VocabTables(dir_.Sub("store"));
    EXPECT_EQ(first.first, later.first) << "resume " << resume;
    EXPECT_EQ(first.second, later.second) << "resume " << resume;
  }

  const testing::CommandResult info = testing::Oiv4kv("info " + dir_.Sub("store"), true);
  EXPECT_EQ(1, info.exit_code) << info.out;  // info's status for an unfinished store
  EXPECT_NE(std::string::npos, info.out.find("complete       NO")) << info.out;
  EXPECT_NE(std::string::npos, info.out.find("label order    tfds")) << info.out;
}

// Issue 12 #4: a full disk is named as such, with advice that fits it.
TEST(ConvertDiskFull, NoSpaceIsClassifiedAndAdvisedAsSuch) {
  const Status s = FromRocks(rocksdb::Status::NoSpace(), "/data/store/000012.log");
  EXPECT_TRUE(IsNoSpace(s)) << s.ToString();
  const Status enospc = FromRocks(
      rocksdb::Status::IOError("While appending to file: /data/store/000012.log",
                               "No space left on device"),
      "/data/store");
  EXPECT_TRUE(IsNoSpace(enospc)) << enospc.ToString();
  EXPECT_FALSE(IsNoSpace(Status::IOError("/data/store: Input/output error")));
  EXPECT_FALSE(IsNoSpace(Status::InvalidArgument("x.csv:3: No space left on device")));
  ConvertSummary summary;
  const std::string advice = ConvertFailureAdvice(enospc, summary);
  EXPECT_NE(std::string::npos, advice.find("free space")) << advice;
  EXPECT_EQ(std::string::npos, advice.find("--on-error skip")) << advice;
  const std::string input = ConvertFailureAdvice(Status::InvalidArgument("x.csv:3: bad"), summary);
  EXPECT_NE(std::string::npos, input.find("--on-error skip")) << input;
}

TEST(ConvertDiskFull, TooLittleFreeSpaceStopsBeforeWriting) {
  TempDir dir;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), SmallDownload(20, false), &record));
  ConvertRequest r = Request(dir.Sub("download"), dir.Sub("store"), Config::kOriginal);
  r.min_free_bytes = uint64_t{1} << 62;
  ConvertSummary summary;
  const Status s = Convert(r, nullptr, &summary);
  ASSERT_TRUE(IsNoSpace(s)) << s.ToString();
  EXPECT_TRUE(s.message().starts_with("No space left on device: " + dir.Sub("store")))
      << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("store")));
}

// A real full disk: a 14 MiB tmpfs, which the old converter filled with
// RocksDB's info LOG and then aborted on (exit 134). Skipped where a tmpfs
// cannot be mounted (not root).
TEST(ConvertDiskFull, FullTmpfsEndsWithNoSpaceNotAnAbort) {
  TempDir dir;
  const std::string mnt = dir.Sub("small");
  std::filesystem::create_directories(mnt);
  if (testing::RunCommand("mount -t tmpfs -o size=14m tmpfs " + mnt + " 2>/dev/null", false)
          .exit_code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  SynthOptions o = SmallDownload(400, false);
  o.max_side = 256;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dir.Sub("download"), o, &record));
  const testing::CommandResult c = testing::Oiv4kv(
      "convert --source " + dir.Sub("download") + " --store " + mnt + "/store" +
          " --config original --threads 2 --chunk-images 4 --min-free-mib 0",
      true);
  testing::RunCommand("umount " + mnt, false);
  EXPECT_EQ(1, c.exit_code) << c.out;
  EXPECT_NE(std::string::npos, c.out.find("No space left on device: " + mnt + "/store")) << c.out;
  EXPECT_NE(std::string::npos, c.out.find("free space")) << c.out;
  EXPECT_EQ(std::string::npos, c.out.find("--on-error skip")) << c.out;
}


// --- Issue 16 #6: several configs in one pass -------------------------------

// The configs of the one-pass tests, in the order they are asked for; the
// separate runs convert them in the same order.
const std::vector<Config> kThreeConfigs = {Config::k300k, Config::k200k, Config::kOriginal};

// `dump` of every split and `export` of every config's validation images:
// the text and the exported files' bytes, for comparing two stores.
std::string DumpAndExport(const std::string& store, const std::string& scratch) {
  std::string all;
  for (Split split : kAllSplits) {
    all += RunTool("dump " + store + " --split " + std::string(SplitName(split)));
  }
  size_t files = 0;
  for (Config c : kThreeConfigs) {
    const std::string out = scratch + "/" + std::string(ConfigName(c));
    RunTool("export " + store + " --config " + std::string(ConfigName(c)) +
            " --split validation --out " + out);
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(out)) names.push_back(e.path());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::ifstream f(name, std::ios::binary);
      all += name.substr(scratch.size()) + "\n" +
             std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      ++files;
    }
  }
  EXPECT_GT(files, 3u);
  return all;
}

// A store converted by separate runs, one config each, in kThreeConfigs'
// order (the reference the one-pass runs must equal).
void ConvertSeparately(const std::string& source, const std::string& store,
                       ConvertSummary* last) {
  for (Config c : kThreeConfigs) {
    SCOPED_TRACE(ConfigName(c));
    ASSERT_OK(Convert(Request(source, store, c), nullptr, last));
  }
}

TEST_F(ConvertTest, OnePassForSeveralConfigsEqualsSeparateRuns) {
  TempDir separate;
  std::vector<ConvertSummary> one_by_one;
  for (Config c : kThreeConfigs) {
    SCOPED_TRACE(ConfigName(c));
    one_by_one.emplace_back();
    ASSERT_OK(Convert(Request(source(), separate.Sub("store"), c), nullptr, &one_by_one.back()));
  }
  ConvertRequest r = Request(source(), dir_.Sub("store"), Config::kOriginal);
  r.configs = kThreeConfigs;
  ConvertSummary summary;
  ASSERT_OK(Convert(r, nullptr, &summary));
  EXPECT_TRUE(summary.annotations_written);
  ASSERT_EQ(3u, summary.configs.size());
  size_t reported = 0;
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(ConfigName(kThreeConfigs[k]));
    const ConfigSummary& c = summary.configs[k];
    EXPECT_EQ(kThreeConfigs[k], c.config);
    EXPECT_FALSE(c.already_complete);
    EXPECT_EQ(one_by_one[k].images, c.images);
    EXPECT_EQ(one_by_one[k].report.orphan_annotation_rows, c.report.orphan_annotation_rows);
    ASSERT_EQ(one_by_one[k].report.problems.size(), c.report.problems.size());
    for (size_t i = 0; i < c.report.problems.size(); ++i, ++reported) {
      EXPECT_EQ(one_by_one[k].report.problems[i].where, c.report.problems[i].where);
      EXPECT_EQ(one_by_one[k].report.problems[i].reason, c.report.problems[i].reason);
    }
  }
  EXPECT_GT(reported, 3u);  // the awkward download has bad inputs in every config
  EXPECT_EQ(one_by_one[0].images, summary.images);
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(dir_.Sub("store"), StoreOptions(), &store));
  EXPECT_EQ((std::vector<Config>{Config::kOriginal, Config::k300k, Config::k200k}),
            store->Configs());
  store.reset();
  EXPECT_EQ(StoreDigest(separate.Sub("store")), StoreDigest(dir_.Sub("store")));
  EXPECT_EQ(DumpAndExport(separate.Sub("store"), separate.Sub("out")),
            DumpAndExport(dir_.Sub("store"), dir_.Sub("out")));

  // The command line: a comma list, in any order of its names.
  const testing::CommandResult cli = testing::Oiv4kv(
      "convert --source " + source() + " --store " + dir_.Sub("cli") +
          " --config 300k,200k,original,300k --on-error skip --threads 2 --label-lists " +
          source() + "/tfds_lists",
      /*with_stderr=*/true);
  ASSERT_EQ(0, cli.exit_code) << cli.out;
  for (const char* line : {"converted 300k into ", "converted 200k into ",
                           "converted original into "}) {
    EXPECT_NE(std::string::npos, cli.out.find(line)) << cli.out;
  }
  EXPECT_EQ(StoreDigest(separate.Sub("store")), StoreDigest(dir_.Sub("cli")));
}

// A config already complete is skipped, saying so, and the others are
// converted; asking only for complete ones does nothing.
TEST_F(ConvertTest, OnePassSkipsACompleteConfigWithAMessage) {
  ConvertSummary summary;
  ASSERT_OK(Convert(Request(source(), dir_.Sub("store"), Config::k300k), nullptr, &summary));
  const std::string args = "convert --source " + source() + " --store " + dir_.Sub("store") +
                           " --on-error skip --threads 2 --label-lists " + source() +
                           "/tfds_lists --config ";
  testing::CommandResult r = testing::Oiv4kv(args + "300k,200k,original", true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find("config 300k is already complete in " + dir_.Sub("store") + "; skipped"))
      << r.out;
  EXPECT_EQ(std::string::npos, r.out.find("converted 300k")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("converted 200k into ")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("converted original into ")) << r.out;
  TempDir separate;
  ConvertSeparately(source(), separate.Sub("store"), &summary);
  EXPECT_EQ(StoreDigest(separate.Sub("store")), StoreDigest(dir_.Sub("store")));
  r = testing::Oiv4kv(args + "original,200k", true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("config original is already complete in " +
                                          dir_.Sub("store") + "; nothing to do"))
      << r.out;
  r = testing::Oiv4kv(args + "300k,100k", true);
  EXPECT_EQ(2, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find("oiv4-kv convert: unknown config '100k' in --config (original, 300k or 200k)"))
      << r.out;
}

// kill -9 during a one-pass conversion of three configs, then the same
// command again: the store of separate runs. Also a one-config run killed
// first and then resumed by a one-pass run, whose configs then stand at
// different points of the archives.
TEST_F(ConvertTest, OnePassKilledThenResumedGivesTheStoreOfSeparateRuns) {
  TempDir separate;
  ConvertSummary summary;
  ConvertSeparately(source(), separate.Sub("store"), &summary);
  const uint64_t clean = StoreDigest(separate.Sub("store"));
  const auto start = std::chrono::steady_clock::now();
  const pid_t timed = SpawnConvert(source(), dir_.Sub("timed"), "300k,200k,original");
  ASSERT_GT(timed, 0);
  int wstatus = 0;
  ASSERT_EQ(timed, waitpid(timed, &wstatus, 0));
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  const auto run_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(clean, StoreDigest(dir_.Sub("timed")));

  ConvertRequest resume = Request(source(), "", Config::kOriginal);
  resume.configs = kThreeConfigs;
  resume.chunk_images = 2;
  resume.archive_readers = 2;
  int interrupted = 0, points = 0, mixed = 0;
  for (double at : {0.1, 0.35, 0.6, 0.85}) {
    SCOPED_TRACE("killed at " + std::to_string(at) + " of a clean run");
    const std::string path = dir_.Sub("killed" + std::to_string(points++));
    const pid_t child = SpawnConvert(source(), path, "300k,200k,original");
    ASSERT_GT(child, 0);
    usleep(static_cast<useconds_t>(run_us * at));
    kill(child, SIGKILL);
    waitpid(child, &wstatus, 0);
    interrupted += WIFSIGNALED(wstatus) ? 1 : 0;
    resume.store = path;
    ASSERT_OK(Convert(resume, nullptr, &summary));
    EXPECT_EQ(clean, StoreDigest(path));
  }
  EXPECT_GE(interrupted, 2) << "too few runs were interrupted to test resuming";

  // 300k alone killed inside its archives, then the three in one pass. The
  // kills are at named points ("chunk": after a chunk of images and its
  // progress), counted in a clean run: a timed kill can land before or after
  // the archives on a slow (sanitizer) build.
#ifdef OIV4KV_NO_KILL_POINTS
  GTEST_SKIP() << "built with -DOIV4KV_KILL_POINTS=OFF: the 300k-alone part needs kill points";
#endif
  const std::string log = dir_.Sub("points.log");
  const pid_t logged = SpawnConvert(source(), dir_.Sub("logged300k"), "300k",
                                    {"OIV4KV_KILL_POINTS_LOG=" + log});
  ASSERT_EQ(logged, waitpid(logged, &wstatus, 0));
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  const uint64_t chunks = fault::KillPointCounts(log)["chunk"];
  ASSERT_GE(chunks, 4u) << "too few chunks to stop a run inside the archives";
  for (uint64_t at : {chunks / 2, chunks * 3 / 4}) {
    SCOPED_TRACE("300k alone killed at chunk " + std::to_string(at) + " of " +
                 std::to_string(chunks));
    const std::string path = dir_.Sub("killed" + std::to_string(points++));
    const pid_t child = SpawnConvert(source(), path, "300k",
                                     {"OIV4KV_KILL_AT=chunk:" + std::to_string(at)});
    ASSERT_GT(child, 0);
    waitpid(child, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "not stopped at the point";
    const int before = mixed;
    {
      std::unique_ptr<Writer> writer;
      ASSERT_OK(Writer::Open(path, WriterOptions(), &writer));
      ASSERT_OK(ScanProgress(*writer, "archive/300k/", [&](std::string_view, std::string_view) {
        ++mixed;
        return true;
      }));
    }
    EXPECT_GT(mixed, before) << "no progress of 300k's archives was left by the kill";
    resume.store = path;
    ASSERT_OK(Convert(resume, nullptr, &summary));
    EXPECT_EQ(clean, StoreDigest(path));
  }
}

}  // namespace
}  // namespace oiv4kv
