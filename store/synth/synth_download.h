// Synthetic Open Images V4 downloads: small trees laid out exactly like the
// official download (docs/SPEC.md, "Source files"), with natural-looking JPEGs,
// annotation CSVs with the real train split's statistics, the awkward inputs
// a real crawl contains, and a record of everything written, which tests use
// as their expected values.
//
// Thread safety: WriteSynthDownload may run concurrently on distinct
// out_dirs; a SynthRecord is plain data.
//
//   oiv4kv::SynthOptions options;
//   options.images = 300;
//   options.max_side = 96;
//   oiv4kv::SynthRecord record;
//   oiv4kv::Status s = oiv4kv::WriteSynthDownload("/tmp/dl", options, &record);
//   // record.expected_tfds[{Split::kTrain, id}]: what tfds.load gives for id
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"
#include "oiv4kv/writer.h"

namespace oiv4kv {

// What a generated .jpg member holds.
enum class SynthKind : uint8_t {
  kNormal,       // baseline JPEG, 4:2:0, quality 85..97 (some with an EXIF
                 // block whose orientation is 1)
  kGray,         // 1-component JPEG
  kCmyk,         // 4-component JPEG, Adobe APP14, inverted (Photoshop) CMYK
  kProgressive,  // progressive JPEG, 4:2:0
  kExifRotated,  // APP1 Exif with orientation 2..8, no JFIF APP0
  kChroma444,    // baseline JPEG, 4:4:4
  kTruncated,    // a JPEG cut at a random point inside its entropy-coded data
  kPngNamedJpg,  // a PNG (RGB, 8 bit) under a .jpg name
  kNotAnImage,   // an HTML error page, an empty file, or random bytes
  kHugeHeader,   // a small JPEG whose SOF claims 60000 x 60000
};
inline constexpr int kNumSynthKinds = 10;
std::string_view SynthKindName(SynthKind kind);  // "normal", "gray", ...

struct SynthOptions {
  // Images over the three splits: ~90% train, 5% validation, 5% test, each
  // at least 1. REQUIRES: >= 3. Default: 200.
  size_t images = 200;

  // Everything written is a function of the options (byte-identical files
  // for the same options, whatever `threads`). Default: 1.
  uint64_t seed = 1;

  // Add a few images of each awkward SynthKind (in train max(1, n/250) of
  // each, in validation and test n/250 of each with at least 1 once the
  // split has 40 images; n = the split's images) and bad members: each tar archive
  // starts with its directory entry (as `tar czf` writes it); train gets a
  // duplicate id, validation a non-.jpg name, test a directory named like a
  // .jpg and a symlink. Default: true.
  bool awkward = true;

  // kTarGz: train_0.tar.gz ... train_f.tar.gz, validation.tar.gz,
  // test.tar.gz as in the download; kTar: the same without gzip;
  // kDirectories: the folders those archives extract to (train_0/, ...,
  // validation/, test/). Default: kTarGz.
  enum class Archives { kTarGz, kTar, kDirectories } archives = Archives::kTarGz;

  // Each split's CSVs and archives in a train/, validation/ or test/
  // subfolder instead of out_dir itself (class lists stay in out_dir).
  // Default: false.
  bool split_subdirs = false;

  // Annotation rows sorted by ImageID like the real download; false:
  // shuffled. The rows themselves are the same either way. Default: true.
  bool sorted_csv = true;

  // Longest side of generated images (~85% have exactly this; tests use
  // small values such as 96 for speed). REQUIRES: >= 16. Default: 1024.
  uint32_t max_side = 1024;

  // Keep every member's bytes in SynthImage::bytes. Off by default so large
  // runs keep only metadata in memory. Default: false.
  bool keep_bytes = false;

  // Threads that generate and encode images (0: one per core, at most 16).
  // Default: 0.
  int threads = 0;

  // Called after each chunk of images is written, from the calling thread.
  // Default: none.
  std::function<void(size_t images_done, size_t images_total)> progress;
};

// One .jpg member with a valid id (awkward ones included).
struct SynthImage {
  Split split = Split::kTrain;
  uint64_t image_id = 0;
  // Path relative to out_dir of the archive ("train_3.tar.gz",
  // "train/train_3.tar.gz" with split_subdirs) or, for kDirectories, of the
  // folder ("train_3", "train/train_3").
  std::string archive;
  // The member's name in the archive, "train_3/3a0f...e1.jpg"; for
  // kDirectories the file's path relative to the folder's parent.
  std::string member;
  SynthKind kind = SynthKind::kNormal;
  uint32_t width = 0, height = 0;  // as encoded (SOF / IHDR); 0 for kNotAnImage
  int exif_orientation = 1;        // 1..8; 5..8 swap the decoded width/height
  int quality = 0;                 // JPEG quality used (0 for non-JPEG kinds)
  uint64_t size = 0;               // bytes of the member
  std::vector<uint8_t> bytes;      // the member's bytes when keep_bytes
};

// The class lists as written: the download's files and TFDS's lists (same
// MID sets; boxable differs by the swapped /m/09f20 and /m/09f_2, trainable
// in another order). Trainable and boxable entries carry the display name
// of class-descriptions.csv.
struct SynthVocabularies {
  std::vector<VocabEntry> download_all, download_trainable, download_boxable;
  std::vector<VocabEntry> tfds_all, tfds_trainable, tfds_boxable;
};

struct SynthRecord {
  // Every .jpg member with a valid id, in the order written (archive by
  // archive, member order inside; members are shuffled within an archive).
  std::vector<SynthImage> images;
  // Members a converter must reject, as "archive:member": directory and
  // symlink entries, a non-.jpg name, and the second copy of a duplicated
  // train id. Of two members with one id, the one whose archive matches the
  // id's leading hex digit is the image; the other is listed here.
  std::vector<std::string> bad_members;
  // Per image: the features TFDS gives, labels numbered by the download's
  // files (class-descriptions.csv, classes-trainable.txt,
  // class-descriptions-boxable.csv).
  std::map<std::pair<Split, uint64_t>, ExampleData> expected_download;
  // The same, labels numbered by <out_dir>/tfds_lists/ (ids equal TFDS's).
  std::map<std::pair<Split, uint64_t>, ExampleData> expected_tfds;
  // Annotation rows (all three CSVs of the split) whose ImageID has no image.
  std::array<uint64_t, kNumSplits> orphan_rows{};
  // Images per split and per kind.
  std::array<uint64_t, kNumSplits> num_images{};
  std::array<uint64_t, kNumSynthKinds> num_kind{};
  SynthVocabularies vocab;
  uint64_t bytes_written = 0;  // all files written
};

// Writes a synthetic download into `out_dir` (created if missing) and fills
// `*record`. InvalidArgument for bad options or an out_dir that exists and
// is not empty; IOError naming the file when writing fails.
Status WriteSynthDownload(const std::string& out_dir, const SynthOptions& options,
                          SynthRecord* record);

}  // namespace oiv4kv
