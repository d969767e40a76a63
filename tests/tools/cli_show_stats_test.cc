// `oiv4-kv stats` and `oiv4-kv show` (issue 15), run through the binary on
// generated stores. stats is checked against counts made here from the
// generator's own record; show's PNG is read back (oiv4kv::Decoder reads
// PNG) and its pixels checked where the box of a hand-made example must be.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <iterator>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "oiv4kv/decode.h"
#include "oiv4kv/image_id.h"
#include "oiv4kv/writer.h"
#include "store/testing/sample_images.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::CommandResult;
using testing::Oiv4kv;
using testing::SampleSpec;
using testing::SampleStore;
using testing::TempDir;

// ---------------------------------------------------------------- stats

TEST(CliStats, CountsEqualTheGeneratorsRecord) {
  TempDir dir;
  SampleSpec spec;
  spec.examples = {40, 12, 0};  // no test split
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  const CommandResult r = Oiv4kv("stats --json --top 0 " + sample.path);
  ASSERT_EQ(0, r.exit_code) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["splits"].contains("test"));
  size_t checked_splits = 0, checked_classes = 0;
  for (Split split : {Split::kTrain, Split::kValidation}) {
    const std::string name(SplitName(split));
    SCOPED_TRACE(name);
    // Counted here, from the record.
    uint64_t examples = 0, boxes = 0, with_boxes = 0, positives = 0, negatives = 0;
    std::map<size_t, uint64_t> histogram;
    std::array<std::array<uint64_t, 3>, 5> flags{};  // yes, no, unknown
    std::map<int, uint64_t> box_sources;
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> per_box_class;  // images, boxes
    std::map<uint32_t, uint64_t> per_object_class_images;
    for (const auto& [key, e] : sample.examples) {
      if (key.first != split) continue;
      ++examples;
      const auto& b = e.bobjects;
      boxes += b.label.size();
      with_boxes += b.label.empty() ? 0 : 1;
      ++histogram[b.label.size()];
      std::set<uint32_t> seen;
      for (size_t i = 0; i < b.label.size(); ++i) {
        ++per_box_class[b.label[i]].second;
        if (seen.insert(b.label[i]).second) ++per_box_class[b.label[i]].first;
        ++box_sources[b.source[i]];
        const std::vector<int8_t>* f[] = {&b.is_occluded, &b.is_truncated, &b.is_group_of,
                                          &b.is_depiction, &b.is_inside};
        for (int k = 0; k < 5; ++k) {
          const int8_t v = (*f[k])[i];
          ++flags[k][v == 1 ? 0 : v == 0 ? 1 : 2];
        }
      }
      std::set<uint32_t> seen_objects;
      for (size_t i = 0; i < e.objects.label.size(); ++i) {
        if (e.objects.confidence[i] >= 5) {
          ++positives;
          if (seen_objects.insert(e.objects.label[i]).second) {
            ++per_object_class_images[e.objects.label[i]];
          }
        } else {
          ++negatives;
        }
      }
    }
    ASSERT_GT(boxes, 0u);
    ASSERT_GT(negatives, 0u);  // the generator writes verified negatives
    const auto& s = j["splits"][name];
    EXPECT_EQ(examples, j["images_per_split"][name].get<uint64_t>());
    EXPECT_EQ(examples, s["examples"].get<uint64_t>());
    EXPECT_EQ(boxes, s["boxes"].get<uint64_t>());
    EXPECT_EQ(with_boxes, s["images_with_boxes"].get<uint64_t>());
    const auto& h = s["boxes_per_image"]["histogram"];
    ASSERT_EQ(histogram.rbegin()->first + 1, h.size());
    for (size_t n = 0; n < h.size(); ++n) {
      EXPECT_EQ(histogram.count(n) ? histogram[n] : 0, h[n].get<uint64_t>()) << n;
    }
    const char* flag_names[] = {"is_occluded", "is_truncated", "is_group_of", "is_depiction",
                                "is_inside"};
    for (int k = 0; k < 5; ++k) {
      const auto& f = s["flags"][flag_names[k]];
      EXPECT_EQ(flags[k][0], f["yes"].get<uint64_t>()) << flag_names[k];
      EXPECT_EQ(flags[k][1], f["no"].get<uint64_t>()) << flag_names[k];
      EXPECT_EQ(flags[k][2], f["unknown"].get<uint64_t>()) << flag_names[k];
      EXPECT_DOUBLE_EQ(static_cast<double>(flags[k][0]) / boxes, f["share"].get<double>());
    }
    const std::array<const char*, 6> sources = {"verification", "crowdsource-verification",
                                                "machine",      "freeform",
                                                "xclick",       "activemil"};
    for (int k = 0; k < 6; ++k) {
      EXPECT_EQ(box_sources.count(k) ? box_sources[k] : 0,
                s["box_sources"][sources[k]]["count"].get<uint64_t>())
          << sources[k];
    }
    EXPECT_EQ(positives, s["image_labels"]["positive"].get<uint64_t>());
    EXPECT_EQ(negatives, s["image_labels"]["negative"].get<uint64_t>());
    // --top 0: every class with a box, each with its images and boxes.
    const auto& top = s["classes"]["boxable"]["top"];
    ASSERT_EQ(per_box_class.size(), top.size());
    EXPECT_EQ(per_box_class.size(), s["classes"]["boxable"]["with_boxes"].get<size_t>());
    uint64_t previous = UINT64_MAX;
    for (const auto& c : top) {
      const uint32_t label = c["label"].get<uint32_t>();
      ASSERT_TRUE(per_box_class.count(label)) << label;
      EXPECT_EQ(per_box_class[label].first, c["images"].get<uint64_t>()) << label;
      EXPECT_EQ(per_box_class[label].second, c["boxes"].get<uint64_t>()) << label;
      EXPECT_EQ(sample.vocab.boxable[label].display_name, c["name"].get<std::string>());
      EXPECT_LE(c["boxes"].get<uint64_t>(), previous);  // most boxes first
      previous = c["boxes"].get<uint64_t>();
      ++checked_classes;
    }
    const auto& objects_top = s["classes"]["all"]["top"];
    ASSERT_EQ(per_object_class_images.size(), objects_top.size());
    for (const auto& c : objects_top) {
      EXPECT_EQ(per_object_class_images[c["label"].get<uint32_t>()], c["images"].get<uint64_t>());
      ++checked_classes;
    }
    ++checked_splits;
  }
  EXPECT_EQ(2u, checked_splits);
  EXPECT_GT(checked_classes, 20u);

  // --top limits the lists; a split the store does not hold is an error.
  const auto top3 = nlohmann::json::parse(Oiv4kv("stats --json --top 3 --split train " +
                                                 sample.path).out);
  EXPECT_EQ(3u, top3["splits"]["train"]["classes"]["boxable"]["top"].size());
  EXPECT_EQ(1u, top3["splits"].size());
  const CommandResult missing = Oiv4kv("stats --split test " + sample.path, true);
  EXPECT_EQ(1, missing.exit_code);
  EXPECT_NE(std::string::npos, missing.out.find("holds no test split")) << missing.out;
  const CommandResult text = Oiv4kv("stats --split validation " + sample.path);
  EXPECT_EQ(0, text.exit_code);
  EXPECT_NE(std::string::npos, text.out.find("boxes per image")) << text.out;
}

