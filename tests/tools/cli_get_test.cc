// Runs `oiv4-kv get` on a generated store and compares what it prints and
// writes with the generator's own record of what the store holds.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "store/testing/sample_images.h"
#include "store/core/format/keys.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::CommandResult;
using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

using testing::Oiv4kv;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Examples in `original` (random bytes that start like a JPEG) and `300k`
// (real JPEGs).
class CliGetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SampleSpec spec;
    spec.examples = {20, 6, 4};
    ASSERT_OK(testing::WriteSampleStore(dir_.Sub("store"), spec, &sample_));
    ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample_));
  }

  std::string Get(const std::string& args) { return "get " + sample_.path + " " + args; }

  // Checks `j` (one element per entry) against the written labels.
  void ExpectLabels(const ExampleData::Labels& l, const std::vector<VocabEntry>& vocab,
                    const nlohmann::json& j, const std::string& what) {
    ASSERT_EQ(l.label.size(), j.size()) << what;
    for (size_t i = 0; i < l.label.size(); ++i) {
      const auto& e = j[i];
      EXPECT_EQ(l.label[i], e["label"].get<int>()) << what << i;
      EXPECT_EQ(vocab[l.label[i]].mid, e["mid"]) << what << i;
      EXPECT_EQ(vocab[l.label[i]].display_name, e["name"]) << what << i;
      EXPECT_EQ(l.confidence[i] / 10.0, e["confidence"].get<double>()) << what << i;
      EXPECT_EQ(l.source[i], e["source"].get<int>()) << what << i;
      EXPECT_EQ(kSourceNames[l.source[i]], e["source_name"].get<std::string>()) << what << i;
    }
  }

  void ExpectExample(const ExampleData& e, uint64_t index, const nlohmann::json& j) {
    EXPECT_EQ(std::string(SplitName(e.split)), j["split"]);
    EXPECT_EQ(ImageIdHex(e.image_id), j["image_id"]);
    EXPECT_EQ(index, j["index"].get<uint64_t>());
    EXPECT_EQ(e.filename, j["filename"]);
    ExpectLabels(e.objects, sample_.vocab.all, j["objects"], "objects");
    ExpectLabels(e.objects_trainable, sample_.vocab.trainable, j["objects_trainable"],
                 "objects_trainable");
    const auto& boxes = j["bobjects"];
    ASSERT_EQ(e.bobjects.label.size(), boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i) {
      const auto& b = boxes[i];
      const uint16_t label = e.bobjects.label[i];
      EXPECT_EQ(label, b["label"].get<int>());
      EXPECT_EQ(sample_.vocab.boxable[label].mid, b["mid"]);
      EXPECT_EQ(sample_.vocab.boxable[label].display_name, b["name"]);
      EXPECT_EQ(e.bobjects.source[i], b["source"].get<int>());
      EXPECT_EQ(kSourceNames[e.bobjects.source[i]], b["source_name"].get<std::string>());
      ASSERT_EQ(4u, b["bbox"].size());
      for (int k = 0; k < 4; ++k) {
        // Printed as the shortest decimal that reads back as the float32.
        EXPECT_EQ(e.bobjects.bbox[4 * i + k], static_cast<float>(b["bbox"][k].get<double>()));
      }
      EXPECT_EQ(e.bobjects.is_occluded[i], b["is_occluded"].get<int>());
      EXPECT_EQ(e.bobjects.is_truncated[i], b["is_truncated"].get<int>());
      EXPECT_EQ(e.bobjects.is_group_of[i], b["is_group_of"].get<int>());
      EXPECT_EQ(e.bobjects.is_depiction[i], b["is_depiction"].get<int>());
      EXPECT_EQ(e.bobjects.is_inside[i], b["is_inside"].get<int>());
    }
    for (Config c : {Config::kOriginal, Config::k300k}) {
      const auto& img = sample_.images.at({c, e.split, e.image_id});
      const auto& ji = j["images"][std::string(ConfigName(c))];
      EXPECT_EQ(img.meta.width, ji["width"].get<uint32_t>());
      EXPECT_EQ(img.meta.height, ji["height"].get<uint32_t>());
      EXPECT_EQ("jpeg", ji["format"]);
      EXPECT_EQ(img.bytes.size(), ji["bytes"].get<size_t>());
    }
    EXPECT_EQ(2u, j["images"].size());
  }

  TempDir dir_;
  SampleStore sample_;
};

