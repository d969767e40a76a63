// Issue 17 item 8: every malformed input of the list, each added to a clean
// synthetic download and converted by the real `oiv4-kv convert` under
// --on-error fail and then skip (the same store: a resume). Each run is its
// own process, so its peak RSS is read from wait4(). Checks the defined
// outcome (the run stops naming file:line or archive:member and the reason,
// or the input is reported, or it is converted), peak RSS < 1 GiB, and that
// the store the skip run ends with holds every other example exactly as the
// generator recorded it (nothing committed by the failed run is lost).
// Prints one table row per case for docs/malformed_inputs.md (time is
// printed, never asserted).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"
#include "store/synth/synth_download.h"
#include "store/testing/sample_images.h"
#include "tests/fault/fault_util.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr long kMaxRssKib = 1L << 20;  // 1 GiB

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The download of a case, which its `add` damages, and what the store must
// then hold: `expected` (the generator's record, adjusted by hand for inputs
// that change an example) less the images in `absent`.
struct Download {
  std::string root;
  const SynthRecord* record = nullptr;
  std::map<std::pair<Split, uint64_t>, ExampleData> expected;
  std::set<std::pair<Split, uint64_t>> absent;

  std::string Path(const std::string& name) const { return root + "/" + name; }
  const SynthImage& First(Split split) const {
    for (const SynthImage& img : record->images) {
      if (img.split == split) return img;
    }
    ADD_FAILURE() << "no image in " << SplitName(split);
    return record->images.front();
  }
  // The folder (an archive's stem) holding the first train image.
  std::string TrainStem() const { return First(Split::kTrain).archive; }
  std::string BoxMid() const { return record->vocab.download_boxable[0].mid; }
  std::string LabelMid() const {
    return record->vocab.download_trainable[0].mid;
  }
  void LoseArchive(const std::string& stem) {
    for (const SynthImage& img : record->images) {
      if (img.archive == stem) absent.insert({img.split, img.image_id});
    }
  }
};

// Appends `row` as a new last line of the CSV at `path`; returns "path:line".
std::string AppendRow(const std::string& path, const std::string& row) {
  std::string text = ReadFile(path);
  if (!text.empty() && text.back() != '\n') text += '\n';
  const size_t line = std::count(text.begin(), text.end(), '\n') + 1;
  WriteFile(path, text + row + "\n");
  return path + ":" + std::to_string(line);
}

// The CSV's lines (without their line breaks).
std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path,
                const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(path, text);
}

// A validation bbox row for the first validation image, with `xmin` and
// `confidence` as given (TFDS's columns: ImageID, Source, LabelName,
// Confidence, XMin, XMax, YMin, YMax, five flags).
std::string BoxRow(const Download& d, const std::string& id,
                   const std::string& xmin, const std::string& extra = "") {
  return id + ",xclick," + d.BoxMid() + ",1," + xmin +
         ",0.5,0.2,0.6,0,0,0,0,0" + extra;
}
std::string ValidationId(const Download& d) {
  return ImageIdHex(d.First(Split::kValidation).image_id);
}
std::string TrainId(const Download& d) {
  return ImageIdHex(d.First(Split::kTrain).image_id);
}

// One tar entry written by PackArchive besides the folder's files.
struct TarEntry {
  std::string name;
  std::string data;
  int type = AE_IFREG;
  std::string link = "";  // symlink target, or the hard link's member
};

// Replaces the extracted folder `stem` under `root` by stem.tar.gz (its files
// in name order, then `extra`), written with libarchive's writer.
void PackArchive(const std::string& root, const std::string& stem,
                 const std::vector<TarEntry>& extra = {}) {
  std::vector<TarEntry> entries;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root + "/" + stem)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    entries.push_back({stem + "/" + fs::relative(f, root + "/" + stem).string(),
                       ReadFile(f.string())});
  }
  entries.insert(entries.end(), extra.begin(), extra.end());
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  ASSERT_EQ(ARCHIVE_OK, archive_write_open_filename(
                            a, (root + "/" + stem + ".tar.gz").c_str()));
  for (const TarEntry& t : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, t.name.c_str());
    archive_entry_set_perm(entry, 0644);
    if (t.type == AE_IFLNK) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, t.link.c_str());
    } else if (!t.link.empty()) {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_hardlink(entry, t.link.c_str());
    } else {
      archive_entry_set_filetype(entry, t.type);
    }
    const bool data = t.type == AE_IFREG && t.link.empty();
    archive_entry_set_size(entry, data ? t.data.size() : 0);
    ASSERT_EQ(ARCHIVE_OK, archive_write_header(a, entry))
        << archive_error_string(a);
    if (data) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(entry);
  }
  ASSERT_EQ(ARCHIVE_OK, archive_write_close(a));
  archive_write_free(a);
  fs::remove_all(root + "/" + stem);
}