// ---------------------------------------------------------------- show

// The 20 class colours as documented (tools/render.h, README "Looking at
// examples"): matplotlib's tab10 then the dark half of tab20b/tab20c.
constexpr std::array<std::array<uint8_t, 3>, 20> kPalette = {{
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0xbc, 0xbd, 0x22},
    {0x17, 0xbe, 0xcf}, {0x39, 0x3b, 0x79}, {0x63, 0x79, 0x39}, {0x8c, 0x6d, 0x31},
    {0x84, 0x3c, 0x39}, {0x7b, 0x41, 0x73}, {0x31, 0x82, 0xbd}, {0xe6, 0x55, 0x0d},
    {0x31, 0xa3, 0x54}, {0x75, 0x6b, 0xb1}, {0xe7, 0x29, 0x8a}, {0x66, 0xa6, 0x1e}}};

// The layout `show` documents: margin 8, caption 4 lines of 15 px + 4.
constexpr int kMargin = 8;
int CellW(int size) { return size + 2 * kMargin; }
int CellH(int size) { return kMargin + size + 4 + 4 * 15 + kMargin; }

struct Png {
  DecodedImage img;
  std::array<uint8_t, 3> At(int x, int y) const {
    const uint8_t* p = img.pixels.data() + (static_cast<size_t>(y) * img.width + x) * 3;
    return {p[0], p[1], p[2]};
  }
};

