// Options for opening a store to read or to write. Plain structs; every field
// has a default. Thread safety: plain data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace oiv4kv {

struct StoreOptions {
  // Open a store whose annotations were never committed (an interrupted
  // conversion) instead of refusing it, for inspection tools such as
  // `oiv4-kv info`. Its counts, index and vocabularies may be empty.
  // Default: false.
  bool allow_incomplete = false;

  // Run the FlatBuffers verifier on every annotation record read, so that a
  // record not written by oiv4-kv's own writer yields Status::Corruption
  // instead of undefined behaviour. Off by default because the bytes are
  // already checked: the annotation index checks every block's checksum at
  // open, and a Get checks the block it reads (verify_checksums), so a
  // record is what the writer built and verified. Turn on for stores from a
  // source you do not trust; `oiv4-kv verify` runs it over every record.
  // Costs ~120 ns a record, 10 % of an indexed Get (bench/layout_bench
  // RecordParse vs bench/read_bench AnnotationGet). Default: false.
  bool verify_records = false;

  // Verify RocksDB block checksums (xxh3) on every read. Default: true.
  bool verify_checksums = true;

  // Find every annotation record once at open (one sequential read of the
  // annotations, 0.57 s per million examples from the page cache, checking
  // each block's checksum when verify_checksums) so that Get/At/MultiGet are
  // array lookups into the mmap'ed files: 2.7x faster than a RocksDB Get
  // (figures in store/core/format/layout.cc). Costs 16 bytes of memory per example.
  // Turn off for tools that read a few records. Default: true.
  bool index_annotations = true;
};

struct WriterOptions {
  // Memtable size per column family before a flush. Default: 64 MiB.
  size_t write_buffer_bytes = size_t{64} << 20;

  // fsync the write-ahead log on every Write(). Commits always sync.
  // Default: false (a crash loses at most the batches not yet flushed,
  // which a resumed conversion writes again).
  bool sync_writes = false;

  // Background threads for flushes and compactions. Default: 2.
  int background_threads = 2;
};

}  // namespace oiv4kv