TEST_F(CliGetTest, JsonIsTheWrittenExample) {
  size_t checked = 0;
  for (Split split : kAllSplits) {
    const std::vector<uint64_t> ids = sample_.Ids(split);
    for (uint64_t index : {uint64_t{0}, uint64_t{ids.size() - 1}}) {
      const ExampleData& e = sample_.examples.at({split, ids[index]});
      const std::string s = " --split " + std::string(SplitName(split));
      const CommandResult by_id = Oiv4kv(Get(s + " --id " + ImageIdHex(ids[index]) + " --json"));
      ASSERT_EQ(0, by_id.exit_code) << by_id.out;
      const auto j = nlohmann::json::parse(by_id.out);
      ExpectExample(e, index, j);
      EXPECT_EQ("300k", j["config"]);
      const CommandResult by_index =
          Oiv4kv(Get(s + " --index " + std::to_string(index) + " --json"));
      ASSERT_EQ(0, by_index.exit_code) << by_index.out;
      EXPECT_EQ(j, nlohmann::json::parse(by_index.out));
      checked += !e.bobjects.label.empty() && !e.objects_trainable.label.empty();
    }
  }
  EXPECT_GT(checked, 2u) << "too few examples with boxes and trainable labels";
}

TEST_F(CliGetTest, IdsAreSixteenHexDigitsInEitherCaseOrTheFileName) {
  const uint64_t id = sample_.Ids(Split::kTest)[2];
  std::string upper = ImageIdHex(id);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  int checked = 0;
  for (const std::string& text : {upper, ImageIdHex(id) + ".jpg", upper + ".jpg"}) {
    const CommandResult r = Oiv4kv(Get("--split test --json --id " + text));
    ASSERT_EQ(0, r.exit_code) << text << ": " << r.out;
    EXPECT_EQ(ImageIdHex(id), nlohmann::json::parse(r.out)["image_id"]) << text;
    ++checked;
  }
  EXPECT_EQ(3, checked);
}

// One rule (oiv4kv/image_id.h): fewer than 16 digits is a usage error that
// says what an id is, not a lookup of a zero-padded id.
TEST_F(CliGetTest, IdsOfOtherLengthsAreRefusedWithTheRule) {
  int checked = 0;
  for (const std::string& text : {std::string("123456789abcdef"), std::string("1"),
                                  std::string("0123456789abcdef0"), std::string("0x23456789abcdef"),
                                  std::string("0123456789abcdef.JPG")}) {
    const CommandResult r = Oiv4kv(Get("--split train --id " + text), true);
    EXPECT_EQ(2, r.exit_code) << text << ": " << r.out;
    EXPECT_NE(std::string::npos,
              r.out.find("not an image id: " + text + " (" + std::to_string(text.size()) +
                         " characters; want exactly 16 hex digits, e.g. 0011d545a9314517, or "
                         "<16 hex digits>.jpg)"))
        << r.out;
    ++checked;
  }
  EXPECT_EQ(5, checked);
}

TEST_F(CliGetTest, TextShowsMidsNamesAndBoxes) {
  const std::vector<uint64_t> ids = sample_.Ids(Split::kTrain);
  for (size_t i = 0; i < ids.size(); ++i) {
    const ExampleData& e = sample_.examples.at({Split::kTrain, ids[i]});
    if (e.bobjects.label.empty() || e.objects.label.empty()) continue;
    const CommandResult r = Oiv4kv(Get("--split train --index " + std::to_string(i)));
    ASSERT_EQ(0, r.exit_code) << r.out;
    EXPECT_NE(std::string::npos, r.out.find("train/" + ImageIdHex(ids[i]))) << r.out;
    for (const VocabEntry& v :
         {sample_.vocab.all[e.objects.label[0]], sample_.vocab.boxable[e.bobjects.label[0]]}) {
      EXPECT_NE(std::string::npos, r.out.find(v.mid)) << v.mid << "\n" << r.out;
      EXPECT_NE(std::string::npos, r.out.find(v.display_name)) << v.display_name << "\n" << r.out;
    }
    EXPECT_NE(std::string::npos,
              r.out.find("bobjects (" + std::to_string(e.bobjects.label.size()) + ")"))
        << r.out;
    const auto& img = sample_.images.at({Config::k300k, Split::kTrain, ids[i]});
    EXPECT_NE(std::string::npos, r.out.find("300k " + std::to_string(img.meta.width) + "x" +
                                            std::to_string(img.meta.height)))
        << r.out;
    return;
  }
  FAIL() << "no train example with labels and boxes";
}