// A JPEG whose SOF claims 65500x65500 (4.3 G pixels): the smallest header
// TurboJPEG parses.
std::string HugeJpegHeader() {
  const unsigned char sof[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF,
                               0xDC, 0xFF, 0xDC, 0x03, 0x01, 0x22, 0x00, 0x02,
                               0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9};
  return std::string(reinterpret_cast<const char*>(sof), sizeof(sof));
}

void PutBigEndian(std::string* s, uint32_t v) {
  for (int shift : {24, 16, 8, 0})
    s->push_back(static_cast<char>((v >> shift) & 0xFF));
}

// A PNG whose IHDR claims `side` x `side` RGB pixels, with one tiny IDAT.
std::string HugePng(uint32_t side) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  auto chunk = [&](const std::string& type, const std::string& body) {
    PutBigEndian(&png, static_cast<uint32_t>(body.size()));
    const std::string crc_input = type + body;
    png += crc_input;
    PutBigEndian(&png, static_cast<uint32_t>(crc32(
                           0, reinterpret_cast<const Bytef*>(crc_input.data()),
                           static_cast<uInt>(crc_input.size()))));
  };
  std::string ihdr;
  PutBigEndian(&ihdr, side);
  PutBigEndian(&ihdr, side);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bit RGB, no interlace
  chunk("IHDR", ihdr);
  chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8));
  chunk("IEND", "");
  return png;
}

// A member name for a new image of train archive `stem` ("train_3"): its id
// starts with the archive's hex digit.
std::string NewTrainMember(const std::string& stem,
                           const std::string& tail = "00000000bad") {
  const std::string digit = stem.substr(stem.size() - 1);
  return stem + "/" + digit + std::string(15 - tail.size(), '0') + tail +
         ".jpg";
}

enum class Outcome {
  kStops,     // exit 1, the error names `where`
  kReports,   // exit 0, one report entry whose "where" starts with `where`
  kConverts,  // exit 0, no report entry
};

struct Case {
  const char* name;
  Config config;
  Outcome under_fail;
  Outcome under_skip;
  // Damages the download; returns what the error or report entry names
  // (file:line, archive:member, or the file), "" for kConverts.
  std::function<std::string(Download*)> add;
  // A word the reason must hold (what is wrong), "" for kConverts.
  const char* reason;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Appends `row` to the validation bbox CSV; returns "path:line".
std::string AppendBoxRow(const Download& d, const std::string& row) {
  return AppendRow(d.Path("validation-annotations-bbox.csv"), row);
}

// Box rows of the first validation image whose XMin is `xmin`.
std::function<std::string(Download*)> BadXmin(const std::string& xmin) {
  return [xmin](Download* d) {
    return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d), xmin));
  };
}
// Label rows of the first train image whose Confidence is `confidence`.
std::function<std::string(Download*)> BadConfidence(
    const std::string& confidence) {
  return [confidence](Download* d) {
    return AppendRow(
        d->Path("train-annotations-human-imagelabels.csv"),
        TrainId(*d) + ",verification," + d->LabelMid() + "," + confidence);
  };
}
// A new member `name` (relative to the train archive) holding `bytes`.
std::function<std::string(Download*)> BadMember(
    const std::string& bytes, const std::string& tail = "00000000bad") {
  return [bytes, tail](Download* d) {
    const std::string member = NewTrainMember(d->TrainStem(), tail);
    WriteFile(d->Path(member), bytes);
    return d->TrainStem() + ":" + member;
  };
}
// A tar entry added to the packed train archive.
std::function<std::string(Download*)> BadTarEntry(TarEntry entry) {
  return [entry](Download* d) {
    PackArchive(d->root, d->TrainStem(), {entry});
    return d->TrainStem() + ".tar.gz:" + entry.name;
  };
}

