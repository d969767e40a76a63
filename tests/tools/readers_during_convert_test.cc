// Readers during conversion (issue 17 item 5). A writer process runs real
// `oiv4-kv convert`s of three configs, one after another (original, 300k,
// 200k), into a fresh store, and again into the next fresh store until the
// readers are done. Meanwhile the store being written is opened from other
// processes at random (seeded) moments: forked C++ children through the
// library, and Python processes through the binding
// (tests/python/read_during_convert.py). Every open either refuses cleanly
// (no store yet, or "store is incomplete") or sees complete, correct data:
// every example's features as the generator recorded them, the `original`
// images byte for byte, each resized config complete and equal to what that
// store finally holds, a config not yet committed refused (NotSupported).
// The writer never fails, and every final store verifies and matches the
// generator's record.
//
// OIV4KV_READERS_OPENS sets the number of opens (default 200; the long mode
// sets thousands).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "oiv4kv/store.h"
#include "store/synth/synth_download.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

using testing::TempDir;

constexpr Config kWriterOrder[] = {Config::kOriginal, Config::k300k, Config::k200k};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A refusal a reader may get while a store is being created or its first
// config converted: no store yet, or one whose annotations are not committed.
bool CleanRefusal(const std::string& message) {
  return message.find("no such folder") != std::string::npos ||
         message.find("no RocksDB CURRENT file") != std::string::npos ||
         message.find("store is incomplete") != std::string::npos;
}

// The crc32 chain of every image of `config`, split by split in id order,
// with its width and height: what Python computes the same way.
uint32_t ConfigCrc(const Store& store, Config config, Status* status) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (Split split : kAllSplits) {
    for (uint64_t i = 0; i < store.NumExamples(split); ++i) {
      ImageView img;
      *status = store.ImageAt(config, split, i, &img);
      if (!status->ok()) return 0;
      crc = crc32(crc, img.bytes().data(), static_cast<uInt>(img.bytes().size()));
    }
  }
  *status = Status::OK();
  return static_cast<uint32_t>(crc);
}

// One open from a forked child: checks what it sees against `record` with
// gtest's EXPECTs (the child's own copy of the test's result) and writes one
// line to `out`: "refused\t<store>\t<message>" or
// "open\t<store>\t<config>=<crc>,...\t<examples checked>". Exit code 0 when
// every check passed, 3 when one failed.
[[noreturn]] void ChildOpen(const std::string& current, const SynthRecord& record,
                            const std::string& out) {
  std::ofstream o(out);
  const std::string path = Trimmed(ReadFile(current));
  std::unique_ptr<Store> store;
  const Status st = Store::Open(path, StoreOptions(), &store);
  if (!st.ok()) {
    o << "refused\t" << path << "\t" << st.ToString() << "\n";
    o.close();
    _exit(0);
  }
  uint64_t total = 0;
  for (Split split : kAllSplits) total += store->NumExamples(split);
  EXPECT_EQ(record.images.size(), total) << path;
  uint64_t checked = 0;
  for (const SynthImage& img : record.images) {
    ExampleView view;
    const Status s = store->Get(img.split, img.image_id, &view);
    EXPECT_TRUE(s.ok()) << path << " " << img.member << ": " << s.ToString();
    if (!s.ok()) continue;
    testing::ExpectSameExample(record.expected_tfds.at({img.split, img.image_id}), view);
    ++checked;
  }
  // Configs commit in the writer's order: what is visible is a prefix of it.
  const std::vector<Config> configs = store->Configs();
  EXPECT_LE(configs.size(), 3u);
  for (size_t i = 0; i < configs.size() && i < 3; ++i) EXPECT_EQ(kWriterOrder[i], configs[i]);
  std::string crcs;
  for (Config c : kWriterOrder) {
    if (!store->HasConfig(c)) {
      ImageView img;
      const SynthImage& first = record.images.front();
      const Status s = store->GetImage(c, first.split, first.image_id, &img);
      EXPECT_TRUE(s.IsNotSupported()) << path << " " << ConfigName(c) << ": " << s.ToString();
      continue;
    }
    if (c == Config::kOriginal) {
      for (const SynthImage& img : record.images) {
        ImageView view;
        const Status s = store->GetImage(c, img.split, img.image_id, &view);
        EXPECT_TRUE(s.ok()) << path << " " << img.member << ": " << s.ToString();
        if (!s.ok()) continue;
        EXPECT_TRUE(std::equal(img.bytes.begin(), img.bytes.end(), view.bytes().begin(),
                               view.bytes().end()))
            << path << " " << img.member << ": stored bytes differ from the member's";
        EXPECT_EQ(img.width, view.width()) << img.member;
        EXPECT_EQ(img.height, view.height()) << img.member;
        ++checked;
      }
    }
    Status s;
    const uint32_t crc = ConfigCrc(*store, c, &s);
    EXPECT_TRUE(s.ok()) << path << " " << ConfigName(c) << ": " << s.ToString();
    crcs += (crcs.empty() ? "" : ",") + std::string(ConfigName(c)) + "=" + std::to_string(crc);
  }
  o << "open\t" << path << "\t" << (crcs.empty() ? "-" : crcs) << "\t" << checked << "\n";
  o.close();
  _exit(::testing::Test::HasFailure() ? 3 : 0);
}

