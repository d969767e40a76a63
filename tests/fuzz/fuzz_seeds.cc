// Writes the seed corpora of the fuzz targets (README.md) from the project's
// generators: a synthetic download (store/synth: its CSVs, class lists,
// member names and images of every kind), annotation records from the sample
// generator, and the values, scan positions and loader states of a small
// store (fuzz_store.h). Each seed starts with the option bytes its target
// reads first. scripts/fuzz_seeds.sh runs it:
//   fuzz_seeds <corpus dir>   (writes <corpus dir>/<target>_fuzz/<name>)
#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "oiv4kv/image_id.h"
#include "oiv4kv/scan.h"
#include "store/core/format/records.h"
#include "store/synth/synth_download.h"
#include "store/synth/synth_vocab.h"
#include "tests/fuzz/fuzz_store.h"

namespace fs = std::filesystem;
using namespace oiv4kv;

namespace {

std::string g_root;

void Put(const std::string& target, const std::string& name, std::string_view prefix,
         std::string_view bytes) {
  const fs::path dir = fs::path(g_root) / (target + "_fuzz");
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out << prefix << bytes;
  if (!out) {
    std::cerr << "fuzz_seeds: cannot write " << (dir / name) << "\n";
    std::exit(1);
  }
}

std::string AsText(std::span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first whole lines of a file, about `max` bytes.
std::string Head(const fs::path& p, size_t max) {
  const std::string text = ReadFile(p);
  if (text.size() <= max) return text;
  const size_t cut = text.rfind('\n', max);
  return text.substr(0, cut == std::string::npos ? max : cut + 1);
}

std::string Byte(int b) { return std::string(1, static_cast<char>(b)); }

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::cerr << "fuzz_seeds: " << what << ": " << s.ToString() << "\n";
    std::exit(1);
  }
}

