#include "oiv4kv/writer.h"

#include <algorithm>
#include <chrono>
#include <mutex>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include "oiv4kv/version.h"
#include "store/core/format/keys.h"
#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "store/core/format/store_internal.h"
#include "store/core/label_index.h"
#include "store/core/kill_point.h"
#include "store/core/writer_internal.h"

namespace oiv4kv {

// ---- Batch: puts laid out in one arena, turned into a RocksDB WriteBatch by
// Writer::Write, so batches can be built before (and without) a Writer.

struct Batch::Rep {
  struct Entry {
    Family family;
    size_t key_begin, key_size, value_begin, value_size;
  };
  std::string arena;
  std::vector<Entry> entries;
  flatbuffers::FlatBufferBuilder fbb;  // reused across examples
  bool has_examples = false;
  std::array<bool, kNumConfigs> has_images{};

  // Appends key then value to the arena; `fill` writes the value.
  template <typename Fill>
  void Add(Family family, std::string_view key, Fill fill) {
    Entry e{family, arena.size(), key.size(), 0, 0};
    arena.append(key);
    e.value_begin = arena.size();
    fill(&arena);
    e.value_size = arena.size() - e.value_begin;
    entries.push_back(e);
  }
};

Batch::Batch() : rep_(std::make_unique<Rep>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

Status Batch::AddExample(const ExampleData& example) {
  OIV4KV_RETURN_IF_ERROR(BuildExample(example, &rep_->fbb)
                             .WithContext(ExampleName(example.split, example.image_id)));
  const Key key = EncodeKey(example.split, example.image_id);
  rep_->Add(Family::kAnnotations, KeyView(key), [&](std::string* out) {
    out->append(reinterpret_cast<const char*>(rep_->fbb.GetBufferPointer()),
                rep_->fbb.GetSize());
  });
  rep_->has_examples = true;
  return Status::OK();
}

Status Batch::AddImage(Config config, Split split, uint64_t image_id,
                       std::span<const uint8_t> bytes, const ImageMeta& meta) {
  if (static_cast<int>(config) >= kNumConfigs || static_cast<int>(split) >= kNumSplits) {
    return Status::InvalidArgument(
        "Batch::AddImage: config " + std::to_string(static_cast<int>(config)) + " / split " +
        std::to_string(static_cast<int>(split)) + " is not a config / split (" +
        JoinNames(ConfigNames()) + " / " + JoinNames(SplitNames()) + ")");
  }
  std::string why;
  if (bytes.empty()) {
    why = "no bytes";
  } else if (meta.width == 0 || meta.height == 0) {
    why = "size " + std::to_string(meta.width) + "x" + std::to_string(meta.height) +
          " (width and height must be > 0)";
  } else if (meta.format != ImageFormat::kJpeg && meta.format != ImageFormat::kPng) {
    why = "format " + std::string(ImageFormatName(meta.format)) + " (want jpeg or png)";
  } else if (const uint32_t max_side = meta.format == ImageFormat::kJpeg ? 65535 : 0x7fffffff;
             meta.width > max_side || meta.height > max_side) {
    why = "size " + std::to_string(meta.width) + "x" + std::to_string(meta.height) +
          " is larger than " + std::string(ImageFormatName(meta.format)) + " allows (" +
          std::to_string(max_side) + " a side)";
  }
  if (!why.empty()) {
    return Status::InvalidArgument("Batch::AddImage: image " + std::string(ConfigName(config)) +
                                   " " + ExampleName(split, image_id) + ": " + why);
  }
  const Key key = EncodeKey(split, image_id);
  rep_->Add(ImagesFamily(config), KeyView(key),
            [&](std::string* out) { AppendImageValue(bytes, meta, out); });
  rep_->has_images[static_cast<int>(config)] = true;
  return Status::OK();
}

size_t Batch::Count() const { return rep_->entries.size(); }
size_t Batch::ByteSize() const { return rep_->arena.size(); }

void Batch::Clear() {
  rep_->arena.clear();
  rep_->entries.clear();
  rep_->has_examples = false;
  rep_->has_images.fill(false);
}

// ---- Writer

struct Writer::Rep {
  std::string path;
  WriterOptions options;
  std::unique_ptr<rocksdb::Env> env;  // tests' file system (OpenWriterOnFileSystem); outlives db
  OpenDb db;
  Manifest manifest;
  mutable std::mutex mu;  // guards first_error
  Status first_error;

  Status Remember(Status s) {
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = s;
    }
    return s;
  }

  Status Check() const {
    std::lock_guard<std::mutex> lock(mu);
    return first_error;
  }

  // Writes the manifest (with whatever else is in `wb`) durably.
  Status WriteManifest(rocksdb::WriteBatch* wb) {
    manifest.schema_version = kSchemaVersion;
    manifest.writer_version = std::string(LibraryVersion());
    manifest.updated_unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string value = EncodeManifest(manifest);
    rocksdb::Status s = wb->Put(db.family(Family::kMeta), kManifestKey, value);
    if (s.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = db.db->Write(wo, wb);
    }
    if (s.ok()) KillPoint("manifest");
    return Remember(FromRocks(s, path + ": writing the manifest"));
  }

  // Flushes memtables so readers find everything in table files, with no
  // write-ahead log to replay.
  Status FlushAll() {
    std::vector<rocksdb::ColumnFamilyHandle*> handles(db.families.begin(),
                                                      db.families.end());
    rocksdb::FlushOptions fo;
    fo.wait = true;
    return Remember(FromRocks(db.db->Flush(fo, handles), path + ": flush"));
  }

  // Adds the label index of `split` (ids: its id list) to `wb`: built from
  // the records of the annotations family (label_index.h).
  Status PutLabelIndex(rocksdb::WriteBatch* wb, Split split, std::span<const uint64_t> ids,
                       const std::function<void(uint64_t)>& progress) {
    std::array<size_t, kNumVocabKinds> sizes{};
    for (VocabKind kind : {VocabKind::kBoxable, VocabKind::kAll}) {
      std::string value;
      std::vector<VocabEntry> entries;
      OIV4KV_RETURN_IF_ERROR(FromRocks(db.db->Get(rocksdb::ReadOptions(), db.family(Family::kVocab),
                                                  VocabKindName(kind), &value),
                                       path + ": vocabulary " + std::string(VocabKindName(kind))));
      OIV4KV_RETURN_IF_ERROR(DecodeVocabulary(value, &entries).WithContext(path));
      sizes[static_cast<int>(kind)] = entries.size();
    }
    std::array<std::string, kNumLabelLists> values;
    OIV4KV_RETURN_IF_ERROR(BuildLabelIndex(db.db.get(), db.family(Family::kAnnotations), split, ids,
                                           sizes[static_cast<int>(VocabKind::kBoxable)],
                                           sizes[static_cast<int>(VocabKind::kAll)], progress,
                                           &values)
                               .WithContext(path + ": building the label index"));
    for (LabelList list : kAllLabelLists) {
      OIV4KV_RETURN_IF_ERROR(FromRocks(wb->Put(db.family(Family::kMeta), LabelIndexKey(split, list),
                                               values[static_cast<int>(list)]),
                                       path));
    }
    return Status::OK();
  }

  // The image ids of `split` in `family`, ascending.
  Status ScanIds(Family family, Split split, std::vector<uint64_t>* ids) {
    const char lower = static_cast<char>(split);
    const char upper = static_cast<char>(static_cast<uint8_t>(split) + 1);
    rocksdb::Slice upper_bound(&upper, 1);
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.iterate_upper_bound = &upper_bound;
    ro.readahead_size = 4 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.family(family)));
    ids->clear();
    for (it->Seek(rocksdb::Slice(&lower, 1)); it->Valid(); it->Next()) {
      Split s;
      uint64_t id;
      if (!DecodeKey(it->key().ToStringView(), &s, &id) || s != split) {
        return Status::Corruption(path + ": malformed key in " +
                                  std::string(FamilyName(family)));
      }
      ids->push_back(id);
    }
    return FromRocks(it->status(), path + ": scanning " + std::string(FamilyName(family)));
  }
};