// The generator's record as JSON for the Python readers: each split's ids,
// each example's features, and the path of each `original` member's bytes.
void WriteExpectedJson(const SynthRecord& record, const std::string& dir,
                       const std::string& path) {
  nlohmann::json j;
  std::map<std::string, std::vector<uint64_t>> ids;
  for (const SynthImage& img : record.images) {
    const std::string key = std::string(SplitName(img.split)) + ":" + std::to_string(img.image_id);
    ids[std::string(SplitName(img.split))].push_back(img.image_id);
    const ExampleData& e = record.expected_tfds.at({img.split, img.image_id});
    auto labels = [](const ExampleData::Labels& l) {
      return nlohmann::json{{"label", l.label}, {"confidence", l.confidence}, {"source", l.source}};
    };
    std::vector<std::vector<double>> bbox;
    for (size_t i = 0; i + 3 < e.bobjects.bbox.size(); i += 4) {
      bbox.push_back({e.bobjects.bbox[i], e.bobjects.bbox[i + 1], e.bobjects.bbox[i + 2],
                      e.bobjects.bbox[i + 3]});
    }
    const std::string file = dir + "/" + std::to_string(img.image_id) + ".bin";
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(img.bytes.data()),
               static_cast<std::streamsize>(img.bytes.size()));
    j["examples"][key] = {{"filename", e.filename},
                          {"objects", labels(e.objects)},
                          {"objects_trainable", labels(e.objects_trainable)},
                          {"bobjects", {{"label", e.bobjects.label}, {"bbox", bbox}}},
                          {"original", file}};
  }
  for (auto& [split, v] : ids) std::sort(v.begin(), v.end());
  j["ids"] = ids;
  std::ofstream(path) << j.dump();
}

int OpensWanted() {
  const char* env = std::getenv("OIV4KV_READERS_OPENS");
  const int n = env ? std::atoi(env) : 200;
  return n > 0 ? n : 200;
}

