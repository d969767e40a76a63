// Where the members of one image archive go: a tar.gz or tar file written
// with libarchive, or the folder that archive extracts to. Entries carry
// fixed metadata (mode, owner, a 2018 mtime, no gzip timestamp) so the same
// members give byte-identical files. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "oiv4kv/status.h"
#include "store/synth/synth_download.h"

namespace oiv4kv::synth {

class MemberSink {
 public:
  // Opens `path`: the archive file to create, or for kDirectories the
  // folder into which members (whose names start with the folder's name)
  // are extracted; `root` is the folder holding it.
  static Status Open(SynthOptions::Archives kind, const std::string& root, const std::string& name,
                     std::unique_ptr<MemberSink>* sink);
  virtual ~MemberSink() = default;

  virtual Status AddFile(const std::string& member, std::span<const uint8_t> bytes) = 0;
  // `member` ends in '/' for archives (as tar writes directory entries).
  virtual Status AddDirectory(const std::string& member) = 0;
  virtual Status AddSymlink(const std::string& member, const std::string& target) = 0;
  // Finishes the archive. Required; errors of earlier writes may surface here.
  virtual Status Close() = 0;
};

}  // namespace oiv4kv::synth