Status ReadPng(const std::string& path, Png* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::IOError("cannot open " + path);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
  Decoder decoder;
  return decoder.Decode(bytes, DecodeOptions(), &out->img);
}

// One validation example, its annotations the generator's with only its
// first box kept and placed at a known spot, on a uniform grey 200x100 JPEG.
struct OneBoxStore {
  std::string path;
  ExampleData example;
};

Status WriteOneBoxStore(const std::string& path, OneBoxStore* out) {
  SampleExampleGenerator gen(3);
  std::unique_ptr<Writer> writer;
  OIV4KV_RETURN_IF_ERROR(Writer::Open(path, WriterOptions(), &writer));
  const SampleVocabularies& v = gen.vocabularies();
  OIV4KV_RETURN_IF_ERROR(testing::PutSampleVocabularies(writer.get(), v));
  OIV4KV_RETURN_IF_ERROR(writer->BeginConfig(Config::kOriginal));
  ExampleData e;
  for (uint64_t id = 1; e.bobjects.label.empty(); ++id) e = gen.Next(Split::kValidation, id);
  auto keep_first = [](auto* v) { v->resize(1); };
  ExampleData::Boxes& b = e.bobjects;
  keep_first(&b.label), keep_first(&b.source), keep_first(&b.is_occluded);
  keep_first(&b.is_truncated), keep_first(&b.is_group_of), keep_first(&b.is_depiction);
  keep_first(&b.is_inside);
  b.bbox = {0.25f, 0.2f, 0.75f, 0.6f};  // ymin, xmin, ymax, xmax: x 40..120, y 25..75 px
  Batch batch;
  OIV4KV_RETURN_IF_ERROR(batch.AddExample(e));
  synth::RgbImage grey{200, 100, std::vector<uint8_t>(200 * 100 * 3, 128)};
  std::vector<uint8_t> jpeg;
  OIV4KV_RETURN_IF_ERROR(EncodeJpeg(grey, JpegSpec{}, &jpeg));
  OIV4KV_RETURN_IF_ERROR(batch.AddImage(Config::kOriginal, e.split, e.image_id, jpeg,
                                        {200, 100, ImageFormat::kJpeg}));
  OIV4KV_RETURN_IF_ERROR(writer->Write(batch));
  const Split splits[] = {Split::kValidation};
  OIV4KV_RETURN_IF_ERROR(writer->CommitAnnotations(LabelOrder::kTfds, splits));
  OIV4KV_RETURN_IF_ERROR(writer->CommitConfig(Config::kOriginal));
  out->path = path;
  out->example = std::move(e);
  return Status::OK();
}

bool Near(std::array<uint8_t, 3> a, std::array<uint8_t, 3> b, int tolerance = 2) {
  for (int k = 0; k < 3; ++k) {
    if (std::abs(int{a[k]} - int{b[k]}) > tolerance) return false;
  }
  return true;
}