TEST_F(CliGetTest, ImageWritesTheStoredBytes) {
  const uint64_t id = sample_.Ids(Split::kValidation)[1];
  const std::string out = dir_.Sub("out.jpg");
  // Default: 300k, the first complete config of 300k, 200k, original.
  CommandResult r = Oiv4kv(Get("--split validation --index 1 --image " + out + " --json"));
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_EQ("300k", nlohmann::json::parse(r.out)["config"]);
  const auto& jpeg = sample_.images.at({Config::k300k, Split::kValidation, id}).bytes;
  EXPECT_EQ(std::string(jpeg.begin(), jpeg.end()), ReadFile(out));

  r = Oiv4kv(Get("--split validation --index 1 --config original --image " + out));
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto& original = sample_.images.at({Config::kOriginal, Split::kValidation, id}).bytes;
  EXPECT_EQ(std::string(original.begin(), original.end()), ReadFile(out));
}

TEST_F(CliGetTest, RgbWritesTheDecodedPixelsAsPpm) {
  const uint64_t id = sample_.Ids(Split::kTrain)[3];
  const std::string out = dir_.Sub("out.ppm");
  const CommandResult r =
      Oiv4kv(Get("--split train --id " + ImageIdHex(id) + " --config 300k --rgb " + out));
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto& img = sample_.images.at({Config::k300k, Split::kTrain, id});
  const std::string header =
      "P6\n" + std::to_string(img.meta.width) + " " + std::to_string(img.meta.height) + "\n255\n";
  const std::string ppm = ReadFile(out);
  ASSERT_EQ(header.size() + size_t{img.meta.width} * img.meta.height * 3, ppm.size());
  EXPECT_EQ(header, ppm.substr(0, header.size()));
  RgbImage expected;  // TurboJPEG, accurate IDCT: the pixels OpenCV gives
  ASSERT_OK(DecodeJpegRgb(img.bytes, &expected));
  EXPECT_TRUE(std::equal(expected.pixels.begin(), expected.pixels.end(),
                         reinterpret_cast<const uint8_t*>(ppm.data() + header.size())));
}

TEST_F(CliGetTest, ExitCodes) {
  const std::string id = ImageIdHex(sample_.Ids(Split::kTrain)[0]);
  EXPECT_EQ(0, Oiv4kv("get --help").exit_code);
  // Absent example, out-of-range index: 1, with the reason.
  CommandResult r = Oiv4kv(Get("--split train --id 0123456789abcdef"), true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("example train/0123456789abcdef is not in the store"))
      << r.out;
  r = Oiv4kv(Get("--split validation --id " + id), true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos,
            r.out.find("example validation/" + id + " is not in the store (it is in train)"))
      << r.out;
  r = Oiv4kv(Get("--split test --index 4"), true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("index 4 out of range: test has 4 examples")) << r.out;
  r = Oiv4kv(Get("--split train --index 0 --config 200k --image " + dir_.Sub("x")), true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("config 200k is not complete")) << r.out;
  r = Oiv4kv(Get("--split train --index 0 --config original --rgb " + dir_.Sub("x")), true);
  EXPECT_EQ(1, r.exit_code) << "the original images are random bytes: " << r.out;
  EXPECT_EQ(1, Oiv4kv("get " + dir_.Sub("nothing") + " --split train --index 0").exit_code);
  // Usage errors: 2.
  EXPECT_EQ(2, Oiv4kv(Get("--split train")).exit_code);  // neither --id nor --index
  EXPECT_EQ(2, Oiv4kv(Get("--split train --index 0 --id " + id)).exit_code);
  EXPECT_EQ(2, Oiv4kv(Get("--split train --id xyz")).exit_code);
  EXPECT_EQ(2, Oiv4kv(Get("--split train --id 0123456789abcdef0")).exit_code);  // 17 digits
  EXPECT_EQ(2, Oiv4kv(Get("--split train --index -1")).exit_code);
  EXPECT_EQ(2, Oiv4kv(Get("--split dev --index 0")).exit_code);
  EXPECT_EQ(2, Oiv4kv(Get("--index 0")).exit_code);  // no --split
  EXPECT_EQ(2, Oiv4kv(Get("--split train --index 0 --config 100k")).exit_code);
}

}  // namespace
}  // namespace oiv4kv
