// What the read benchmarks share: where the benchmark stores are, the
// baselines built from them (LMDB environments and one file per image, with
// the same keys and values), and the work every benchmark does on what it
// reads, so that each system pays for the same thing.
//
// The stores are made by bench/run.sh with `oiv4-kv synth` + `convert`:
//   annotations: 1,000,000 examples (900k train), tiny `original` images;
//   images:      20,000 examples converted to the 300k config.
// Baselines are built once under the work folder and reused.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "oiv4kv/store.h"

namespace oiv4kv::bench {

struct BenchPaths {
  std::string annotation_store;  // --ann_store
  std::string image_store;       // --img_store
  std::string work;              // --work_dir: baselines
};
// Takes --ann_store=, --img_store= and --work_dir= out of argv (before
// benchmark::Initialize sees it). Defaults: $OIV4KV_BENCH_DIR (or
// /tmp/oiv4kv-bench) + /annotations, /images, /baselines.
BenchPaths ParsePaths(int* argc, char** argv);
const BenchPaths& Paths();

// A benchmark program's main: takes the paths out of argv, lets Google
// Benchmark read its flags, calls `register_all`, runs what was asked and
// records the store paths in the output's context. Returns the exit code.
int RunBenchmarks(int argc, char** argv, void (*register_all)());

// Exits the program with the status's message if it is not OK.
void Check(const Status& s);

// Opened once, shared by every benchmark and thread. Every value is read
// once at open (as is every baseline's), so that all systems are measured
// from the page cache.
const Store& AnnotationStore();
const Store& ImageStore();
// Reads every 300k image of `store` once.
void WarmImages(const Store& store);

// Reads every feature, as a loader would.
uint64_t Touch(const ExampleView& v);
// Reads one byte of every cache line.
uint64_t Touch(std::span<const uint8_t> bytes);

// A read-only LMDB environment (MDB_RDONLY); each reading thread begins its
// own read transaction.
class Lmdb {
 public:
  explicit Lmdb(const std::string& path);
  ~Lmdb();
  MDB_env* env() const { return env_; }
  MDB_dbi dbi() const { return dbi_; }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

// A read transaction for the calling thread.
class LmdbReader {
 public:
  explicit LmdbReader(const Lmdb& db);
  ~LmdbReader();
  // The value of `key`, valid until the reader is destroyed; empty if absent.
  std::span<const uint8_t> Get(std::string_view key) const;

 private:
  const Lmdb& db_;
  MDB_txn* txn_ = nullptr;
};

// Every example of the annotation store under its store key, value = the
// record bytes.
const Lmdb& AnnotationLmdb();
// Every 300k image of the image store: key = store key, value = JPEG bytes.
const Lmdb& ImageLmdb();
// Folder with one <16 hex digits>.jpg per train image of the image store.
const std::string& ImageFiles();

// Makes an ExampleView of a record read from elsewhere (an LMDB value) with
// the store's own code: the same alignment copy as Get, and the FlatBuffers
// verifier when `verify` (LMDB has no checksums: a careful loader verifies).
Status ViewOfRecord(std::span<const uint8_t> record, Split split, uint64_t image_id,
                    bool verify, ExampleView* out);

// Drops the page cache of every file under `folder` (posix_fadvise
// DONTNEED). REQUIRES: nothing maps them (close the Store first).
void DropPageCache(const std::string& folder);

}  // namespace oiv4kv::bench
