#include "store/synth/synth_download.h"

#include <algorithm>
#include <filesystem>
#include <random>

#include "store/core/format/keys.h"
#include "store/synth/synth_annotations.h"
#include "store/synth/synth_archives.h"
#include "store/synth/synth_plan.h"
#include "store/synth/synth_vocab.h"
#include "store/synth/text_file.h"

namespace oiv4kv {

std::string_view SynthKindName(SynthKind kind) {
  switch (kind) {
    case SynthKind::kNormal:
      return "normal";
    case SynthKind::kGray:
      return "gray";
    case SynthKind::kCmyk:
      return "cmyk";
    case SynthKind::kProgressive:
      return "progressive";
    case SynthKind::kExifRotated:
      return "exif-rotated";
    case SynthKind::kChroma444:
      return "chroma-444";
    case SynthKind::kTruncated:
      return "truncated";
    case SynthKind::kPngNamedJpg:
      return "png-named-jpg";
    case SynthKind::kNotAnImage:
      return "not-an-image";
    case SynthKind::kHugeHeader:
      return "huge-header";
  }
  return "unknown";
}

namespace {

using synth::PlannedImage;
using synth::PlannedSplit;
namespace fs = std::filesystem;

Status EnsureEmptyDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Status::InvalidArgument(dir + ": not a directory");
    if (!fs::is_empty(dir, ec)) {
      return Status::InvalidArgument(dir + ": exists and is not empty");
    }
    return Status::OK();
  }
  fs::create_directories(dir, ec);
  return ec ? Status::IOError(dir + ": " + ec.message()) : Status::OK();
}

Status WriteClassFiles(const std::string& out_dir) {
  const SynthVocabularies& v = synth::GetSynthClasses().lists;
  auto descriptions = [](const std::string& path, const std::vector<VocabEntry>& list) {
    synth::TextFile f(path);
    for (const VocabEntry& e : list) {
      f << e.mid << "," << synth::CsvField(e.display_name) << "\n";
    }
    return f.Close();
  };
  auto mids = [](const std::string& path, const std::vector<VocabEntry>& list) {
    synth::TextFile f(path);
    for (const VocabEntry& e : list) f << e.mid << "\n";
    return f.Close();
  };
  OIV4KV_RETURN_IF_ERROR(descriptions(out_dir + "/class-descriptions.csv", v.download_all));
  OIV4KV_RETURN_IF_ERROR(
      descriptions(out_dir + "/class-descriptions-boxable.csv", v.download_boxable));
  OIV4KV_RETURN_IF_ERROR(mids(out_dir + "/classes-trainable.txt", v.download_trainable));
  const std::string lists = out_dir + "/tfds_lists";
  std::error_code ec;
  fs::create_directories(lists, ec);
  if (ec) return Status::IOError(lists + ": " + ec.message());
  OIV4KV_RETURN_IF_ERROR(mids(lists + "/open_images_classes_all.txt", v.tfds_all));
  OIV4KV_RETURN_IF_ERROR(mids(lists + "/open_images_classes_trainable.txt", v.tfds_trainable));
  return mids(lists + "/open_images_classes_boxable.txt", v.tfds_boxable);
}

Status WriteAnnotations(const SynthOptions& o, std::vector<PlannedSplit>* splits,
                        SynthRecord* record) {
  synth::AnnotationGenerator gen(synth::StreamSeed(o.seed, synth::kAnnotationStream));
  std::mt19937_64 order_rng(synth::StreamSeed(o.seed, synth::kOrderStream));
  for (PlannedSplit& p : *splits) {
    for (const PlannedImage& img : p.images) {
      ExampleData e;
      e.split = p.split;
      e.image_id = img.id;
      e.filename = ImageIdHex(img.id) + ".jpg";
      record->expected_download[{p.split, img.id}] = e;
      record->expected_tfds[{p.split, img.id}] = std::move(e);
    }
    // Rows in ascending id order (images and orphans merged) are the
    // download's sorted order.
    std::vector<uint64_t> annotated;
    for (const PlannedImage& img : p.images) {
      if (!p.unannotated.count(img.id)) annotated.push_back(img.id);
    }
    annotated.insert(annotated.end(), p.orphan_ids.begin(), p.orphan_ids.end());
    std::sort(annotated.begin(), annotated.end());
    synth::SplitRows rows;
    for (uint64_t id : annotated) gen.AddImage(id, &rows);
    if (!o.sorted_csv) {
      std::shuffle(rows.human.begin(), rows.human.end(), order_rng);
      std::shuffle(rows.machine.begin(), rows.machine.end(), order_rng);
      std::shuffle(rows.boxes.begin(), rows.boxes.end(), order_rng);
    }
    OIV4KV_RETURN_IF_ERROR(synth::WriteSplitCsvs(p.dir, p.split, rows, &record->expected_download,
                                                 &record->expected_tfds,
                                                 &record->orphan_rows[static_cast<int>(p.split)]));
  }
  return Status::OK();
}

uint64_t BytesUnder(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace

Status WriteSynthDownload(const std::string& out_dir, const SynthOptions& options,
                          SynthRecord* record) {
  if (options.images < 3) {
    return Status::InvalidArgument("synth: images must be at least 3 (one per split)");
  }
  if (options.max_side < 16) return Status::InvalidArgument("synth: max_side must be >= 16");
  *record = SynthRecord();
  OIV4KV_RETURN_IF_ERROR(EnsureEmptyDir(out_dir));
  record->vocab = synth::GetSynthClasses().lists;
  OIV4KV_RETURN_IF_ERROR(WriteClassFiles(out_dir));

  std::vector<synth::PlannedSplit> splits = synth::PlanDownload(options, out_dir);
  if (options.split_subdirs) {
    for (const synth::PlannedSplit& p : splits) OIV4KV_RETURN_IF_ERROR(EnsureEmptyDir(p.dir));
  }
  OIV4KV_RETURN_IF_ERROR(WriteAnnotations(options, &splits, record));
  OIV4KV_RETURN_IF_ERROR(synth::WriteArchives(options, splits, options.images, record));
  record->bytes_written = BytesUnder(out_dir);
  return Status::OK();
}

}  // namespace oiv4kv