const Case kCases[] = {
    // --- CSV ---
    {"csv_unterminated_quote", Config::kOriginal, Outcome::kStops,
     Outcome::kStops,
     [](Download* d) {
       return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d), "\"0.1"));
     },
     "quote"},
    {"csv_stray_quote", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     BadXmin("0.\"1"), "quote"},
    {"csv_missing_column", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, ValidationId(*d) + ",xclick," + d->BoxMid() +
                                   ",1,0.1,0.5,0.2,0.6,0,0,0,0");
     },
     "column"},
    {"csv_extra_column", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d), "0.1", ",0"));
     },
     "column"},
    {"csv_misspelt_header", Config::kOriginal, Outcome::kStops, Outcome::kStops,
     [](Download* d) {
       const std::string csv = d->Path("validation-annotations-bbox.csv");
       std::vector<std::string> lines = Lines(csv);
       lines[0].replace(lines[0].find("XMin"), 4, "Xmin");
       WriteLines(csv, lines);
       return csv + ":1";
     },
     "XMin"},
    {"csv_nul_bytes", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(
           *d, BoxRow(*d, ValidationId(*d), std::string("0.1\0\0", 5)));
     },
     "bad XMin '0.1\\x00\\x00'"},
    // Bytes that are not text are shown escaped, not copied into the
    // message and the report.
    {"csv_non_utf8_id", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(
           *d, BoxRow(*d, "\xff\xfe" + ValidationId(*d).substr(2), "0.1"));
     },
     "bad ImageID '\\xff\\xfe"},
    {"csv_5mb_line", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d),
                                      "0.1" + std::string(5 << 20, '1') + "x"));
     },
     "XMin"},
    {"csv_coordinate_nan", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadXmin("nan"), "XMin"},
    {"csv_coordinate_inf", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadXmin("inf"), "XMin"},
    {"csv_coordinate_1e999", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadXmin("1e999"), "XMin"},
    {"csv_coordinate_negative", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadXmin("-0.1"), "XMin"},
    {"csv_confidence_nan", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadConfidence("nan"), "Confidence"},
    {"csv_confidence_inf", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadConfidence("inf"), "Confidence"},
    {"csv_confidence_1e999", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadConfidence("1e999"), "Confidence"},
    {"csv_confidence_negative", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadConfidence("-1"), "Confidence"},
    {"csv_id_15_hex_digits", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d).substr(1), "0.1"));
     },
     "ImageID"},
    {"csv_id_17_hex_digits", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, BoxRow(*d, ValidationId(*d) + "0", "0.1"));
     },
     "ImageID"},
    {"csv_bad_flag", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return AppendBoxRow(*d, ValidationId(*d) + ",xclick," + d->BoxMid() +
                                   ",1,0.1,0.2,0.3,0.4,2,0,0,0,0");
     },
     "Is"},
    {"csv_unknown_source", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       return AppendRow(d->Path("train-annotations-human-imagelabels.csv"),
                        TrainId(*d) + ",robot," + d->LabelMid() + ",1");
     },
     "unknown source"},
    {"csv_coordinates_out_of_order", Config::kOriginal, Outcome::kStops,
     Outcome::kReports, BadXmin("0.9"), "XMin"},
    // The same rule as member names: either case names the same image.
    {"csv_upper_case_ids", Config::kOriginal, Outcome::kConverts,
     Outcome::kConverts,
     [](Download* d) {
       const std::string csv = d->Path("validation-annotations-bbox.csv");
       std::vector<std::string> lines = Lines(csv);
       size_t changed = 0;
       for (size_t i = 1; i < lines.size(); ++i) {
         for (size_t k = 0; k < 16; ++k) {
           changed +=
               std::islower(static_cast<unsigned char>(lines[i][k])) != 0;
           lines[i][k] = static_cast<char>(
               std::toupper(static_cast<unsigned char>(lines[i][k])));
         }
       }
       EXPECT_GT(changed, 0u);
       WriteLines(csv, lines);
       return std::string();
     },
     ""},
    // TFDS keeps every row: a repeated box is two boxes.
    {"csv_duplicate_rows", Config::kOriginal, Outcome::kConverts,
     Outcome::kConverts,
     [](Download* d) {
       const std::string csv = d->Path("validation-annotations-bbox.csv");
       std::vector<std::string> lines = Lines(csv);
       // Rows are sorted by id: the first row of an image is its first box
       // (rows of ids with no image come and go without a trace).
       size_t first = 1;
       uint64_t id = 0;
       for (; first < lines.size(); ++first) {
         id = std::stoull(lines[first].substr(0, 16), nullptr, 16);
         if (d->expected.count({Split::kValidation, id})) break;
       }
       EXPECT_LT(first, lines.size());
       if (first == lines.size()) return std::string();
       lines.insert(lines.begin() + first + 1, lines[first]);
       WriteLines(csv, lines);
       ExampleData::Boxes& b =
           d->expected.at({Split::kValidation, id}).bobjects;
       b.label.insert(b.label.begin(), b.label[0]);
       b.source.insert(b.source.begin(), b.source[0]);
       b.bbox.insert(b.bbox.begin(), b.bbox.begin(), b.bbox.begin() + 4);
       for (auto* flags : {&b.is_occluded, &b.is_truncated, &b.is_group_of,
                           &b.is_depiction, &b.is_inside}) {
         flags->insert(flags->begin(), (*flags)[0]);
       }
       return std::string();
     },
     ""},
    {"csv_empty_file", Config::kOriginal, Outcome::kStops, Outcome::kStops,
     [](Download* d) {
       WriteFile(d->Path("validation-annotations-bbox.csv"), "");
       return d->Path("validation-annotations-bbox.csv");
     },
     "header"},
    // No rows is no boxes: every validation example without boxes.
    {"csv_header_only", Config::kOriginal, Outcome::kConverts,
     Outcome::kConverts,
     [](Download* d) {
       const std::string csv = d->Path("validation-annotations-bbox.csv");
       WriteLines(csv, {Lines(csv)[0]});
       for (auto& [key, ex] : d->expected) {
         if (key.first == Split::kValidation)
           ex.bobjects = ExampleData::Boxes();
       }
       return std::string();
     },
     ""},
    {"non_utf8_display_name", Config::kOriginal, Outcome::kStops,
     Outcome::kStops,
     [](Download* d) {
       const std::string csv = d->Path("class-descriptions-boxable.csv");
       std::vector<std::string> lines = Lines(csv);
       lines[0] += "\xff\xfe";
       WriteLines(csv, lines);
       return csv + ":1";
     },
     "UTF-8"},
    // --- archives and members ---
    {"member_dot_dot", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return BadTarEntry(
           {d->TrainStem() + "/../" + NewTrainMember(d->TrainStem()), "x"})(d);
     },
     "'..' component"},
    {"member_absolute_path", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       return BadTarEntry({"/" + NewTrainMember(d->TrainStem()), "x"})(d);
     },
     "absolute member path"},
    {"member_hard_link", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       const SynthImage& img = d->First(Split::kTrain);
       return BadTarEntry(
           {NewTrainMember(d->TrainStem()), "", AE_IFREG, img.member})(d);
     },
     "link"},
    {"member_symlink", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       return BadTarEntry(
           {NewTrainMember(d->TrainStem()), "", AE_IFLNK, "/etc/hostname"})(d);
     },
     "link"},
    {"folder_symlink", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     [](Download* d) {
       const std::string member = NewTrainMember(d->TrainStem());
       fs::create_symlink("/etc/hostname", d->Path(member));
       return d->TrainStem() + ":" + member;
     },
     "link"},
    {"member_duplicate_id", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       const SynthImage& img = d->First(Split::kTrain);
       return BadTarEntry({img.member, ReadFile(d->Path(img.member))})(d);
     },
     "duplicate"},
    {"member_not_an_image_name", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       WriteFile(d->Path(d->TrainStem() + "/notes.txt"), "x");
       return d->TrainStem() + ":" + d->TrainStem() + "/notes.txt";
     },
     "name"},
    {"member_in_wrong_train_archive", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       const std::string stem = d->TrainStem();
       const std::string other = stem.back() == 'f' ? "train_0" : "train_f";
       const std::string member =
           stem + "/" + other.substr(6) + "000000000000bad.jpg";
       WriteFile(d->Path(member), "x");
       return stem + ":" + member;
     },
     "belongs in train_"},
    {"archive_truncated_gzip", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       PackArchive(d->root, d->TrainStem());
       const std::string path = d->Path(d->TrainStem() + ".tar.gz");
       const std::string bytes = ReadFile(path);
       WriteFile(path, bytes.substr(0, bytes.size() / 2));
       d->LoseArchive(d->TrainStem());  // a part of its images may remain
       return d->TrainStem() + ".tar.gz";
     },
     "unreadable"},
    {"archive_garbage_after_gzip", Config::kOriginal, Outcome::kConverts,
     Outcome::kConverts,
     [](Download* d) {
       PackArchive(d->root, d->TrainStem());
       const std::string path = d->Path(d->TrainStem() + ".tar.gz");
       WriteFile(path, ReadFile(path) + "garbage after the gzip stream\n");
       return std::string();
     },
     ""},
    {"archive_zero_bytes", Config::kOriginal, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       fs::remove_all(d->Path(d->TrainStem()));
       WriteFile(d->Path(d->TrainStem() + ".tar.gz"), "");
       d->LoseArchive(d->TrainStem());
       return d->TrainStem() + ".tar.gz";
     },
     "unreadable"},
    {"member_one_byte", Config::kOriginal, Outcome::kStops, Outcome::kReports,
     BadMember("x"), "not a JPEG or PNG"},
    {"member_garbage_bytes_300k", Config::k300k, Outcome::kStops,
     Outcome::kReports, BadMember(std::string("\xff\xd8\xff\xe0junk", 9)),
     "JPEG"},
    {"jpeg_header_65500x65500", Config::k300k, Outcome::kStops,
     Outcome::kReports, BadMember(HugeJpegHeader()), "pixels"},
    {"jpeg_progressive_2080_scans", Config::k300k, Outcome::kStops,
     Outcome::kReports,
     [](Download* d) {
       std::vector<uint8_t> bomb;
       EXPECT_OK(EncodeJpegManyScans(SyntheticImage(256, 256, 5), 10, &bomb));
       return BadMember(std::string(bomb.begin(), bomb.end()))(d);
     },
     "scans"},
    {"png_100000x100000_named_jpg", Config::k300k, Outcome::kStops,
     Outcome::kReports, BadMember(HugePng(100000)), "pixels"},
};