TEST(ReadersDuringConvert, EveryOpenRefusesCleanlyOrSeesCompleteCorrectData) {
  TempDir dir;
  const std::string dl = dir.Sub("download");
  SynthOptions o;
  o.images = 48;
  o.seed = 5;
  o.awkward = false;  // every member stored: the readers expect all of them
  o.max_side = 160;
  o.keep_bytes = true;
  SynthRecord record;
  ASSERT_OK(WriteSynthDownload(dl, o, &record));
  ASSERT_EQ(48u, record.images.size());

  const int opens_wanted = OpensWanted();
#ifdef OIV4KV_READER_PY
  const int py_procs = 2, py_opens_each = opens_wanted / 5;  // 40% from Python
#else
  const int py_procs = 0, py_opens_each = 0;
#endif
  const int cpp_opens = opens_wanted - py_procs * py_opens_each;

  // The writer: convert the three configs into store_0, then store_1, ...
  // until STOP exists; `current` names the store being written.
  const std::string current = dir.Sub("current"), stop = dir.Sub("STOP");
  std::ofstream(current) << dir.Sub("store_0") << "\n";
  const std::string convert = std::string(OIV4KV_BINARY) + " convert --source " + dl +
                              " --label-lists " + dl +
                              "/tfds_lists --threads 1 --chunk-images 4 --on-error fail";
  const std::string script =
      "k=0; while :; do s=" + dir.Sub("store_") + "$k; echo $s > " + current + ".tmp && mv " +
      current + ".tmp " + current + " || exit 1; for c in original 300k 200k; do " + convert +
      " --store $s --config $c >> " + dir.Sub("writer.log") +
      " 2>&1 || { echo \"convert $c into $s failed\" >> " + dir.Sub("writer.log") +
      "; exit 1; }; done; k=$((k+1)); [ -e " + stop + " ] && break; done; echo $k > " +
      dir.Sub("stores");
  const pid_t writer = fork();
  ASSERT_NE(-1, writer);
  if (writer == 0) {
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }

  // The Python readers, each opening the current store py_opens_each times.
  const std::string expected_json = dir.Sub("expected.json");
  std::vector<pid_t> py;
#ifdef OIV4KV_READER_PY
  ASSERT_EQ(0, mkdir(dir.Sub("bytes").c_str(), 0755));
  WriteExpectedJson(record, dir.Sub("bytes"), expected_json);
  for (int p = 0; p < py_procs; ++p) {
    const std::string cmd = "PYTHONPATH=" OIV4KV_PYTHON_PATH " " OIV4KV_PYTHON " " OIV4KV_READER_PY
                            " " + current + " " + std::to_string(py_opens_each) + " " +
                            std::to_string(100 + p) + " " + expected_json + " " +
                            dir.Sub("py" + std::to_string(p) + ".jsonl") + " > " +
                            dir.Sub("py" + std::to_string(p) + ".log") + " 2>&1";
    const pid_t pid = fork();
    ASSERT_NE(-1, pid);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    py.push_back(pid);
  }
#endif

  // The C++ readers: one forked child per open, at random moments.
  ASSERT_FALSE(::testing::Test::HasFailure());  // a child's failures are its own
  std::mt19937_64 rng(17);
  struct Seen {
    std::string store, configs, message;
    bool opened = false;
  };
  std::vector<Seen> seen;
  std::vector<std::string> failures;
  for (int i = 0; i < cpp_opens; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    const std::string out = dir.Sub("c" + std::to_string(i));
    const pid_t child = fork();
    ASSERT_NE(-1, child);
    if (child == 0) ChildOpen(current, record, out);
    int status = 0;
    waitpid(child, &status, 0);
    const std::string line = Trimmed(ReadFile(out));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failures.push_back("C++ open " + std::to_string(i) + ": exit status " +
                         std::to_string(status) + ", " + line);
      continue;
    }
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string part; std::getline(ss, part, '\t');) f.push_back(part);
    ASSERT_GE(f.size(), 3u) << line;
    Seen s;
    s.store = f[1];
    s.opened = f[0] == "open";
    if (s.opened) {
      s.configs = f[2];
    } else {
      s.message = f[2];
    }
    seen.push_back(s);
  }
  for (size_t p = 0; p < py.size(); ++p) {
    int status = 0;
    waitpid(py[p], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "Python reader " << p << ":\n"
        << ReadFile(dir.Sub("py" + std::to_string(p) + ".log"));
    std::ifstream in(dir.Sub("py" + std::to_string(p) + ".jsonl"));
    int lines = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      const auto j = nlohmann::json::parse(line);
      for (const auto& e : j["errors"]) failures.push_back("Python: " + e.get<std::string>());
      Seen s;
      s.store = j["store"];
      s.opened = j["outcome"] == "open";
      if (s.opened) {
        std::string crcs;
        for (const auto& pair : j["crc"]) {
          crcs += (crcs.empty() ? "" : ",") + pair[0].get<std::string>() + "=" +
                  std::to_string(pair[1].get<uint32_t>());
        }
        s.configs = crcs.empty() ? "-" : crcs;
      } else {
        s.message = j["message"];
      }
      seen.push_back(s);
    }
    EXPECT_EQ(py_opens_each, lines) << "Python reader " << p;
  }
  std::ofstream(stop).close();
  int status = 0;
  waitpid(writer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ReadFile(dir.Sub("writer.log"));
  const int stores = std::atoi(ReadFile(dir.Sub("stores")).c_str());
  ASSERT_GE(stores, 1);

  // Every final store: verify passes, every example and original image is the
  // generator's, and each config's crc is what the readers compare with.
  std::map<std::string, std::map<std::string, std::string>> final_crc;  // store -> config -> crc
  for (int k = 0; k < stores; ++k) {
    const std::string path = dir.Sub("store_" + std::to_string(k));
    SCOPED_TRACE(path);
    const testing::CommandResult v = testing::Oiv4kv("verify " + path, true);
    EXPECT_EQ(0, v.exit_code) << v.out;
    std::unique_ptr<Store> store;
    ASSERT_OK(Store::Open(path, StoreOptions(), &store));
    EXPECT_EQ((std::vector<Config>{Config::kOriginal, Config::k300k, Config::k200k}),
              store->Configs());
    size_t checked = 0;
    for (const SynthImage& img : record.images) {
      ExampleView view;
      ASSERT_OK(store->Get(img.split, img.image_id, &view));
      testing::ExpectSameExample(record.expected_tfds.at({img.split, img.image_id}), view);
      ImageView image;
      ASSERT_OK(store->GetImage(Config::kOriginal, img.split, img.image_id, &image));
      EXPECT_TRUE(std::equal(img.bytes.begin(), img.bytes.end(), image.bytes().begin(),
                             image.bytes().end()))
          << img.member;
      ++checked;
    }
    EXPECT_EQ(record.images.size(), checked);
    for (Config c : kWriterOrder) {
      Status s;
      const uint32_t crc = ConfigCrc(*store, c, &s);
      ASSERT_OK(s);
      final_crc[path][std::string(ConfigName(c))] = std::to_string(crc);
    }
  }

  // Each open: a clean refusal, or a prefix of the writer's configs whose
  // images are those the store finally holds.
  int refused = 0, opened = 0, by_configs[4] = {0, 0, 0, 0};
  for (const Seen& s : seen) {
    if (!s.opened) {
      ++refused;
      if (!CleanRefusal(s.message)) failures.push_back("refused unclearly: " + s.message);
      continue;
    }
    ++opened;
    int n = 0;
    if (s.configs != "-") {
      std::stringstream ss(s.configs);
      for (std::string part; std::getline(ss, part, ',');) {
        const size_t eq = part.find('=');
        const std::string config = part.substr(0, eq);
        if (n >= 3 || config != ConfigName(kWriterOrder[n])) {
          failures.push_back(s.store + ": configs seen out of order: " + s.configs);
          break;
        }
        if (final_crc[s.store][config] != part.substr(eq + 1)) {
          failures.push_back(s.store + ": " + config + " images differ from the final store's");
        }
        ++n;
      }
    }
    by_configs[std::min(n, 3)]++;
  }
  std::string first;
  for (size_t i = 0; i < failures.size() && i < 8; ++i) first += "\n  " + failures[i];
  EXPECT_EQ(0u, failures.size()) << failures.size() << " failures:" << first;
  EXPECT_EQ(opens_wanted, refused + opened);
  std::cout << refused + opened << " opens during " << stores << " conversions of 3 configs: "
            << refused << " refused cleanly, " << opened << " opened (" << by_configs[0]
            << " with no config yet, " << by_configs[1] << " with original, " << by_configs[2]
            << " with original+300k, " << by_configs[3] << " with all three)\n";
}

