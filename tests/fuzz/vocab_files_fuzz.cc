// The class-list readers (store/convert/vocab_files.h) on any bytes. The
// first input byte picks ReadClassDescriptions, ReadMidList, or
// LoadVocabularies over three files cut from the rest of the input at the
// two-byte separator 00 FF (class descriptions, boxable descriptions,
// trainable list). What they return must hold what the header promises: no
// empty or repeated MID, valid UTF-8, a line for each entry, ascending;
// errors are Corruption or InvalidArgument naming a file.
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/convert/vocab_files.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using oiv4kv::Status;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void CheckError(const Status& s, std::initializer_list<std::string> paths) {
  FUZZ_CHECK(s.IsCorruption() || s.IsInvalidArgument(), "%s", s.ToString().c_str());
  bool named = false;
  for (const std::string& p : paths) named |= s.ToString().find(p) != std::string::npos;
  FUZZ_CHECK(named, "error names no file: %s", s.ToString().c_str());
}

void CheckMids(const std::vector<std::string_view>& mids, const std::vector<uint64_t>* lines) {
  std::unordered_set<std::string_view> seen;
  for (std::string_view mid : mids) {
    FUZZ_CHECK(!mid.empty(), "an empty MID");
    FUZZ_CHECK(seen.insert(mid).second, "a repeated MID");
    FUZZ_CHECK(ValidUtf8(mid), "a MID that is not UTF-8");
  }
  if (lines == nullptr) return;
  FUZZ_CHECK(lines->size() == mids.size(), "%zu lines for %zu MIDs", lines->size(), mids.size());
  for (size_t i = 0; i < lines->size(); ++i) {
    FUZZ_CHECK((*lines)[i] >= 1 && (i == 0 || (*lines)[i] > (*lines)[i - 1]), "line order");
  }
}

void CheckEntries(const std::vector<oiv4kv::VocabEntry>& entries,
                  const std::vector<uint64_t>* lines) {
  std::vector<std::string_view> mids;
  for (const auto& e : entries) {
    mids.push_back(e.mid);
    FUZZ_CHECK(ValidUtf8(e.display_name), "a display name that is not UTF-8");
  }
  CheckMids(mids, lines);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oiv4kv::fuzz::Input in(data, size);
  const uint8_t mode = in.Byte() % 3;
  std::string_view text = in.rest_text();
  if (mode == 0) {
    oiv4kv::fuzz::MemFile file(text);
    std::vector<oiv4kv::VocabEntry> entries;
    std::vector<uint64_t> lines;
    Status s = oiv4kv::ReadClassDescriptions(file.path(), &entries, &lines);
    if (!s.ok()) return CheckError(s, {file.path()}), 0;
    CheckEntries(entries, &lines);
  } else if (mode == 1) {
    oiv4kv::fuzz::MemFile file(text);
    std::vector<std::string> mids;
    std::vector<uint64_t> lines;
    Status s = oiv4kv::ReadMidList(file.path(), &mids, &lines);
    if (!s.ok()) return CheckError(s, {file.path()}), 0;
    CheckMids(std::vector<std::string_view>(mids.begin(), mids.end()), &lines);
    for (const std::string& mid : mids) {
      FUZZ_CHECK(mid.find_first_of(" \t\r\n\v\f") != 0 &&
                     std::string_view(" \t\r\n\v\f").find(mid.back()) == std::string_view::npos,
                 "a MID not stripped");
    }
  } else {
    std::string_view parts[3];
    for (int i = 0; i < 2; ++i) {
      const size_t cut = text.find(std::string_view("\x00\xff", 2));
      parts[i] = text.substr(0, cut);
      text = cut == std::string_view::npos ? std::string_view() : text.substr(cut + 2);
    }
    parts[2] = text;
    oiv4kv::fuzz::MemFile all(parts[0]), boxable(parts[1]), trainable(parts[2]);
    oiv4kv::Vocabularies v;
    Status s = oiv4kv::LoadVocabularies(all.path(), boxable.path(), trainable.path(), "", &v);
    if (!s.ok()) return CheckError(s, {all.path(), boxable.path(), trainable.path()}), 0;
    CheckEntries(v.all, nullptr);
    CheckEntries(v.boxable, nullptr);
    CheckEntries(v.trainable, nullptr);
    std::unordered_set<std::string_view> known;
    for (const auto& e : v.all) known.insert(e.mid);
    for (const auto& e : v.trainable) FUZZ_CHECK(known.count(e.mid), "trainable MID not in all");
    for (const auto& e : v.boxable) FUZZ_CHECK(known.count(e.mid), "boxable MID not in all");
  }
  return 0;
}