// One run of `oiv4-kv convert`: how it ended, its peak RSS and wall time,
// and its error line.
struct CliRun {
  fault::Exit exit;
  double seconds = 0;
  std::string error;  // the "oiv4-kv convert: ..." line, with the case's folder
                      // as "DIR"
};

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos;
       at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

CliRun Convert(const std::string& dir, Config config, const char* policy) {
  const std::string log = dir + "/convert-" + policy + ".log";
  const std::string src = dir + "/src";
  const auto start = std::chrono::steady_clock::now();
  CliRun run;
  run.exit = fault::RunCli(
      {"convert", "--source", src, "--store", dir + "/store", "--config",
       std::string(ConfigName(config)), "--on-error", policy, "--threads", "2",
       "--label-lists", src + "/tfds_lists", "--chunk-images", "2",
       "--min-free-mib", "0"},
      {}, log);
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::istringstream lines(ReadFile(log));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("oiv4-kv convert: ")) run.error = line;
  }
  return run;
}

class MalformedInputTest : public ::testing::TestWithParam<Case> {
 protected:
  // One clean download for every case: 24 images of at most 64 px, archives
  // extracted (a case packs the one it damages).
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    record_ = new SynthRecord();
    SynthOptions o;
    o.images = 24;
    o.seed = 25;
    o.awkward = false;
    o.max_side = 64;
    o.archives = SynthOptions::Archives::kDirectories;
    setup_ = WriteSynthDownload(dir_->Sub("clean"), o, record_);
  }
  static void TearDownTestSuite() {
    delete record_;
    delete dir_;
  }

  static inline TempDir* dir_ = nullptr;
  static inline SynthRecord* record_ = nullptr;
  static inline Status setup_;
};