// The first moments of a conversion, made to stay: a folder with IDENTITY
// but no CURRENT yet, its LOCK held by another process (as RocksDB's
// DB::Open leaves it before it writes CURRENT). A reader is told the store
// is incomplete and being written, not that CURRENT was lost.
TEST(ReadersDuringConvert, StoreBeingCreatedIsIncompleteNotDamaged) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  ASSERT_EQ(0, mkdir(path.c_str(), 0755));
  std::ofstream(path + "/IDENTITY") << "3b5e0a4c-0000-0000-0000-000000000000\n";
  std::ofstream(path + "/LOCK").close();
  int ready[2];
  ASSERT_EQ(0, pipe(ready));
  const pid_t holder = fork();
  ASSERT_NE(-1, holder);
  if (holder == 0) {
    const int fd = open((path + "/LOCK").c_str(), O_RDWR);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const bool locked = fd >= 0 && fcntl(fd, F_SETLK, &lock) == 0;
    const char c = locked ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(1, read(ready[0], &c, 1));
  ASSERT_EQ('y', c);
  std::unique_ptr<Store> store;
  const Status s = Store::Open(path, StoreOptions(), &store);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("store is incomplete")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("is writing this store")) << s.ToString();
  EXPECT_TRUE(CleanRefusal(s.message())) << s.ToString();

  // With no writer the same folder is a damaged store, and said so.
  const Status damaged = Store::Open(path, StoreOptions(), &store);
  EXPECT_NE(std::string::npos, damaged.message().find("CURRENT file is missing"))
      << damaged.ToString();
}

}  // namespace
}  // namespace oiv4kv
