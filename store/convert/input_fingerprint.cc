#include "store/convert/input_fingerprint.h"

#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kEdgeBytes = 1 << 20;


int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Status HashRange(std::ifstream& in, const std::string& path, uint64_t offset, uint64_t n,
                 uint64_t* h) {
  std::vector<char> buf(n);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(buf.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n) return Status::IOError(path + ": cannot be read");
  Fnv1a64Mix(h, buf.data(), n);
  return Status::OK();
}

}  // namespace

void Fnv1a64Mix(uint64_t* h, const void* p, size_t n) {
  for (size_t i = 0; i < n; ++i) *h = (*h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ULL;
}

std::string InputFingerprint::Encode() const {
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRId64 " %016" PRIx64, size, mtime_ns, content);
  return buf;
}

bool InputFingerprint::Decode(const std::string& text, InputFingerprint* out) {
  return std::sscanf(text.c_str(), "%" SCNu64 " %" SCNd64 " %" SCNx64, &out->size, &out->mtime_ns,
                     &out->content) == 3;
}

Status FingerprintInput(const std::string& path, InputFingerprint* out) {
  *out = InputFingerprint();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::IOError(path + ": cannot be read");
  uint64_t h = kFnv1a64Basis;
  if (S_ISDIR(st.st_mode)) {
    // An extracted archive: its listing, in name order.
    std::vector<std::string> lines;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      struct stat fst;
      if (::lstat(it->path().c_str(), &fst) != 0) continue;
      lines.push_back(fs::relative(it->path(), path, ec).string() + "\t" +
                      std::to_string(fst.st_size) + "\t" + std::to_string(MtimeNs(fst)));
      out->size += static_cast<uint64_t>(fst.st_size);
      out->mtime_ns = std::max(out->mtime_ns, MtimeNs(fst));
    }
    if (ec) return Status::IOError(path + ": " + ec.message());
    std::sort(lines.begin(), lines.end());
    for (const std::string& l : lines) Fnv1a64Mix(&h, l.data(), l.size() + 1);
    out->content = h;
    return Status::OK();
  }
  out->size = static_cast<uint64_t>(st.st_size);
  out->mtime_ns = MtimeNs(st);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot be read");
  if (out->size <= 2 * kEdgeBytes) {
    OIV4KV_RETURN_IF_ERROR(HashRange(in, path, 0, out->size, &h));
  } else {
    OIV4KV_RETURN_IF_ERROR(HashRange(in, path, 0, kEdgeBytes, &h));
    OIV4KV_RETURN_IF_ERROR(HashRange(in, path, out->size - kEdgeBytes, kEdgeBytes, &h));
  }
  out->content = h;
  return Status::OK();
}

std::string DescribeChange(const InputFingerprint& then, const InputFingerprint& now) {
  if (then.size != now.size) {
    return "size " + std::to_string(then.size) + " -> " + std::to_string(now.size) + " bytes";
  }
  if (then.content != now.content) return "content";
  return "modification time";
}

}  // namespace oiv4kv