// Checks the run against `want`; returns the table cell.
std::string CheckRun(const CliRun& run, Outcome want, const std::string& where,
                     const char* reason, const std::string& store,
                     Config config, const std::string& dir) {
  EXPECT_LT(run.exit.max_rss_kib, kMaxRssKib) << "peak RSS of the run";
  EXPECT_TRUE(run.exit.exited) << "killed by signal " << run.exit.code;
  if (want == Outcome::kStops) {
    EXPECT_EQ(1, run.exit.code) << run.error;
    EXPECT_NE(std::string::npos, run.error.find(where)) << run.error;
    EXPECT_NE(std::string::npos, run.error.find(reason)) << run.error;
    return "exit 1: `" + Replace(run.error, dir, "DIR") + "`";
  }
  EXPECT_EQ(0, run.exit.code) << run.error;
  std::unique_ptr<Store> s;
  EXPECT_OK(Store::Open(store, StoreOptions(), &s));
  if (!s) return "store does not open";
  const ConfigManifest* m = nullptr;
  for (const ConfigManifest& c : s->manifest().configs) {
    if (c.config == config) m = &c;
  }
  EXPECT_TRUE(m != nullptr && m->complete);
  if (m == nullptr) return "config missing";
  if (want == Outcome::kConverts) {
    EXPECT_TRUE(m->report.problems.empty())
        << m->report.problems.front().where << ": "
        << m->report.problems.front().reason;
    return "exit 0, converted, no report entry";
  }
  EXPECT_EQ(1u, m->report.problems.size());
  if (m->report.problems.empty()) return "no report entry";
  const Problem& p = m->report.problems.front();
  EXPECT_TRUE(p.where.starts_with(where)) << p.where << " vs " << where;
  EXPECT_NE(std::string::npos, p.reason.find(reason)) << p.reason;
  return "exit 0, reported: `" +
         Replace(p.where + ": " + p.reason, dir, "DIR") + "`";
}

