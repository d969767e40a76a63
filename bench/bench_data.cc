#include "bench/bench_data.h"

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "store/core/format/keys.h"
#include "store/core/format/view_factory.h"

namespace oiv4kv::bench {
namespace {

BenchPaths g_paths;

std::string DefaultDir() {
  const char* d = std::getenv("OIV4KV_BENCH_DIR");
  return d != nullptr ? d : "/tmp/oiv4kv-bench";
}

void CheckLmdb(int rc, const std::string& what) {
  if (rc != 0) {
    std::fprintf(stderr, "bench: LMDB %s: %s\n", what.c_str(), mdb_strerror(rc));
    std::exit(1);
  }
}

// Benchmark-lifetime objects are never destroyed: RocksDB's own statics may
// be gone when a static destructor would close them at exit.
Store* OpenOrDie(const std::string& path) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(path, StoreOptions(), &store);
  if (!s.ok()) {
    std::fprintf(stderr, "bench: %s\n(make the benchmark stores with bench/run.sh)\n",
                 s.ToString().c_str());
    std::exit(1);
  }
  return store.release();
}

// Writes `path` as an LMDB environment from `fill(put)`, keys in ascending
// order, unless a finished one is there (marked by path/done).
template <typename Fill>
void BuildLmdb(const std::string& path, size_t map_bytes, Fill fill) {
  if (std::filesystem::exists(path + "/done")) return;
  std::fprintf(stderr, "bench: building %s\n", path.c_str());
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  MDB_env* env = nullptr;
  CheckLmdb(mdb_env_create(&env), "create");
  CheckLmdb(mdb_env_set_mapsize(env, map_bytes), "mapsize");
  CheckLmdb(mdb_env_open(env, path.c_str(), MDB_NOSYNC, 0644), "open " + path);
  MDB_txn* txn = nullptr;
  CheckLmdb(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  MDB_dbi dbi;
  CheckLmdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "dbi");
  fill([&](std::string_view key, std::span<const uint8_t> value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<uint8_t*>(value.data())};
    CheckLmdb(mdb_put(txn, dbi, &k, &v, MDB_APPEND), "put");
  });
  CheckLmdb(mdb_txn_commit(txn), "commit");
  CheckLmdb(mdb_env_sync(env, 1), "sync");
  mdb_env_close(env);
  std::ofstream(path + "/done") << "ok\n";
}

size_t MapBytes(uint64_t value_bytes) { return value_bytes * 2 + (size_t{1} << 30); }

}  // namespace

