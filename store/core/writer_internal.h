// The converter's bookkeeping on a Writer, outside the public API: progress
// keys, which make a conversion resumable, and committing a config with the
// options and report its manifest records. For store/convert and tests; not
// installed (the public writer.h is a reader/writer API without them).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "oiv4kv/writer.h"

namespace rocksdb {
class FileSystem;
}

namespace oiv4kv {

// Tests only (docs/fault_battery.md): Writer::Open with the store's files
// read and written through `file_system` (store/convert/fault_injection.h).
Status OpenWriterOnFileSystem(const std::string& path, const WriterOptions& options,
                              std::shared_ptr<rocksdb::FileSystem> file_system,
                              std::unique_ptr<Writer>* writer);

// What the manifest records with a converted config.
struct ConfigCommit {
  ConversionOptions options;
  ConversionReport report;
};

// Writer::CommitConfig, recording `commit` in the config's manifest entry.
Status CommitConfig(Writer& writer, Config config, const ConfigCommit& commit);

// Builds the label index (store/core/label_index.h) of every split of a
// committed store from its records and writes it, replacing any there:
// `oiv4-kv index STORE`, for a store converted before the index existed
// (CommitAnnotations writes it for the others). `progress(split, done,
// total)` is called as records are read, when set. InvalidArgument for a
// store whose annotations are not committed.
using LabelIndexProgressFn = std::function<void(Split, uint64_t done, uint64_t total)>;
Status WriteLabelIndex(Writer& writer, const LabelIndexProgressFn& progress);

// Records conversion progress under `key`, atomically with the data of
// `batch` (see GetProgress). InvalidArgument, with the batch unchanged, for
// an empty key.
Status PutProgress(Batch& batch, std::string_view key, std::string_view value);

// The value last put under progress `key`: NotFound if none.
Status GetProgress(const Writer& writer, std::string_view key, std::string* value);

// Calls `fn(key, value)` for every progress key starting with `prefix`, in
// byte order of the keys (the prefix included in `key`), until it returns
// false.
Status ScanProgress(const Writer& writer, std::string_view prefix,
                    const std::function<bool(std::string_view key, std::string_view value)>& fn);

// Deletes every progress key starting with `prefix`.
Status ClearProgress(Writer& writer, std::string_view prefix);

// Ingests sorted table files (rocksdb::SstFileWriter, with the family's
// options: WriterFamilies of store/core/format/layout.h) into the families
// named by `files` ("annotations", "images.300k" ...) in one atomic
// IngestExternalFiles call: all of them or none. The files are moved (hard
// links where the filesystem allows; the caller passes links or copies it
// can lose). Then flushes nothing: the files are the data.
Status IngestFiles(Writer& writer,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& files);

}  // namespace oiv4kv