// Every image of the download not in `d.absent` is an example equal to
// `d.expected` with its image in `config`; the absent ones are not there.
void ExpectStoreHolds(const std::string& store, Config config,
                      const Download& d) {
  std::unique_ptr<Store> s;
  ASSERT_OK(Store::Open(store, StoreOptions(), &s));
  uint64_t present = 0, missing = 0, total = 0;
  for (Split split : kAllSplits) total += s->NumExamples(split);
  for (const SynthImage& img : d.record->images) {
    ExampleView view;
    const Status got = s->Get(img.split, img.image_id, &view);
    if (d.absent.count({img.split, img.image_id})) {
      // A truncated archive may have given some of its images first.
      if (got.ok()) {
        testing::ExpectSameExample(d.expected.at({img.split, img.image_id}),
                                   view);
      }
      ++missing;
      continue;
    }
    ASSERT_OK(got);
    testing::ExpectSameExample(d.expected.at({img.split, img.image_id}), view);
    ImageView image;
    ASSERT_OK(s->GetImage(config, img.split, img.image_id, &image));
    if (config == Config::kOriginal) {
      EXPECT_EQ(img.size, image.bytes().size()) << img.member;
    }
    ++present;
  }
  EXPECT_EQ(d.record->images.size(), present + missing);
  EXPECT_EQ(d.record->images.size() - d.absent.size(), present);
  EXPECT_GE(total, present);
  EXPECT_LE(total, present + missing);
}

std::string Mib(long kib) {
  std::ostringstream o;
  o.precision(0);
  o << std::fixed << kib / 1024.0;
  return o.str();
}

TEST_P(MalformedInputTest, FailThenSkipGiveTheDefinedOutcome) {
  ASSERT_OK(setup_);
  const Case& c = GetParam();
  TempDir dir;
  Download d;
  d.root = dir.Sub("src");
  d.record = record_;
  fs::copy(dir_->Sub("clean"), d.root, fs::copy_options::recursive);
  d.expected = record_->expected_tfds;
  const std::string where = c.add(&d);
  if (c.under_fail != Outcome::kConverts ||
      c.under_skip != Outcome::kConverts) {
    ASSERT_FALSE(where.empty());
  }
  const std::string store = dir.Sub("store");

  const CliRun fail = Convert(dir.path(), c.config, "fail");
  const std::string fail_cell = CheckRun(fail, c.under_fail, where, c.reason,
                                         store, c.config, dir.path());
  // Under skip the same command resumes what the failed run committed.
  const CliRun skip = Convert(dir.path(), c.config, "skip");
  std::string skip_cell = CheckRun(skip, c.under_skip, where, c.reason, store,
                                   c.config, dir.path());
  // A store the fail run completed: the skip run finds the config complete.
  if (c.under_fail != Outcome::kStops) {
    skip_cell = "as under fail (already complete)";
  }
  if (c.under_skip != Outcome::kStops) ExpectStoreHolds(store, c.config, d);

  std::ostringstream secs;
  secs.precision(2);
  secs << std::fixed << fail.seconds << " / " << skip.seconds;
  std::cout << "| " << c.name << " (" << ConfigName(c.config) << ") | "
            << fail_cell << " | " << skip_cell << " | "
            << Mib(fail.exit.max_rss_kib) << " / " << Mib(skip.exit.max_rss_kib)
            << " | " << secs.str() << " |" << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Item8, MalformedInputTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace oiv4kv