// The internal opens and the functions of writer_internal.h (the converter's
// bookkeeping): the one way into Batch::Rep and Writer::Rep from outside the
// classes.
struct WriterAccess {
  static Status OpenTuned(const std::string& path, const WriterOptions& options,
                          const LayoutTuning& tuning, std::unique_ptr<Writer>* writer,
                          std::shared_ptr<rocksdb::FileSystem> file_system = nullptr);

  static Status PutProgress(Batch& batch, std::string_view key, std::string_view value) {
    if (key.empty()) {
      return Status::InvalidArgument("Batch::PutProgress: empty key (value \"" +
                                     std::string(value.substr(0, 40)) + "\")");
    }
    batch.rep_->Add(Family::kMeta, ProgressKey(key),
                    [&](std::string* out) { out->append(value); });
    return Status::OK();
  }

  static Status GetProgress(const Writer& writer, std::string_view key, std::string* value) {
    const Writer::Rep& rep = *writer.rep_;
    rocksdb::Status s = rep.db.db->Get(rocksdb::ReadOptions(), rep.db.family(Family::kMeta),
                                       ProgressKey(key), value);
    return FromRocks(s, rep.path + ": progress " + std::string(key));
  }

  static Status ScanProgress(
      const Writer& writer, std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& fn) {
    const Writer::Rep& rep = *writer.rep_;
    const std::string begin = ProgressKey(prefix);
    const std::string end = PrefixEnd(begin);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = end.empty() ? nullptr : &upper;
    std::unique_ptr<rocksdb::Iterator> it(
        rep.db.db->NewIterator(ro, rep.db.family(Family::kMeta)));
    const size_t skip = ProgressKey("").size();
    for (it->Seek(begin); it->Valid(); it->Next()) {
      if (!fn(it->key().ToStringView().substr(skip), it->value().ToStringView())) break;
    }
    return FromRocks(it->status(), rep.path + ": scanning progress");
  }