// A small tar (or tar.gz) of the given members, written by libarchive.
struct TarMember {
  std::string name;
  std::string bytes;
  int type = AE_IFREG;
  std::string link;
};
std::string Tar(const std::vector<TarMember>& members, bool gzip) {
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const TarMember& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, m.type == AE_IFREG ? m.bytes.size() : 0);
    if (!m.link.empty()) archive_entry_set_symlink(e, m.link.c_str());
    archive_write_header(a, e);
    if (m.type == AE_IFREG) archive_write_data(a, m.bytes.data(), m.bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds <corpus dir>\n";
    return 2;
  }
  g_root = argv[1];
  const fs::path work = fs::temp_directory_path() / ("oiv4kv-seeds-" + std::to_string(getpid()));
  fs::remove_all(work);

  // ---- A synthetic download: CSVs, class lists, members, images.
  SynthOptions so;
  so.images = 30;  // enough for every awkward kind (at most half a split is awkward)
  so.max_side = 24;
  so.keep_bytes = true;
  so.archives = SynthOptions::Archives::kTar;
  so.threads = 1;
  SynthRecord record;
  Check(WriteSynthDownload((work / "download").string(), so, &record), "synth download");
  const fs::path dl = work / "download";
  for (const char* csv : {"train-annotations-bbox.csv", "train-annotations-human-imagelabels.csv",
                          "train-annotations-machine-imagelabels.csv",
                          "class-descriptions.csv", "class-descriptions-boxable.csv"}) {
    // Buffer sizes of 1 and 7 bytes, the default record limit.
    Put("csv_reader", std::string(csv) + ".b1", Byte(0) + Byte(0), Head(dl / csv, 1500));
    Put("csv_reader", std::string(csv) + ".b7", Byte(6) + Byte(0), Head(dl / csv, 1500));
  }
  Put("csv_reader", "bbox.limit80.csv", Byte(63) + Byte(80),
      Head(dl / "train-annotations-bbox.csv", 600));
  // Labels (mode 0) and boxes (mode 1), their header in the file.
  Put("annotation_csv", "human.csv", Byte(0) + Byte(255),
      Head(dl / "train-annotations-human-imagelabels.csv", 2000));
  Put("annotation_csv", "machine.csv", Byte(0) + Byte(3),
      Head(dl / "train-annotations-machine-imagelabels.csv", 2000));
  Put("annotation_csv", "bbox.csv", Byte(1) + Byte(255),
      Head(dl / "train-annotations-bbox.csv", 2000));
  Put("annotation_csv", "validation-bbox.csv", Byte(1) + Byte(17),
      Head(dl / "validation-annotations-bbox.csv", 2000));
  // Class lists: each file alone, then three consistent lists together.
  Put("vocab_files", "class-descriptions.csv", Byte(0), Head(dl / "class-descriptions.csv", 2000));
  Put("vocab_files", "class-descriptions-boxable.csv", Byte(0),
      Head(dl / "class-descriptions-boxable.csv", 2000));
  Put("vocab_files", "classes-trainable.txt", Byte(1), Head(dl / "classes-trainable.txt", 2000));
  {
    const SynthVocabularies& v = record.vocab;
    std::set<std::string> some;
    std::string all, boxable, trainable;
    for (size_t i = 0; i < v.download_all.size() && some.size() < 40; i += 500) {
      some.insert(v.download_all[i].mid);
      all += synth::CsvField(v.download_all[i].mid) + "," +
             synth::CsvField(v.download_all[i].display_name) + "\n";
    }
    for (const VocabEntry& e : v.download_boxable) {
      if (boxable.size() > 400) break;
      if (!some.count(e.mid)) {
        some.insert(e.mid);
        all += synth::CsvField(e.mid) + "," + synth::CsvField(e.display_name) + "\n";
      }
      boxable += synth::CsvField(e.mid) + "," + synth::CsvField(e.display_name) + "\n";
    }
    for (const std::string& mid : some) {
      if (trainable.size() < 300) trainable += mid + "\n";
    }
    Put("vocab_files", "three-lists", Byte(2),
        all + std::string("\x00\xff", 2) + boxable + std::string("\x00\xff", 2) + trainable);
  }
  // Member names (mode 0), good and bad, and small archives (mode 1).
  size_t n = 0;
  for (const SynthImage& img : record.images) {
    if (n++ < 4) Put("member_image_id", "member" + std::to_string(n), Byte(0), img.member);
  }
  n = 0;
  for (const std::string& bad : record.bad_members) {
    Put("member_image_id", "bad" + std::to_string(++n), Byte(0), bad.substr(bad.find(':') + 1));
  }
  {
    std::vector<TarMember> members = {{"train_3/", "", AE_IFDIR, ""}};
    for (const SynthImage& img : record.images) {
      if (members.size() >= 3) break;
      // Shortened: the archive reader does not look inside the bytes.
      std::string bytes = AsText(img.bytes).substr(0, 300);
      const std::string name = "train_3/3" + ImageIdHex(img.image_id).substr(1) + ".jpg";
      members.push_back({name, bytes, AE_IFREG, ""});
    }
    members.push_back({members[1].name, "duplicate", AE_IFREG, ""});
    members.push_back({"train_3/4000000000000001.jpg", "elsewhere", AE_IFREG, ""});
    members.push_back({"train_3/not-an-id.jpg", "x", AE_IFREG, ""});
    members.push_back({"train_3/3000000000000002.jpg", "", AE_IFLNK, members[1].name});
    Put("member_image_id", "train_3.tar", Byte(1 + 2 * 10), Tar(members, false));
    Put("member_image_id", "train_3.tar.gz", Byte(1 + 2 * 127), Tar(members, true));
  }
  // Images: one of each kind the generator writes.
  std::set<SynthKind> kinds;
  for (const SynthImage& img : record.images) {
    if (!kinds.insert(img.kind).second || img.bytes.empty()) continue;
    const std::string name = std::string(SynthKindName(img.kind)) + ".jpg";
    const std::string bytes = AsText(img.bytes);
    Put("image_probe", name, "", bytes);
    Put("transcode", name, Byte(0x10) + Byte(0) + Byte(71), bytes);  // 16 * 64 pixels, q72
    Put("decoder", name, Byte(0x2a) + Byte(8), bytes);  // EXIF, a minimum of 8x32
    Put("decoder", "plain-" + name, Byte(0) + Byte(0), bytes);
  }

  // ---- Stored values: records from the sample generator, and a store's.
  SampleExampleGenerator gen(3);
  n = 0;
  for (uint64_t id : gen.ImageIds(4)) {
    flatbuffers::FlatBufferBuilder fbb;
    Check(BuildExample(gen.Next(Split::kTrain, id), &fbb), "BuildExample");
    const std::string rec(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    Put("record", "example" + std::to_string(++n), Byte(0), rec);
    if (n == 1) Put("record", "example-misaligned", Byte(8), rec);
  }
  {
    std::string value;
    const std::vector<uint8_t> bytes = gen.ImageBytes(40, 60);
    AppendImageValue(bytes, ImageMeta{640, 480, ImageFormat::kJpeg}, &value);
    Put("record", "image-value", Byte(4), value);
    std::vector<VocabEntry> entries(gen.vocabularies().all.begin(),
                                    gen.vocabularies().all.begin() + 8);
    Put("record", "vocabulary", Byte(5), EncodeVocabulary(VocabKind::kAll, entries));
  }
  const std::string store_path = (work / "store").string();
  Check(fuzz::WriteFuzzStore(store_path), "fuzz store");
  std::unique_ptr<Store> store;
  Check(Store::Open(store_path, StoreOptions(), &store), "Store::Open");
  Put("record", "manifest", Byte(6), EncodeManifest(store->manifest()));
  {
    std::vector<uint64_t> ids = gen.ImageIds(5);
    std::sort(ids.begin(), ids.end());
    Put("record", "index", Byte(7), EncodeIndex(ids));
  }
  // Scan positions of real scans, and enum names.
  n = 0;
  for (ScanOrder order : {ScanOrder::kShuffled, ScanOrder::kSequential}) {
    ScanOptions o;
    o.order = order;
    o.batch_size = 5;
    o.num_shards = order == ScanOrder::kShuffled ? 2 : 1;
    o.block_size = 4;
    o.epoch = 3;
    std::unique_ptr<Scan> scan;
    Check(Scan::Open(store.get(), Split::kTrain, o, &scan), "Scan::Open");
    std::vector<ExampleView> batch;
    Check(scan->Next(&batch, nullptr), "Scan::Next");
    Put("scan_position", "scan" + std::to_string(++n), "", scan->position().Serialize());
  }
  Put("scan_position", "no-scan", "", ScanPosition{2, 9, std::nullopt}.Serialize());
  for (const char* name : {"validation", "300k", "random_resized_crop", "float16", "skip"}) {
    Put("scan_position", std::string("name-") + name, "", name);
  }
  // Loader states: at the start, and after two batches (bad images skipped:
  // the store's images are random bytes).
  for (int batches : {0, 2}) {
    LoaderOptions o = fuzz::FuzzLoaderOptions();
    o.bad_image = BadImagePolicy::kSkip;
    std::unique_ptr<Loader> loader;
    Check(Loader::Open(store.get(), Split::kTrain, o, &loader), "Loader::Open");
    for (int i = 0; i < batches; ++i) {
      const LoaderBatch* b = nullptr;
      Check(loader->Next(&b), "Loader::Next");
    }
    Put("loader_state", "after" + std::to_string(batches), "", loader->position());
  }
  store.reset();
  fs::remove_all(work);
  return 0;
}
