// Queries: which examples of a split carry some labels, boxes or flags.
//
// A Query is a small expression tree; ParseQuery builds one from its text
// form, resolving label names against a store's vocabularies, and
// Store::Select evaluates it on the store's label index (written when the
// annotations were committed, or by `oiv4-kv index STORE` for a store
// converted before the index existed) as set operations on sorted lists of
// example indices. Records are read only for what the index does not hold:
// conditions on the flags or source of specific boxes, and only for the
// examples the rest of the query leaves.
//
// Text form (keywords and label names are case-insensitive):
//
//   query  := or
//   or     := and { "OR" and }
//   and    := unary { "AND" unary }
//   unary  := "NOT" unary | "(" query ")" | term
//   term   := "box:" LABEL [ "[" cond { "," cond } "]" ] [ ">=" N ]
//                 an example with at least N (default 1) boxes of LABEL,
//                 counting only boxes that meet every cond; LABEL "*" is any
//                 boxable class
//           | "label:" LABEL [ "@" C ]
//                 an image-level label (the `objects` list) with confidence
//                 >= C, 0 < C <= 1, default 0.5 (confidence 0 marks a
//                 verified negative, which no query selects)
//           | "trainable:" LABEL [ "@" C ]
//                 the same for a class of the trainable list
//           | cond
//                 shorthand for box:*[cond]: an example with a box that meets it
//           | "all"
//                 every example of the split
//   cond   := [ "!" ] FLAG         FLAG is 1 (with "!": FLAG is 0 or unknown)
//           | "human" | "machine"  the box's source: machine = `activemil` or
//                                  `machine`, human = the other four
//           | "source=" NAME       one source of kSourceNames
//   FLAG   := occluded | truncated | group_of | depiction | inside
//             (also with an "is_" prefix: is_group_of)
//   LABEL  := a display name ("Dog"), quoted if it holds spaces or any of
//             ()[],>=@" ("Tennis ball"), a MID ("/m/0bt9lr"), or the class's
//             index in the list ("#12"). An unknown name is an error that
//             lists the closest names (edit distance).
//
// Examples:
//   box:Dog                              every image with a Dog box
//   box:Person[!group_of]>=3             at least 3 Person boxes that are not group-of
//   box:Dog AND box:Person>=3 AND NOT group_of
//                                        a dog, 3 people, and no group-of box at all
//   label:Cat@0.7 AND NOT box:Cat        a cat (confidence >= 0.7) without a Cat box
//   box:Dog OR box:Cat OR box:Horse      any of these classes (the validation
//                                        images of 20 classes: 20 terms with OR,
//                                        run on --split validation)
//   box:*[depiction,human]               a human-drawn box of a depiction
//   NOT (box:Car OR box:Truck)           neither
//
// Thread safety: a Query is a value; Select is const and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oiv4kv/dataset.h"
#include "oiv4kv/export.h"
#include "oiv4kv/status.h"

namespace oiv4kv {

class Store;

// A box flag of `bobjects`, in the order of the record's arrays.
enum class BoxFlag : uint8_t { kOccluded = 0, kTruncated, kGroupOf, kDepiction, kInside };
inline constexpr int kNumBoxFlags = 5;
inline constexpr std::array<BoxFlag, kNumBoxFlags> kAllBoxFlags = {
    BoxFlag::kOccluded, BoxFlag::kTruncated, BoxFlag::kGroupOf, BoxFlag::kDepiction,
    BoxFlag::kInside};
// "occluded", "truncated", "group_of", "depiction", "inside" (dataset.h's
// name/parse/list rules).
OIV4KV_EXPORT std::string_view BoxFlagName(BoxFlag flag);
OIV4KV_EXPORT std::optional<BoxFlag> ParseBoxFlag(std::string_view name);
OIV4KV_EXPORT std::vector<std::string> BoxFlagNames();

// Conditions on one box; a box meets them when it meets every one.
struct OIV4KV_EXPORT BoxFilter {
  uint8_t require = 0;  // bit (1 << BoxFlag): the flag must be 1
  uint8_t exclude = 0;  // bit (1 << BoxFlag): the flag must not be 1 (0 or -1)
  uint8_t sources = 0x3f;  // bit (1 << source id): the sources allowed

  bool empty() const { return require == 0 && exclude == 0 && (sources & 0x3f) == 0x3f; }
  // Whether a box with these flags (is_occluded..is_inside, each 1/0/-1) and
  // source meets the conditions.
  bool Matches(const int8_t (&flags)[kNumBoxFlags], uint8_t source) const;
};

// The source ids a query's `machine` names (machine, activemil); `human` is
// every other source.
OIV4KV_EXPORT uint8_t MachineSources();

struct OIV4KV_EXPORT Query {
  enum class Kind : uint8_t {
    kAll,        // every example
    kBox,        // boxes of `label` (kAnyLabel: any class) meeting `filter`: >= min_count
    kLabel,      // image-level `label` of the all list, confidence >= min_confidence
    kTrainable,  // image-level `label` of the trainable list, confidence >= min_confidence
    kAnd,
    kOr,
    kNot,        // children[0] absent
  };
  static constexpr uint32_t kAnyLabel = ~uint32_t{0};

  Kind kind = Kind::kAll;
  uint32_t label = kAnyLabel;   // kBox, kLabel, kTrainable: index in the vocabulary
  uint32_t min_count = 1;       // kBox
  BoxFilter filter;             // kBox
  double min_confidence = 0.5;  // kLabel, kTrainable: 0 < c <= 1
  std::vector<Query> children;  // kAnd, kOr (two or more), kNot (one)

  // Builders for queries written in C++.
  static Query All();
  static Query Box(uint32_t label, uint32_t min_count = 1, BoxFilter filter = {});
  static Query Label(uint32_t label, double min_confidence = 0.5);
  static Query Trainable(uint32_t label, double min_confidence = 0.5);
  static Query And(std::vector<Query> children);
  static Query Or(std::vector<Query> children);
  static Query Not(Query child);
};

// Parses `text` (the form above), resolving labels against the vocabularies
// of `store`. InvalidArgument naming the position and what was expected; an
// unknown label lists up to 5 close names ("unknown boxable class 'Dgo' at
// column 5; did you mean 'Dog'?").
OIV4KV_EXPORT Status ParseQuery(std::string_view text, const Store& store, Query* query);

}  // namespace oiv4kv