  static Status ClearProgress(Writer& writer, std::string_view prefix) {
    Writer::Rep& rep = *writer.rep_;
    OIV4KV_RETURN_IF_ERROR(rep.Check());
    const std::string begin = ProgressKey(prefix);
    const std::string end = PrefixEnd(begin);
    rocksdb::Status s = rep.db.db->DeleteRange(rocksdb::WriteOptions(),
                                               rep.db.family(Family::kMeta), begin, end);
    OIV4KV_RETURN_IF_ERROR(rep.Remember(FromRocks(s, rep.path + ": clearing progress")));
    // Flushed at once: a finished conversion leaves nothing in its
    // write-ahead log, whose loss would otherwise bring the progress back.
    return rep.FlushAll();
  }

  static Status CommitConfig(Writer& writer, Config config, const ConfigCommit& commit);
  static Status WriteLabelIndex(Writer& writer, const LabelIndexProgressFn& progress);

  static Status IngestFiles(
      Writer& writer,
      const std::vector<std::pair<std::string, std::vector<std::string>>>& files) {
    Writer::Rep& rep = *writer.rep_;
    OIV4KV_RETURN_IF_ERROR(rep.Check());
    std::vector<rocksdb::IngestExternalFileArg> args;
    for (const auto& [name, paths] : files) {
      if (paths.empty()) continue;
      rocksdb::ColumnFamilyHandle* handle = nullptr;
      for (int i = 0; i < kNumFamilies; ++i) {
        if (FamilyName(static_cast<Family>(i)) == name) handle = rep.db.family(static_cast<Family>(i));
      }
      if (handle == nullptr) {
        return Status::InvalidArgument(rep.path + ": no column family '" + name + "' to ingest into");
      }
      rocksdb::IngestExternalFileArg arg;
      arg.column_family = handle;
      arg.external_files = paths;
      arg.options.move_files = true;  // a hard link, or a copy across filesystems
      // The seqno goes in the MANIFEST only: written into the file it would
      // change the hard-linked unit file too, and an ingest rerun after a
      // kill would take in that altered file (Corruption on open).
      arg.options.write_global_seqno = false;
      arg.options.snapshot_consistency = false;
      args.push_back(std::move(arg));
    }
    if (args.empty()) return Status::OK();
    return rep.Remember(
        FromRocks(rep.db.db->IngestExternalFiles(args), rep.path + ": ingesting table files"));
  }

