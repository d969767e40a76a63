// Reading an image archive of the download in chunks of checked members:
// each member's name, type, size and id are checked (a bad one becomes a
// Problem of the chunk) before its bytes go to the transcoders.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"
#include "store/convert/archive_reader.h"

namespace oiv4kv {

// What one config of the pass stores for an image.
struct ImageOutput {
  std::vector<uint8_t> bytes;  // transcoded; empty for original (the input is stored)
  ImageMeta meta;
  Status status;
};

// One image of a chunk.
struct WorkItem {
  std::string where;  // archive:member
  uint64_t id = 0;
  std::vector<uint8_t> bytes;  // as read from the archive
  std::vector<ImageOutput> outputs;  // one per config of the pass, in its order
};

struct Chunk {
  std::vector<WorkItem> items;
  std::vector<Problem> rejected;  // by name, type, size or duplicate id
  uint64_t members = 0;           // members consumed, counting skipped ones
  bool end = false;
  Status error;                   // the archive cannot be read further
};

// "train_0" for ".../train_0.tar.gz" (or ".tar", or a folder "train_0").
std::string ArchiveStem(const std::string& archive_path);

// The image id of a member "<dir>/<16 hex digits>.jpg", by the one image-id
// rule (oiv4kv/image_id.h: hex digits of either case); nullopt for any
// other name.
std::optional<uint64_t> MemberImageId(std::string_view member);

// Reads the next members of `reader` (archive `archive_name`, stem `stem`, of
// `split`) until `max_images` images or `max_bytes` bytes. A member is
// rejected when it is over the reader's size limit, not a regular file, an
// absolute path or one with a '..' component, not named by MemberImageId, a
// train id outside its archive's digit, or an id seen before: in this
// chunk, in `pending` (the chunk in flight, id -> where), or where
// `stored_where(id)` says (empty: not stored).
Chunk ReadChunk(ArchiveReader* reader, Split split, const std::string& stem,
                const std::string& archive_name, size_t max_images, size_t max_bytes,
                const std::unordered_map<uint64_t, std::string>& pending,
                const std::function<std::string(uint64_t id)>& stored_where);

}  // namespace oiv4kv