TEST(CliShow, BoxEdgesAreDrawnInTheClassColourWhereTheBoxIs) {
  TempDir dir;
  OneBoxStore s;
  ASSERT_OK(WriteOneBoxStore(dir.Sub("s"), &s));
  const std::string png = dir.Sub("one.png");
  const CommandResult r =
      Oiv4kv("show " + s.path + " --split validation --index 0 --size 200 --out " + png, true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  Png p;
  ASSERT_OK(ReadPng(png, &p));
  ASSERT_EQ(CellW(200), static_cast<int>(p.img.width));
  ASSERT_EQ(CellH(200), static_cast<int>(p.img.height));
  const auto colour = kPalette[s.example.bobjects.label[0] % 20];
  const std::array<uint8_t, 3> grey = {128, 128, 128};
  // The picture (scale 1) at (8, 8); the box at x 40..120, y 25..75 of it,
  // its edges 2 px wide centred there: columns 47,48 and 127,128, rows 32,33
  // and 82,83 of the PNG.
  const int x0 = kMargin + 40, x1 = kMargin + 120, y0 = kMargin + 25, y1 = kMargin + 75;
  size_t checked = 0;
  for (int y = y0 + 4; y <= y1 - 4; ++y) {
    for (int x : {x0 - 1, x0, x1 - 1, x1}) {
      EXPECT_TRUE(Near(colour, p.At(x, y))) << x << "," << y;
      ++checked;
    }
  }
  for (int x = x0 + 4; x <= x1 - 4; ++x) {
    for (int y : {y0, y1 - 1, y1}) {  // row y0 - 1 may carry the label's tag above
      EXPECT_TRUE(Near(colour, p.At(x, y))) << x << "," << y;
      ++checked;
    }
  }
  // Well inside the box and outside it (right of it, below it): the image.
  for (int y = y0 + 5; y <= y1 - 5; y += 5) {
    for (int x : {x0 + 5, (x0 + x1) / 2, x1 - 5, x1 + 6, kMargin + 195}) {
      EXPECT_TRUE(Near(grey, p.At(x, y))) << x << "," << y;
      ++checked;
    }
  }
  for (int x = x0 + 5; x <= x1 - 5; x += 5) {
    EXPECT_TRUE(Near(grey, p.At(x, y1 + 6))) << x;
    ++checked;
  }
  // Outside the image: the white page.
  EXPECT_TRUE(Near({255, 255, 255}, p.At(2, 2)));
  EXPECT_TRUE(Near({255, 255, 255}, p.At(kMargin + 100, kMargin + 150)));
  EXPECT_EQ(4u * 43 + 3u * 73 + 5u * 9 + 15u, checked);
}

TEST(CliShow, GridHoldsThePicturesRowByRow) {
  TempDir dir;
  SampleSpec spec;
  spec.examples = {10, 6, 0};
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample));
  const std::string png = dir.Sub("grid.png");
  const CommandResult r = Oiv4kv("show " + sample.path +
                                     " --split train --config 300k --index 0,1,2,3,4 --grid 3x2 "
                                     "--size 64 --out " + png,
                                 true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("5 examples of train (300k) in a 3x2 grid")) << r.out;
  Png p;
  ASSERT_OK(ReadPng(png, &p));
  ASSERT_EQ(3 * CellW(64), static_cast<int>(p.img.width));
  ASSERT_EQ(2 * CellH(64), static_cast<int>(p.img.height));
  // Cells 0..4 hold a picture (their top-left image pixel is not the white
  // page... the synthetic images are never pure white there), cell 5 is empty.
  const std::vector<uint64_t> ids = sample.Ids(Split::kTrain);
  size_t checked = 0;
  for (int cell = 0; cell < 6; ++cell) {
    const int cx = (cell % 3) * CellW(64), cy = (cell / 3) * CellH(64);
    int non_white = 0;
    for (int y = cy; y < cy + CellH(64); ++y) {
      for (int x = cx; x < cx + CellW(64); ++x) non_white += p.At(x, y) != std::array<uint8_t, 3>{255, 255, 255};
    }
    if (cell < 5) {
      // The image's own size, scaled so its longer side is 64.
      const auto& meta = sample.images.at({Config::k300k, Split::kTrain, ids[cell]}).meta;
      const int w = static_cast<int>(meta.width * 64.0 / std::max(meta.width, meta.height));
      EXPECT_GT(non_white, w * 10) << cell;
    } else {
      EXPECT_EQ(0, non_white) << cell;
    }
    ++checked;
  }
  EXPECT_EQ(6u, checked);

  // No --grid: ceil(sqrt(5)) = 3 columns, 2 rows, the same size.
  const CommandResult d = Oiv4kv("show " + sample.path +
                                 " --split train --index 0,1,2,3,4 --size 64 --out " + png);
  ASSERT_EQ(0, d.exit_code);
  EXPECT_NE(std::string::npos, d.out.find("in a 3x2 grid, 240x288 px")) << d.out;
}