 private:
  // The smallest string greater than every string that starts with `prefix`
  // ("" when there is none: the prefix is all 0xff).
  static std::string PrefixEnd(std::string prefix) {
    while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
    if (!prefix.empty()) {
      prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
    }
    return prefix;
  }
};

Status WriterAccess::OpenTuned(const std::string& path, const WriterOptions& options,
                               const LayoutTuning& tuning, std::unique_ptr<Writer>* writer,
                               std::shared_ptr<rocksdb::FileSystem> file_system) {
  auto rep = std::make_unique<Writer::Rep>();
  rep->path = path;
  rep->options = options;
  rocksdb::DBOptions db_options = WriterDbOptions(options);
  if (file_system != nullptr) {
    rep->env = rocksdb::NewCompositeEnv(file_system);
    db_options.env = rep->env.get();
  }
  OIV4KV_RETURN_IF_ERROR(OpenRocksDb(path, db_options,
                                     WriterFamilies(options, tuning),
                                     /*read_only=*/false, &rep->db));
  std::string value;
  rocksdb::Status s = rep->db.db->Get(rocksdb::ReadOptions(),
                                      rep->db.family(Family::kMeta), kManifestKey, &value);
  if (s.ok()) {
    OIV4KV_RETURN_IF_ERROR(DecodeManifest(value, &rep->manifest).WithContext(path));
    if (rep->manifest.schema_version != kSchemaVersion) {
      return Status::NotSupported(path + ": store has schema version " +
                                  std::to_string(rep->manifest.schema_version) +
                                  ", this library writes version " +
                                  std::to_string(kSchemaVersion));
    }
  } else if (!s.IsNotFound()) {
    return FromRocks(s, path + ": reading the manifest");
  }
  writer->reset(new Writer(std::move(rep)));
  return Status::OK();
}

Status OpenWriterTuned(const std::string& path, const WriterOptions& options,
                       const LayoutTuning& tuning, std::unique_ptr<Writer>* writer) {
  return WriterAccess::OpenTuned(path, options, tuning, writer);
}

Status OpenWriterOnFileSystem(const std::string& path, const WriterOptions& options,
                              std::shared_ptr<rocksdb::FileSystem> file_system,
                              std::unique_ptr<Writer>* writer) {
  return WriterAccess::OpenTuned(path, options, LayoutTuning(), writer, std::move(file_system));
}

Status Writer::Open(const std::string& path, const WriterOptions& options,
                    std::unique_ptr<Writer>* writer) {
  return OpenWriterTuned(path, options, LayoutTuning(), writer);
}

Writer::Writer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Writer::~Writer() = default;

