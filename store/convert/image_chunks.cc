#include "store/convert/image_chunks.h"

#include <algorithm>
#include <filesystem>

#include "oiv4kv/image_id.h"

namespace oiv4kv {

std::string ArchiveStem(const std::string& archive_path) {
  std::string name = std::filesystem::path(archive_path).filename().string();
  for (std::string_view ext : {".tar.gz", ".tar"}) {
    if (name.size() > ext.size() && name.ends_with(ext)) {
      return name.substr(0, name.size() - ext.size());
    }
  }
  return name;
}

std::optional<uint64_t> MemberImageId(std::string_view member) {
  const std::string base = std::filesystem::path(member).filename().string();
  // ParseImageId also takes bare digits; a member is an image file.
  if (!base.ends_with(".jpg")) return std::nullopt;
  return ParseImageId(base);
}

namespace {

// Why a member's path is refused whatever its file name: an absolute path
// or a '..' component names a file outside the archive's folder (where tar
// would extract it), so it is not one of the download's images. "" if fine.
std::string_view OutsideFolderReason(std::string_view member) {
  if (member.starts_with('/')) return "absolute member path (outside the archive's folder)";
  for (size_t begin = 0; begin <= member.size();) {
    const size_t end = std::min(member.find('/', begin), member.size());
    if (member.substr(begin, end - begin) == "..") {
      return "member path has a '..' component (outside the archive's folder)";
    }
    begin = end + 1;
  }
  return "";
}

}  // namespace

Chunk ReadChunk(ArchiveReader* reader, Split split, const std::string& stem,
                const std::string& archive_name, size_t max_images, size_t max_bytes,
                const std::unordered_map<uint64_t, std::string>& pending,
                const std::function<std::string(uint64_t id)>& stored_where) {
  Chunk chunk;
  size_t bytes = 0;
  std::unordered_map<uint64_t, std::string> here;
  while (chunk.items.size() < max_images && bytes < max_bytes) {
    ArchiveMember m;
    bool eof = false;
    Status s = reader->Next(&m, &eof);
    if (eof) {
      chunk.end = true;
      break;
    }
    if (!s.ok() && !s.IsInvalidArgument()) {
      chunk.error = s;
      break;
    }
    ++chunk.members;
    const std::string where = archive_name + ":" + m.name;
    if (!s.ok()) {
      chunk.rejected.push_back({where, "larger than the member size limit"});
      continue;
    }
    if (m.directory && !m.name.ends_with(".jpg/")) continue;  // a tar's folder entry
    if (!m.regular) {
      chunk.rejected.push_back({where, m.directory ? "a folder, not an image file"
                                                   : "not a regular file (link or device)"});
      continue;
    }
    if (const std::string_view outside = OutsideFolderReason(m.name); !outside.empty()) {
      chunk.rejected.push_back({where, std::string(outside)});
      continue;
    }
    const std::optional<uint64_t> parsed = MemberImageId(m.name);
    if (!parsed) {
      chunk.rejected.push_back({where, "name is not <16 hex digits>.jpg"});
      continue;
    }
    const uint64_t id = *parsed;
    // The download files each train id under the archive of its leading
    // hex digit; a copy elsewhere is not the image.
    if (split == Split::kTrain && stem.size() == 7 && ImageIdHex(id)[0] != stem[6]) {
      chunk.rejected.push_back({where, "image id " + ImageIdHex(id) + " belongs in train_" +
                                           ImageIdHex(id)[0] + ", not " + stem});
      continue;
    }
    std::string first;
    if (auto it = here.find(id); it != here.end()) first = it->second;
    else if (auto it = pending.find(id); it != pending.end()) first = it->second;
    else first = stored_where(id);
    if (!first.empty()) {
      chunk.rejected.push_back(
          {where, "duplicate image id " + ImageIdHex(id) + " (first in " + first + ")"});
      continue;
    }
    here[id] = where;
    bytes += m.bytes.size();
    chunk.items.push_back({where, id, std::move(m.bytes), {}});
  }
  return chunk;
}

}  // namespace oiv4kv
