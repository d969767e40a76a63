// Archive members -> image ids (store/convert/image_chunks.h). The first
// input byte picks the mode:
//  - even: the rest is a member name; MemberImageId must agree with a
//    reference written here (the last path component is exactly 16 hex
//    digits of either case and ".jpg").
//  - odd: the rest is an archive (tar, or tar.gz) read by ArchiveReader as
//    train_3.tar and cut into chunks by ReadChunk, as the converter does:
//    every member accepted must be a regular file named by MemberImageId, in
//    train_3 (leading digit 3), its id seen once; everything else is a
//    rejection or an archive error, and the reading must end.
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "oiv4kv/image_id.h"
#include "store/convert/archive_reader.h"
#include "store/convert/image_chunks.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

std::optional<uint64_t> ReferenceId(std::string_view name) {
  const size_t slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  if (base.size() != 20 || !base.ends_with(".jpg")) return std::nullopt;
  uint64_t id = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char c = base[i];
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    id = id << 4 | static_cast<uint64_t>(digit);
  }
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oiv4kv::fuzz::Input in(data, size);
  const uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    const std::string_view name = in.rest_text();
    const std::optional<uint64_t> got = oiv4kv::MemberImageId(name);
    const std::optional<uint64_t> want = ReferenceId(name);
    FUZZ_CHECK(got == want, "MemberImageId %s, reference %s",
               got ? oiv4kv::ImageIdHex(*got).c_str() : "none",
               want ? oiv4kv::ImageIdHex(*want).c_str() : "none");
    return 0;
  }
  oiv4kv::fuzz::MemFile file(in.rest_text());
  std::unique_ptr<oiv4kv::ArchiveReader> reader;
  const uint64_t max_member_bytes = 1 + (mode >> 1) * 64;  // 1..8129 bytes
  if (!oiv4kv::ArchiveReader::Open(file.path(), max_member_bytes, &reader).ok()) return 0;
  // The ids of earlier chunks: the converter knows them as its pending chunk
  // or from the store (ReadChunk's `pending` and `stored_where`).
  std::unordered_map<uint64_t, std::string> earlier;
  std::unordered_set<uint64_t> seen;
  size_t members = 0;
  for (int chunks = 0;; ++chunks) {
    FUZZ_CHECK(chunks <= static_cast<int>(size) + 2, "ReadChunk never ends");
    oiv4kv::Chunk chunk = oiv4kv::ReadChunk(reader.get(), oiv4kv::Split::kTrain, "train_3",
                                            "train_3.tar", 4, 1 << 20, earlier,
                                            [](uint64_t) { return std::string(); });
    for (const oiv4kv::WorkItem& item : chunk.items) {
      const std::string member = item.where.substr(std::string_view("train_3.tar:").size());
      const std::optional<uint64_t> want = ReferenceId(member);
      FUZZ_CHECK(want && *want == item.id, "member %s accepted as %s", member.c_str(),
                 oiv4kv::ImageIdHex(item.id).c_str());
      FUZZ_CHECK(oiv4kv::ImageIdHex(item.id)[0] == '3', "id %s in train_3",
                 oiv4kv::ImageIdHex(item.id).c_str());
      FUZZ_CHECK(seen.insert(item.id).second, "id %s accepted twice",
                 oiv4kv::ImageIdHex(item.id).c_str());
      FUZZ_CHECK(item.bytes.size() <= max_member_bytes, "a member over the limit");
      earlier[item.id] = item.where;
    }
    for (const auto& problem : chunk.rejected) {
      FUZZ_CHECK(problem.where.starts_with("train_3.tar:"), "rejection names %s",
                 problem.where.c_str());
    }
    members += chunk.members;
    if (chunk.end || !chunk.error.ok()) break;
    FUZZ_CHECK(chunk.members > 0, "a chunk that reads no member and does not end");
  }
  (void)members;
  return 0;
}