Status Writer::PutVocabulary(VocabKind kind, const std::vector<VocabEntry>& entries) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  if (rep_->manifest.annotations_complete) {
    return rep_->Remember(Status::InvalidArgument(
        rep_->path + ": vocabularies cannot change once annotations are committed"));
  }
  if (kind == VocabKind::kSource) {
    bool same = entries.size() == kSourceNames.size();
    for (size_t i = 0; same && i < entries.size(); ++i) {
      same = entries[i].mid == kSourceNames[i];
    }
    if (!same) {
      return rep_->Remember(Status::InvalidArgument(
          "the source vocabulary must be TFDS's six sources in order"));
    }
  }
  rocksdb::Status s = rep_->db.db->Put(rocksdb::WriteOptions(),
                                       rep_->db.family(Family::kVocab),
                                       VocabKindName(kind), EncodeVocabulary(kind, entries));
  return rep_->Remember(FromRocks(s, rep_->path + ": vocabulary " +
                                         std::string(VocabKindName(kind))));
}

Status Writer::SetLabelOrder(LabelOrder label_order) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  if (rep_->manifest.annotations_complete) {
    if (rep_->manifest.label_order == label_order) return Status::OK();
    return Status::InvalidArgument(rep_->path + ": the store's labels are numbered by " +
                                   std::string(LabelOrderName(rep_->manifest.label_order)) +
                                   " order");
  }
  rep_->manifest.label_order = label_order;
  rocksdb::WriteBatch wb;
  return rep_->WriteManifest(&wb);
}

Status Writer::BeginConfig(Config config) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  ConfigManifest* c = rep_->manifest.FindConfig(config);
  if (c == nullptr) {
    ConfigManifest entry;
    entry.config = config;
    rep_->manifest.configs.push_back(std::move(entry));
    c = &rep_->manifest.configs.back();
  }
  c->complete = false;
  rocksdb::WriteBatch wb;
  return rep_->WriteManifest(&wb);
}

Status Writer::Write(const Batch& batch) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  const Batch::Rep& b = *batch.rep_;
  if (b.has_examples && rep_->manifest.annotations_complete) {
    return rep_->Remember(Status::InvalidArgument(
        rep_->path + ": examples cannot be added once annotations are committed"));
  }
  for (Config config : kAllConfigs) {
    if (!b.has_images[static_cast<int>(config)]) continue;
    const ConfigManifest* c = rep_->manifest.FindConfig(config);
    if (c == nullptr || c->complete) {
      return rep_->Remember(Status::InvalidArgument(
          rep_->path + ": images of config " + std::string(ConfigName(config)) +
          " written without BeginConfig"));
    }
  }
  rocksdb::WriteBatch wb(b.arena.size() + 32 * b.entries.size());
  for (const Batch::Rep::Entry& e : b.entries) {
    rocksdb::Status s = wb.Put(rep_->db.family(e.family),
                               rocksdb::Slice(b.arena.data() + e.key_begin, e.key_size),
                               rocksdb::Slice(b.arena.data() + e.value_begin, e.value_size));
    if (!s.ok()) return rep_->Remember(FromRocks(s, rep_->path));
  }
  rocksdb::WriteOptions wo;
  wo.sync = rep_->options.sync_writes;
  return rep_->Remember(FromRocks(rep_->db.db->Write(wo, &wb), rep_->path + ": write"));
}

Status Writer::DiscardUnfinished(Config config) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  const ConfigManifest* c = rep_->manifest.FindConfig(config);
  if (c != nullptr && c->complete) {
    return Status::InvalidArgument(rep_->path + ": config " + std::string(ConfigName(config)) +
                                   " is complete");
  }
  // Every key of a data family is shorter than this bound.
  const std::string begin, end(64, '\xff');
  std::vector<Family> families = {ImagesFamily(config)};
  if (!rep_->manifest.annotations_complete) families.push_back(Family::kAnnotations);
  for (Family f : families) {
    rocksdb::Status s = rep_->db.db->DeleteRange(rocksdb::WriteOptions(), rep_->db.family(f),
                                                 begin, end);
    OIV4KV_RETURN_IF_ERROR(rep_->Remember(FromRocks(s, rep_->path + ": discarding " +
                                                           std::string(FamilyName(f)))));
  }
  return Status::OK();
}

