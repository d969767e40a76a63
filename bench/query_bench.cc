// Queries (oiv4kv/query.h) on the label index against the same questions
// answered by a full scan of the records, on the 1M-example annotation store
// (bench_data.h): the index's build time and size, a single-label query and
// a three-term query. Compare BM_Select* with BM_Scan* of the same /arg:
// the ratio of their times is the index's gain. bench/run.sh runs it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <vector>

#include "bench/bench_data.h"
#include "oiv4kv/query.h"
#include "store/convert/label_index_build.h"

namespace oiv4kv::bench {
namespace {

constexpr Split kSplit = Split::kTrain;

// The most common and the tenth most common boxable classes of the split.
struct Labels {
  uint32_t common = 0, rarer = 0;
};
const Labels& PickLabels() {
  static const Labels labels = [] {
    const Store& store = AnnotationStore();
    std::vector<uint64_t> count(store.vocabulary(VocabKind::kBoxable).size());
    for (uint64_t i = 0; i < store.NumExamples(kSplit); ++i) {
      ExampleView v;
      Check(store.At(kSplit, i, &v));
      for (uint16_t l : v.bobjects().label) ++count[l];
    }
    std::vector<uint32_t> order(count.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return count[a] > count[b]; });
    return Labels{order[0], order[std::min<size_t>(9, order.size() - 1)]};
  }();
  return labels;
}

// 0: box:<common>; 1: box:<common> AND box:<rarer>>=2 AND NOT box:*[group_of].
Query MakeQuery(int which) {
  const Labels& l = PickLabels();
  if (which == 0) return Query::Box(l.common);
  BoxFilter group;
  group.require = 1u << static_cast<int>(BoxFlag::kGroupOf);
  return Query::And({Query::Box(l.common), Query::Box(l.rarer, 2),
                     Query::Not(Query::Box(Query::kAnyLabel, 1, group))});
}

// The same question over one record.
bool Matches(int which, const BoxesView& b) {
  const Labels& l = PickLabels();
  size_t common = 0, rarer = 0;
  bool group = false;
  for (size_t i = 0; i < b.size(); ++i) {
    common += b.label[i] == l.common;
    rarer += b.label[i] == l.rarer;
    group |= b.is_group_of[i] == 1;
  }
  return which == 0 ? common > 0 : common > 0 && rarer >= 2 && !group;
}

void BM_Select(benchmark::State& state) {
  const Store& store = AnnotationStore();
  const Query q = MakeQuery(static_cast<int>(state.range(0)));
  std::vector<uint64_t> out;
  for (auto _ : state) {
    Check(store.Select(kSplit, q, &out));
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["found"] = static_cast<double>(out.size());
}

void BM_Scan(benchmark::State& state) {
  const Store& store = AnnotationStore();
  const int which = static_cast<int>(state.range(0));
  PickLabels();
  std::vector<uint64_t> out;
  for (auto _ : state) {
    out.clear();
    for (uint64_t i = 0; i < store.NumExamples(kSplit); ++i) {
      ExampleView v;
      Check(store.At(kSplit, i, &v));
      if (Matches(which, v.bobjects())) out.push_back(i);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["found"] = static_cast<double>(out.size());
}

// `oiv4-kv index` on the store (every split: read the records, build, write
// the index again, idempotent); the index's size against the annotations
// family as counters.
void BM_IndexBuild(benchmark::State& state) {
  const Store& store = AnnotationStore();
  for (auto _ : state) Check(IndexStore(store.path(), {}));
  const double index = static_cast<double>(store.LabelIndexBytes());
  const double annotations = static_cast<double>(store.ColumnFamilyBytes()["annotations"]);
  state.counters["index_bytes"] = index;
  state.counters["annotation_bytes"] = annotations;
  state.counters["index_share"] = annotations > 0 ? index / annotations : 0;
  state.counters["examples"] = static_cast<double>(store.NumExamples(kSplit));
}

void RegisterAll() {
  benchmark::RegisterBenchmark("BM_IndexBuild", BM_IndexBuild)->Unit(benchmark::kMillisecond)
      ->Iterations(1);
  for (int which : {0, 1}) {
    benchmark::RegisterBenchmark("BM_Select", BM_Select)->Arg(which)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Scan", BM_Scan)->Arg(which)->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace oiv4kv::bench

int main(int argc, char** argv) {
  return oiv4kv::bench::RunBenchmarks(argc, argv, oiv4kv::bench::RegisterAll);
}
