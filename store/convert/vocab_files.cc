#include "store/convert/vocab_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "store/convert/csv_reader.h"

namespace oiv4kv {
namespace {

Status LineError(const std::string& path, uint64_t line, std::string_view reason) {
  return Status::Corruption(path + ":" + std::to_string(line) + ": " + std::string(reason));
}

// The offset of the first byte of `text` that is not part of well-formed
// UTF-8 (no overlongs, surrogates or code points past U+10FFFF), or npos.
size_t InvalidUtf8At(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const uint8_t c = p[i];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return i;
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

Status CheckUtf8(const std::string& path, uint64_t line, std::string_view what,
                 std::string_view text) {
  const size_t at = InvalidUtf8At(text);
  if (at == std::string_view::npos) return Status::OK();
  char byte[8];
  std::snprintf(byte, sizeof(byte), "0x%02x", static_cast<uint8_t>(text[at]));
  return LineError(path, line, std::string(what) + " is not valid UTF-8 (byte " + byte +
                                   " at offset " + std::to_string(at) + ")");
}

// Records `mid` at `line`, or Corruption if it was seen before.
Status CheckUnique(const std::string& path, std::string_view mid, uint64_t line,
                   std::unordered_map<std::string, uint64_t>* seen) {
  const auto [it, inserted] = seen->emplace(mid, line);
  if (inserted) return Status::OK();
  return LineError(path, line,
                   "duplicate MID " + std::string(mid) + " (also on line " +
                       std::to_string(it->second) + ")");
}

// One class list as read from a file, for comparing lists.
struct MidList {
  const std::string& path;
  std::vector<std::string_view> mids;
  const std::vector<uint64_t>& lines;
};

MidList ListOf(const std::string& path, const std::vector<VocabEntry>& entries,
               const std::vector<uint64_t>& lines) {
  MidList list{path, {}, lines};
  list.mids.reserve(entries.size());
  for (const VocabEntry& e : entries) list.mids.push_back(e.mid);
  return list;
}

MidList ListOf(const std::string& path, const std::vector<std::string>& mids,
               const std::vector<uint64_t>& lines) {
  return MidList{path, {mids.begin(), mids.end()}, lines};
}

using NameMap = std::unordered_map<std::string_view, std::string_view>;

NameMap NamesOf(const std::vector<VocabEntry>& entries) {
  NameMap names;
  names.reserve(entries.size());
  for (const VocabEntry& e : entries) names.emplace(e.mid, e.display_name);
  return names;
}

// Corruption naming the first MID of `list` that `names` lacks.
Status CheckSubset(const MidList& list, const NameMap& names, const std::string& names_path) {
  for (size_t i = 0; i < list.mids.size(); ++i) {
    if (!names.contains(list.mids[i])) {
      return LineError(list.path, list.lines[i],
                       "MID " + std::string(list.mids[i]) + " not in " + names_path);
    }
  }
  return Status::OK();
}

// The entries of `order` with display names from `names`, after checking
// that `order` and `download` hold the same MIDs.
Status Renumber(const MidList& order, const MidList& download, const NameMap& names,
                std::vector<VocabEntry>* out) {
  NameMap in_download;
  for (std::string_view mid : download.mids) in_download.emplace(mid, mid);
  OIV4KV_RETURN_IF_ERROR(CheckSubset(order, in_download, download.path));
  NameMap in_order;
  for (std::string_view mid : order.mids) in_order.emplace(mid, mid);
  OIV4KV_RETURN_IF_ERROR(CheckSubset(download, in_order, order.path));
  out->clear();
  out->reserve(order.mids.size());
  for (std::string_view mid : order.mids) {
    out->push_back(VocabEntry{std::string(mid), std::string(names.at(mid))});
  }
  return Status::OK();
}

// Reads all of `path`, which must be a regular file of at most 64 MiB (the
// real lists are under 1 MiB; a bigger file is a wrong argument).
Status ReadSmallFile(const std::string& path, std::string* text) {
  constexpr uint64_t kMaxBytes = uint64_t{64} << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  Status status;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    status = Status::IOError(path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::IOError(path + ": not a regular file");
  } else if (static_cast<uint64_t>(st.st_size) > kMaxBytes) {
    status = Status::InvalidArgument(path + ": " + std::to_string(st.st_size) +
                                     " bytes, too large for a class list");
  } else {
    text->resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < text->size()) {
      const ssize_t n = ::read(fd, text->data() + done, text->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = Status::IOError(path + ": read failed: " + std::strerror(errno));
        break;
      }
      if (n == 0) break;  // shrank while reading: keep what is there
      done += static_cast<size_t>(n);
    }
    text->resize(done);
  }
  ::close(fd);
  return status;
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

}  // namespace

Status ReadClassDescriptions(const std::string& path, std::vector<VocabEntry>* out,
                             std::vector<uint64_t>* lines) {
  out->clear();
  if (lines != nullptr) lines->clear();
  std::unique_ptr<CsvReader> csv;
  OIV4KV_RETURN_IF_ERROR(CsvReader::Open(path, &csv));
  std::unordered_map<std::string, uint64_t> seen;
  std::vector<std::string_view> fields;
  while (true) {
    bool eof = false;
    OIV4KV_RETURN_IF_ERROR(csv->Next(&fields, &eof));
    if (eof) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != 2) {
      return LineError(path, csv->line(),
                       "expected 2 columns (MID,DisplayName), got " +
                           std::to_string(fields.size()));
    }
    if (fields[0].empty()) return LineError(path, csv->line(), "empty MID");
    OIV4KV_RETURN_IF_ERROR(CheckUtf8(path, csv->line(), "MID", fields[0]));
    OIV4KV_RETURN_IF_ERROR(CheckUtf8(path, csv->line(), "display name", fields[1]));
    OIV4KV_RETURN_IF_ERROR(CheckUnique(path, fields[0], csv->line(), &seen));
    out->push_back(VocabEntry{std::string(fields[0]), std::string(fields[1])});
    if (lines != nullptr) lines->push_back(csv->line());
  }
  return Status::OK();
}

Status ReadMidList(const std::string& path, std::vector<std::string>* out,
                   std::vector<uint64_t>* lines) {
  out->clear();
  if (lines != nullptr) lines->clear();
  std::string text;
  OIV4KV_RETURN_IF_ERROR(ReadSmallFile(path, &text));
  std::string_view rest = text;
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
  constexpr std::string_view kWhitespace = " \t\r\n\v\f";
  std::unordered_map<std::string, uint64_t> seen;
  for (uint64_t line = 1; !rest.empty(); ++line) {
    const size_t newline = rest.find('\n');
    std::string_view mid = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    const size_t first = mid.find_first_not_of(kWhitespace);
    if (first == std::string_view::npos) continue;  // blank line
    mid = mid.substr(first, mid.find_last_not_of(kWhitespace) - first + 1);
    OIV4KV_RETURN_IF_ERROR(CheckUtf8(path, line, "MID", mid));
    OIV4KV_RETURN_IF_ERROR(CheckUnique(path, mid, line, &seen));
    out->emplace_back(mid);
    if (lines != nullptr) lines->push_back(line);
  }
  return Status::OK();
}

Status LoadVocabularies(const std::string& class_descriptions,
                        const std::string& boxable_descriptions,
                        const std::string& trainable_list, const std::string& tfds_lists_dir,
                        Vocabularies* out) {
  std::vector<VocabEntry> all, boxable;
  std::vector<std::string> trainable;
  std::vector<uint64_t> all_lines, boxable_lines, trainable_lines;
  OIV4KV_RETURN_IF_ERROR(ReadClassDescriptions(class_descriptions, &all, &all_lines));
  OIV4KV_RETURN_IF_ERROR(ReadClassDescriptions(boxable_descriptions, &boxable, &boxable_lines));
  OIV4KV_RETURN_IF_ERROR(ReadMidList(trainable_list, &trainable, &trainable_lines));

  const MidList all_list = ListOf(class_descriptions, all, all_lines);
  const MidList boxable_list = ListOf(boxable_descriptions, boxable, boxable_lines);
  const MidList trainable_list_mids = ListOf(trainable_list, trainable, trainable_lines);
  const NameMap all_names = NamesOf(all);
  const NameMap boxable_names = NamesOf(boxable);
  // objects_trainable is a subset of objects, so its MIDs must be known
  // classes; a boxable MID outside `all` means mismatched files.
  OIV4KV_RETURN_IF_ERROR(CheckSubset(trainable_list_mids, all_names, class_descriptions));
  OIV4KV_RETURN_IF_ERROR(CheckSubset(boxable_list, all_names, class_descriptions));

  Vocabularies v;
  if (tfds_lists_dir.empty()) {
    v.order = LabelOrder::kDownload;
    v.trainable.reserve(trainable.size());
    for (const std::string& mid : trainable) {
      v.trainable.push_back(VocabEntry{mid, std::string(all_names.at(mid))});
    }
    v.all = std::move(all);  // after the last use of all_names, which views it
    v.boxable = std::move(boxable);
  } else {
    v.order = LabelOrder::kTfds;
    const std::string tfds_all_path = JoinPath(tfds_lists_dir, kTfdsAllList);
    const std::string tfds_trainable_path = JoinPath(tfds_lists_dir, kTfdsTrainableList);
    const std::string tfds_boxable_path = JoinPath(tfds_lists_dir, kTfdsBoxableList);
    std::vector<std::string> tfds_all, tfds_trainable, tfds_boxable;
    std::vector<uint64_t> tfds_all_lines, tfds_trainable_lines, tfds_boxable_lines;
    OIV4KV_RETURN_IF_ERROR(ReadMidList(tfds_all_path, &tfds_all, &tfds_all_lines));
    OIV4KV_RETURN_IF_ERROR(
        ReadMidList(tfds_trainable_path, &tfds_trainable, &tfds_trainable_lines));
    OIV4KV_RETURN_IF_ERROR(ReadMidList(tfds_boxable_path, &tfds_boxable, &tfds_boxable_lines));
    OIV4KV_RETURN_IF_ERROR(Renumber(ListOf(tfds_all_path, tfds_all, tfds_all_lines), all_list,
                                    all_names, &v.all));
    OIV4KV_RETURN_IF_ERROR(
        Renumber(ListOf(tfds_trainable_path, tfds_trainable, tfds_trainable_lines),
                 trainable_list_mids, all_names, &v.trainable));
    OIV4KV_RETURN_IF_ERROR(Renumber(ListOf(tfds_boxable_path, tfds_boxable, tfds_boxable_lines),
                                    boxable_list, boxable_names, &v.boxable));
  }
  for (std::string_view name : kSourceNames) v.source.push_back(VocabEntry{std::string(name), ""});
  *out = std::move(v);
  return Status::OK();
}

}  // namespace oiv4kv