Status Writer::CommitAnnotations(LabelOrder label_order, std::span<const Split> splits) {
  OIV4KV_RETURN_IF_ERROR(rep_->Check());
  for (int k = 0; k < kNumVocabKinds; ++k) {
    const auto kind = static_cast<VocabKind>(k);
    std::string value;
    rocksdb::Status s = rep_->db.db->Get(rocksdb::ReadOptions(),
                                         rep_->db.family(Family::kVocab),
                                         VocabKindName(kind), &value);
    if (s.IsNotFound()) {
      return Status::InvalidArgument(rep_->path + ": vocabulary " +
                                     std::string(VocabKindName(kind)) +
                                     " missing: PutVocabulary before committing");
    }
    OIV4KV_RETURN_IF_ERROR(rep_->Remember(FromRocks(s, rep_->path)));
  }
  // Flush first so the key scans below read table files, not a large memtable.
  OIV4KV_RETURN_IF_ERROR(rep_->FlushAll());
  KillPoint("annotation_commit");
  rocksdb::WriteBatch wb;
  for (Split split : kAllSplits) {
    std::vector<uint64_t> ids;
    OIV4KV_RETURN_IF_ERROR(rep_->Remember(rep_->ScanIds(Family::kAnnotations, split, &ids)));
    const bool named = std::find(splits.begin(), splits.end(), split) != splits.end();
    auto& count = rep_->manifest.num_examples[static_cast<int>(split)];
    if (ids.empty() && !named) {
      count.reset();
      wb.Delete(rep_->db.family(Family::kMeta), IndexKey(split)).PermitUncheckedError();
      for (LabelList list : kAllLabelLists) {
        wb.Delete(rep_->db.family(Family::kMeta), LabelIndexKey(split, list))
            .PermitUncheckedError();
      }
      continue;
    }
    count = ids.size();
    OIV4KV_RETURN_IF_ERROR(rep_->Remember(FromRocks(
        wb.Put(rep_->db.family(Family::kMeta), IndexKey(split), EncodeIndex(ids)),
        rep_->path)));
    // The label index is committed with the ids, in the same batch.
    OIV4KV_RETURN_IF_ERROR(rep_->Remember(rep_->PutLabelIndex(&wb, split, ids, {})));
  }
  rep_->manifest.label_order = label_order;
  rep_->manifest.annotations_complete = true;
  OIV4KV_RETURN_IF_ERROR(rep_->WriteManifest(&wb));
  KillPoint("annotation_commit");
  OIV4KV_RETURN_IF_ERROR(rep_->FlushAll());
  // One sorted run: a point lookup then touches a single table per key.
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  return rep_->Remember(FromRocks(
      rep_->db.db->CompactRange(cro, rep_->db.family(Family::kAnnotations), nullptr, nullptr),
      rep_->path + ": compacting annotations"));
}

Status WriterAccess::WriteLabelIndex(Writer& writer, const LabelIndexProgressFn& progress) {
  Writer::Rep& rep = *writer.rep_;
  OIV4KV_RETURN_IF_ERROR(rep.Check());
  if (!rep.manifest.annotations_complete) {
    return Status::InvalidArgument(rep.path + ": store is incomplete: its annotations were never "
                                   "committed (run `oiv4-kv convert` to finish it first)");
  }
  rocksdb::WriteBatch wb;
  for (Split split : kAllSplits) {
    const auto& count = rep.manifest.num_examples[static_cast<int>(split)];
    if (!count) continue;
    std::string value;
    std::vector<uint64_t> ids;
    OIV4KV_RETURN_IF_ERROR(FromRocks(rep.db.db->Get(rocksdb::ReadOptions(),
                                                    rep.db.family(Family::kMeta), IndexKey(split),
                                                    &value),
                                     rep.path + ": " + IndexKey(split)));
    OIV4KV_RETURN_IF_ERROR(DecodeIndex(value, &ids).WithContext(rep.path + ": " + IndexKey(split)));
    std::function<void(uint64_t)> each;
    if (progress) each = [&](uint64_t done) { progress(split, done, ids.size()); };
    OIV4KV_RETURN_IF_ERROR(rep.PutLabelIndex(&wb, split, ids, each));
  }
  return rep.WriteManifest(&wb);
}

