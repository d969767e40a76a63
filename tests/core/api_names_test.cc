// The public API's text rules, checked against values written by hand:
// image ids (oiv4kv/image_id.h), the name/parse/list helpers of every public
// enum, and the default config (Store::DefaultConfig) the CLI and Python share.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/decode.h"
#include "oiv4kv/image_id.h"
#include "oiv4kv/loader.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/scan.h"
#include "oiv4kv/store.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using Strings = std::vector<std::string>;

TEST(ImageId, FormatsSixteenLowerCaseDigits) {
  EXPECT_EQ("0011d545a9314517", ImageIdHex(0x0011d545a9314517ULL));
  EXPECT_EQ("0000000000000000", ImageIdHex(0));
  EXPECT_EQ("0000000000000001", ImageIdHex(1));
  EXPECT_EQ("ffffffffffffffff", ImageIdHex(~uint64_t{0}));
  EXPECT_EQ("fedcba9876543210.jpg", ImageFileName(0xfedcba9876543210ULL));
  EXPECT_EQ("validation/000002b66c9c498e", ExampleName(Split::kValidation, 0x000002b66c9c498eULL));
}

TEST(ImageId, ParsesExactlySixteenHexDigitsEitherCase) {
  struct Case {
    const char* text;
    uint64_t id;
  };
  const Case cases[] = {
      {"0011d545a9314517", 0x0011d545a9314517ULL},
      {"0011D545A9314517", 0x0011d545a9314517ULL},
      {"0011d545A9314517", 0x0011d545a9314517ULL},
      {"0000000000000000", 0},
      {"ffffffffffffffff", ~uint64_t{0}},
      {"FEDCBA9876543210", 0xfedcba9876543210ULL},
  };
  int checked = 0;
  for (const Case& c : cases) {
    EXPECT_EQ(std::optional<uint64_t>(c.id), ParseImageIdHex(c.text)) << c.text;
    EXPECT_EQ(std::optional<uint64_t>(c.id), ParseImageId(c.text)) << c.text;
    EXPECT_EQ(std::optional<uint64_t>(c.id), ParseImageId(std::string(c.text) + ".jpg")) << c.text;
    ++checked;
  }
  EXPECT_EQ(6, checked);
}

TEST(ImageId, RefusesEverythingElse) {
  const char* refused[] = {
      "",
      "0",
      "011d545a9314517",      // 15 digits
      "00011d545a9314517",    // 17 digits
      "0x11d545a9314517",     // 0x prefix
      "+011d545a9314517",     // sign
      "-011d545a9314517",
      " 011d545a9314517",     // space
      "0011d545a931451 ",
      "0011d545a931451g",     // not hex
      "0011d545a9314517\n",
      "0011d545a9314517.JPG",  // the suffix is lower case
      "0011d545a9314517.jpeg",
      "0011d545a9314517.png",
      "011d545a9314517.jpg",  // 15 digits + .jpg
      ".jpg",
      "train/0011d545a9314517",
  };
  int checked = 0;
  for (const char* text : refused) {
    EXPECT_EQ(std::nullopt, ParseImageId(text)) << '"' << text << '"';
    EXPECT_EQ(std::nullopt, ParseImageIdHex(text)) << '"' << text << '"';
    ++checked;
  }
  EXPECT_EQ(17, checked);
  // The hex-only parser takes no file name.
  EXPECT_EQ(std::nullopt, ParseImageIdHex("0011d545a9314517.jpg"));
  // std::string_view without a terminating NUL: only the view's characters count.
  const std::string longer = "0011d545a93145178";
  EXPECT_EQ(std::optional<uint64_t>(0x0011d545a9314517ULL),
            ParseImageIdHex(std::string_view(longer).substr(0, 16)));
}

// Each enum: its names in kAll order, every name parses back to its value, and
// near misses do not parse.
template <typename Enum, size_t N>
void ExpectNames(const std::array<Enum, N>& all, std::string_view (*name)(Enum),
                 std::optional<Enum> (*parse)(std::string_view), const Strings& names,
                 const Strings& want) {
  ASSERT_EQ(want, names);
  ASSERT_EQ(N, want.size());
  for (size_t i = 0; i < N; ++i) {
    EXPECT_EQ(want[i], name(all[i]));
    EXPECT_EQ(std::optional<Enum>(all[i]), parse(want[i])) << want[i];
    std::string upper = want[i];
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper != want[i]) {
      EXPECT_EQ(std::nullopt, parse(upper)) << upper;
    }
    EXPECT_EQ(std::nullopt, parse(want[i] + " ")) << want[i];
  }
  EXPECT_EQ(std::nullopt, parse(""));
  EXPECT_EQ(std::nullopt, parse("?"));
}

