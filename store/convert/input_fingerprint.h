// What a conversion read its inputs from, recorded with its progress so that a
// resume can tell whether the download changed under it: a file's size, its
// modification time, and a hash of its first and last MiB (the whole file
// when it is smaller than 2 MiB); for an extracted archive folder, the names,
// sizes and modification times of the files below it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "oiv4kv/status.h"

namespace oiv4kv {

struct InputFingerprint {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t content = 0;  // hash of the first and last MiB (or of the listing)

  std::string Encode() const;
  static bool Decode(const std::string& text, InputFingerprint* out);
  bool SameContent(const InputFingerprint& o) const { return size == o.size && content == o.content; }
  bool operator==(const InputFingerprint& o) const {
    return SameContent(o) && mtime_ns == o.mtime_ns;
  }
};

// FNV-1a (64-bit): folds n bytes at p into *h, which starts at
// kFnv1a64Basis. Not cryptographic: it tells a changed input, not a forged one.
inline constexpr uint64_t kFnv1a64Basis = 0xcbf29ce484222325ULL;
void Fnv1a64Mix(uint64_t* h, const void* p, size_t n);

// Fingerprints the file or folder at `path` (IOError naming it if unreadable).
Status FingerprintInput(const std::string& path, InputFingerprint* out);

// How `now` differs from `then`: "size A -> B bytes", "content" or
// "modification time".
std::string DescribeChange(const InputFingerprint& then, const InputFingerprint& now);

}  // namespace oiv4kv