Status WriteLabelIndex(Writer& writer, const LabelIndexProgressFn& progress) {
  return WriterAccess::WriteLabelIndex(writer, progress);
}

Status WriterAccess::CommitConfig(Writer& writer, Config config, const ConfigCommit& commit) {
  Writer::Rep* rep = writer.rep_.get();
  OIV4KV_RETURN_IF_ERROR(rep->Check());
  const std::string config_name(ConfigName(config));
  if (!rep->manifest.annotations_complete) {
    return Status::InvalidArgument(rep->path + ": commit the annotations before config " +
                                   config_name);
  }
  ConfigManifest* c = rep->manifest.FindConfig(config);
  if (c == nullptr) {
    return Status::InvalidArgument(rep->path + ": config " + config_name + " was never begun");
  }
  OIV4KV_RETURN_IF_ERROR(rep->FlushAll());
  const Family family = ImagesFamily(config);
  for (Split split : kAllSplits) {
    std::vector<uint64_t> examples, images;
    const auto& count = rep->manifest.num_examples[static_cast<int>(split)];
    if (count) {
      std::string value;
      OIV4KV_RETURN_IF_ERROR(rep->Remember(FromRocks(
          rep->db.db->Get(rocksdb::ReadOptions(), rep->db.family(Family::kMeta),
                          IndexKey(split), &value),
          rep->path + ": " + IndexKey(split))));
      OIV4KV_RETURN_IF_ERROR(DecodeIndex(value, &examples));
    }
    OIV4KV_RETURN_IF_ERROR(rep->Remember(rep->ScanIds(family, split, &images)));
    // Both lists ascend: the first difference names the offender.
    auto [e, i] = std::mismatch(examples.begin(), examples.end(), images.begin(), images.end());
    if (e != examples.end() && (i == images.end() || *e < *i)) {
      return Status::Corruption(rep->path + ": example " + ExampleName(split, *e) +
                                " has no image in config " + config_name);
    }
    if (i != images.end()) {
      return Status::Corruption(rep->path + ": config " + config_name + " holds image " +
                                ExampleName(split, *i) + " of no example");
    }
    if (count) {
      c->num_images[static_cast<int>(split)] = images.size();
    } else {
      c->num_images[static_cast<int>(split)].reset();
    }
  }
  c->options = commit.options;
  c->report = commit.report;
  c->complete = true;
  KillPoint("config_commit");
  rocksdb::WriteBatch wb;
  OIV4KV_RETURN_IF_ERROR(rep->WriteManifest(&wb));
  return rep->FlushAll();
}

Status CommitConfig(Writer& writer, Config config, const ConfigCommit& commit) {
  return WriterAccess::CommitConfig(writer, config, commit);
}

Status PutProgress(Batch& batch, std::string_view key, std::string_view value) {
  return WriterAccess::PutProgress(batch, key, value);
}

Status GetProgress(const Writer& writer, std::string_view key, std::string* value) {
  return WriterAccess::GetProgress(writer, key, value);
}

Status ScanProgress(const Writer& writer, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) {
  return WriterAccess::ScanProgress(writer, prefix, fn);
}

Status ClearProgress(Writer& writer, std::string_view prefix) {
  return WriterAccess::ClearProgress(writer, prefix);
}

Status IngestFiles(Writer& writer,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& files) {
  return WriterAccess::IngestFiles(writer, files);
}

Status Writer::CommitConfig(Config config) {
  return WriterAccess::CommitConfig(*this, config, ConfigCommit{});
}

const Manifest& Writer::manifest() const { return rep_->manifest; }

Status Writer::status() const { return rep_->Check(); }

}  // namespace oiv4kv