TEST(EnumNames, EveryPublicEnumHasNamesParsersAndLists) {
  ExpectNames(kAllSplits, &SplitName, &ParseSplit, SplitNames(),
              {"train", "validation", "test"});
  ExpectNames(kAllConfigs, &ConfigName, &ParseConfig, ConfigNames(),
              {"original", "300k", "200k"});
  ExpectNames(kAllVocabKinds, &VocabKindName, &ParseVocabKind, VocabKindNames(),
              {"all", "trainable", "boxable", "source"});
  ExpectNames(kAllLabelOrders, &LabelOrderName, &ParseLabelOrder, LabelOrderNames(),
              {"download", "tfds"});
  ExpectNames(kAllImageFormats, &ImageFormatName, &ParseImageFormat, ImageFormatNames(),
              {"unknown", "jpeg", "png"});
  ExpectNames(kAllScanOrders, &ScanOrderName, &ParseScanOrder, ScanOrderNames(),
              {"sequential", "shuffled", "block_shuffled"});
  ExpectNames(kAllPixelFormats, &PixelFormatName, &ParsePixelFormat, PixelFormatNames(),
              {"rgb", "bgr", "gray"});
  ExpectNames(kAllTruncatedPolicies, &TruncatedPolicyName, &ParseTruncatedPolicy,
              TruncatedPolicyNames(), {"error", "warn"});
  ExpectNames(kAllErrorPolicies, &ErrorPolicyName, &ParseErrorPolicy, ErrorPolicyNames(),
              {"fail", "skip"});
  ExpectNames(kAllTransformKinds, &TransformKindName, &ParseTransformKind, TransformKindNames(),
              {"random_resized_crop", "center_crop", "resize", "letterbox"});
  ExpectNames(kAllImageLayouts, &ImageLayoutName, &ParseImageLayout, ImageLayoutNames(),
              {"hwc", "chw"});
  ExpectNames(kAllImageDTypes, &ImageDTypeName, &ParseImageDType, ImageDTypeNames(),
              {"uint8", "float32", "float16"});
  ExpectNames(kAllBadImagePolicies, &BadImagePolicyName, &ParseBadImagePolicy,
              BadImagePolicyNames(), {"error", "skip"});
  ExpectNames(kAllRemainders, &RemainderName, &ParseRemainder, RemainderNames(),
              {"pad", "drop"});
}

TEST(EnumNames, JoinNamesForMessages) {
  EXPECT_EQ("train, validation or test", JoinNames(SplitNames()));
  EXPECT_EQ("'error' or 'warn'", JoinNames(TruncatedPolicyNames(), true));
  EXPECT_EQ("a", JoinNames({"a"}));
  EXPECT_EQ("", JoinNames({}));
}

// A store with original and 300k: the default is 300k (the rule's order is
// 300k, 200k, original), whatever order kAllConfigs lists them in. The CLI
// (cli_get_test, cli_bench_test) and Python (test_store.py) check that they
// pick the same on such a store.
TEST(DefaultConfig, FirstCompleteOf300k200kOriginal) {
  EXPECT_EQ((std::array<Config, 3>{Config::k300k, Config::k200k, Config::kOriginal}),
            kDefaultConfigOrder);
  testing::TempDir dir;
  testing::SampleSpec spec;
  spec.examples = {4, 2, 2};
  testing::SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("store"), spec, &sample));
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  EXPECT_EQ(std::optional<Config>(Config::kOriginal), store->DefaultConfig());  // the only one
  store.reset();

  ASSERT_OK(testing::AddJpegConfig(Config::k300k, &sample));
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  ASSERT_EQ((std::vector<Config>{Config::kOriginal, Config::k300k}), store->Configs());
  EXPECT_EQ(std::optional<Config>(Config::k300k), store->DefaultConfig());
}

TEST(DefaultConfig, NoneWithoutACompleteConfig) {
  testing::TempDir dir;
  testing::SampleSpec spec;
  spec.examples = {3, 1, 1};
  spec.configs = {};
  testing::SampleStore sample;
  ASSERT_OK(testing::WriteSampleStore(dir.Sub("store"), spec, &sample));
  std::unique_ptr<Store> store;
  ASSERT_OK(Store::Open(sample.path, StoreOptions(), &store));
  ASSERT_TRUE(store->Configs().empty());
  EXPECT_EQ(std::nullopt, store->DefaultConfig());
}

}  // namespace
}  // namespace oiv4kv
