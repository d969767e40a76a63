// The byte formats of every stored value (schemas in schema/): building them
// from plain data and parsing them back, with verification.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "oiv4kv/manifest.h"
#include "oiv4kv/status.h"
#include "oiv4kv/vocabulary.h"
#include "oiv4kv/writer.h"
#include "schema/example_generated.h"

namespace oiv4kv {

// FlatBuffers accessors need the buffer aligned to its largest scalar; RocksDB
// values come at any address, so records are copied to this alignment first
// when they are not already on it.
inline constexpr size_t kRecordAlignment = 8;
inline bool IsAligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kRecordAlignment == 0;
}

// Serializes `example` into `fbb` (cleared first). InvalidArgument if its
// parallel arrays disagree in length.
Status BuildExample(const ExampleData& example, flatbuffers::FlatBufferBuilder* fbb);

// The Example at `record` (REQUIRES: IsAligned(record.data())). With
// `verify`, runs the FlatBuffers verifier and checks that parallel arrays
// agree: Corruption otherwise.
Status ParseExample(std::span<const uint8_t> record, bool verify,
                    const fb::Example** out);

// Image values: [bytes][ImageInfo FlatBuffer][uint32 LE size of it].
void AppendImageValue(std::span<const uint8_t> bytes, const ImageMeta& meta,
                      std::string* out);
Status ParseImageValue(std::span<const uint8_t> value,
                       std::span<const uint8_t>* bytes, ImageMeta* meta);

std::string EncodeVocabulary(VocabKind kind, const std::vector<VocabEntry>& entries);
Status DecodeVocabulary(std::string_view value, std::vector<VocabEntry>* entries);

std::string EncodeManifest(const Manifest& manifest);
Status DecodeManifest(std::string_view value, Manifest* manifest);

// A split's dense index: sorted image ids, packed little-endian.
std::string EncodeIndex(std::span<const uint64_t> ids);
Status DecodeIndex(std::string_view value, std::vector<uint64_t>* ids);

}  // namespace oiv4kv