// --query draws the examples the query selects, in split order, at most
// --limit: the expected ones are counted from the generator's record.
TEST(CliShow, QueryDrawsTheSelectedExamples) {
  TempDir dir;
  SampleSpec spec;
  spec.examples = {12, 4, 0};
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample));
  std::map<uint32_t, uint64_t> images_with;  // boxable label -> train examples with a box of it
  for (const auto& [key, e] : sample.examples) {
    if (key.first != Split::kTrain) continue;
    for (uint32_t label : std::set<uint32_t>(e.bobjects.label.begin(), e.bobjects.label.end())) {
      ++images_with[label];
    }
  }
  ASSERT_FALSE(images_with.empty());
  // The label on most train examples, so --limit has something to cut.
  const auto most = std::max_element(images_with.begin(), images_with.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; });
  const std::string query = " --query 'box:#" + std::to_string(most->first) + "'";
  const std::string common = "show " + sample.path + " --split train --config 300k --size 64";
  CommandResult r = Oiv4kv(common + query + " --limit 100 --out " + dir.Sub("all.png"), true);
  ASSERT_EQ(0, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos,
            r.out.find(std::to_string(most->second) + " example" +
                       (most->second == 1 ? "" : "s") + " of train (300k)"))
      << r.out;
  if (most->second > 1) {
    r = Oiv4kv(common + query + " --limit 1 --out " + dir.Sub("one.png"), true);
    ASSERT_EQ(0, r.exit_code) << r.out;
    EXPECT_NE(std::string::npos, r.out.find("1 example")) << r.out;
  }
  r = Oiv4kv(common + " --query 'box:NoSuchClassAtAll' --out " + dir.Sub("x.png"), true);
  EXPECT_EQ(1, r.exit_code) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("NoSuchClassAtAll")) << r.out;
}

TEST(CliShow, ErrorsSayWhatIsWrong) {
  TempDir dir;
  SampleSpec spec;
  spec.examples = {4, 2, 0};
  SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("s"), spec, &sample));
  ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample));
  const std::string out = " --out " + dir.Sub("x.png");
  CommandResult r = Oiv4kv("show " + sample.path + " --split train --index 0,1,2 --grid 2x1" + out, true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("a 2x1 grid holds 2 pictures, not 3")) << r.out;
  r = Oiv4kv("show " + sample.path + " --split train --index 0 --grid 2by1" + out, true);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("COLUMNSxROWS")) << r.out;
  r = Oiv4kv("show " + sample.path + " --split train --index 9" + out, true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("index 9 is out of range: split train has 4")) << r.out;
  const std::string other = ImageIdHex(sample.Ids(Split::kValidation)[0]);
  r = Oiv4kv("show " + sample.path + " --split train --id " + other + out, true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("is not in the store (it is in validation)")) << r.out;
  r = Oiv4kv("show " + sample.path + " --split train --index 0 --config 200k" + out, true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("no complete 200k config")) << r.out;
  r = Oiv4kv("show " + sample.path + " --split train --index 0 --out " + dir.Sub("no/such/dir.png"),
             true);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.out.find("cannot write")) << r.out;
  EXPECT_EQ(2, Oiv4kv("show " + sample.path + " --split train" + out).exit_code);  // no example
}

}  // namespace
}  // namespace oiv4kv