BenchPaths ParsePaths(int* argc, char** argv) {
  const std::string dir = DefaultDir();
  g_paths = {dir + "/annotations", dir + "/images", dir + "/baselines"};
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string_view a = argv[i];
    auto take = [&](std::string_view flag, std::string* value) {
      if (a.substr(0, flag.size()) != flag) return false;
      *value = std::string(a.substr(flag.size()));
      return true;
    };
    if (take("--ann_store=", &g_paths.annotation_store) ||
        take("--img_store=", &g_paths.image_store) || take("--work_dir=", &g_paths.work)) {
      continue;
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  std::filesystem::create_directories(g_paths.work);
  return g_paths;
}

const BenchPaths& Paths() { return g_paths; }

int RunBenchmarks(int argc, char** argv, void (*register_all)()) {
  ParsePaths(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::AddCustomContext("annotation_store", Paths().annotation_store);
  benchmark::AddCustomContext("image_store", Paths().image_store);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

const Store& AnnotationStore() {
  static const Store* store = OpenOrDie(Paths().annotation_store);
  return *store;
}

const Store& ImageStore() {
  static const Store* store = [] {
    const Store* s = OpenOrDie(Paths().image_store);
    WarmImages(*s);
    return s;
  }();
  return *store;
}

void WarmImages(const Store& store) {
  uint64_t sum = 0;
  for (Split split : kAllSplits) {
    for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
      ImageView v;
      Check(store.ImageAt(Config::k300k, split, i, &v));
      sum += Touch(v.bytes());
    }
  }
  benchmark::DoNotOptimize(sum);
}

namespace {

// Reads every value of an LMDB environment once.
void WarmLmdb(const Lmdb& db) {
  MDB_txn* txn = nullptr;
  MDB_cursor* cursor = nullptr;
  CheckLmdb(mdb_txn_begin(db.env(), nullptr, MDB_RDONLY, &txn), "begin");
  CheckLmdb(mdb_cursor_open(txn, db.dbi(), &cursor), "cursor");
  MDB_val k, v;
  uint64_t sum = 0;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    sum += Touch({static_cast<const uint8_t*>(v.mv_data), v.mv_size});
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  benchmark::DoNotOptimize(sum);
}

}  // namespace

uint64_t Touch(const ExampleView& v) {
  uint64_t sum = v.filename().size();
  for (const LabelsView l : {v.objects(), v.objects_trainable()}) {
    for (uint16_t x : l.label) sum += x;
    for (uint8_t x : l.confidence) sum += x;
    for (uint8_t x : l.source) sum += x;
  }
  const BoxesView b = v.bobjects();
  for (uint16_t x : b.label) sum += x;
  for (uint8_t x : b.source) sum += x;
  for (float x : b.bbox) sum += static_cast<uint64_t>(x * 1000);
  for (auto flags : {b.is_occluded, b.is_truncated, b.is_group_of, b.is_depiction, b.is_inside}) {
    for (int8_t x : flags) sum += static_cast<uint64_t>(x + 1);
  }
  return sum;
}

uint64_t Touch(std::span<const uint8_t> bytes) {
  uint64_t sum = bytes.size();
  for (size_t i = 0; i < bytes.size(); i += 64) sum += bytes[i];
  return sum;
}

Lmdb::Lmdb(const std::string& path) {
  CheckLmdb(mdb_env_create(&env_), "create");
  CheckLmdb(mdb_env_set_maxreaders(env_, 256), "maxreaders");
  CheckLmdb(mdb_env_open(env_, path.c_str(), MDB_RDONLY, 0644), "open " + path);
  MDB_txn* txn = nullptr;
  CheckLmdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin");
  CheckLmdb(mdb_dbi_open(txn, nullptr, 0, &dbi_), "dbi");
  mdb_txn_abort(txn);
}

Lmdb::~Lmdb() { mdb_env_close(env_); }

LmdbReader::LmdbReader(const Lmdb& db) : db_(db) {
  CheckLmdb(mdb_txn_begin(db.env(), nullptr, MDB_RDONLY, &txn_), "begin read");
}

LmdbReader::~LmdbReader() { mdb_txn_abort(txn_); }

std::span<const uint8_t> LmdbReader::Get(std::string_view key) const {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v;
  if (mdb_get(txn_, db_.dbi(), &k, &v) != 0) return {};
  return {static_cast<const uint8_t*>(v.mv_data), v.mv_size};
}

const Lmdb& AnnotationLmdb() {
  static const Lmdb* db = [] {
    const Store& store = AnnotationStore();
    const std::string path = Paths().work + "/lmdb-annotations";
    uint64_t bytes = 0;
    for (const auto& [family, b] : store.ColumnFamilyBytes()) {
      if (family == "annotations") bytes = b;
    }
    BuildLmdb(path, MapBytes(bytes), [&](auto put) {
      for (Split split : kAllSplits) {  // key order: split byte, then id
        for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
          ExampleView v;
          Check(store.At(split, i, &v));
          put(KeyView(EncodeKey(split, v.image_id())), v.record());
        }
      }
    });
    auto* lmdb = new Lmdb(path);
    WarmLmdb(*lmdb);
    return lmdb;
  }();
  return *db;
}

const Lmdb& ImageLmdb() {
  static const Lmdb* db = [] {
    const Store& store = ImageStore();
    const std::string path = Paths().work + "/lmdb-images-300k";
    BuildLmdb(path, MapBytes(store.ColumnFamilyBytes().at("images.300k")), [&](auto put) {
      for (Split split : kAllSplits) {
        for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
          ImageView v;
          Check(store.ImageAt(Config::k300k, split, i, &v));
          put(KeyView(EncodeKey(split, v.image_id())), v.bytes());
        }
      }
    });
    auto* lmdb = new Lmdb(path);
    WarmLmdb(*lmdb);
    return lmdb;
  }();
  return *db;
}

const std::string& ImageFiles() {
  static const std::string path = [] {
    const std::string dir = Paths().work + "/files-300k-train";
    if (std::filesystem::exists(dir + "/done")) {
      std::vector<char> buffer;
      for (const auto& e : std::filesystem::directory_iterator(dir)) {  // warm
        std::ifstream f(e.path(), std::ios::binary);
        buffer.assign(std::istreambuf_iterator<char>(f), {});
      }
      return dir;
    }
    std::fprintf(stderr, "bench: building %s\n", dir.c_str());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const Store& store = ImageStore();
    for (uint64_t i = 0; i < store.NumExamples(Split::kTrain); ++i) {
      ImageView v;
      Check(store.ImageAt(Config::k300k, Split::kTrain, i, &v));
      std::ofstream f(dir + "/" + ImageIdHex(v.image_id()) + ".jpg", std::ios::binary);
      f.write(reinterpret_cast<const char*>(v.bytes().data()),
              static_cast<std::streamsize>(v.bytes().size()));
    }
    std::ofstream(dir + "/done") << "ok\n";
    return dir;
  }();
  return path;
}

Status ViewOfRecord(std::span<const uint8_t> record, Split split, uint64_t image_id,
                    bool verify, ExampleView* out) {
  return ViewFactory::MakeExample(nullptr, record, split, image_id, verify, out);
}

void DropPageCache(const std::string& folder) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const int fd = open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);  // dirty pages cannot be dropped
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

}  // namespace oiv4kv::bench
