#include "tests/fault/fault_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "oiv4kv/image_id.h"
#include "oiv4kv/store.h"
#include "store/convert/resume_keys.h"
#include "store/core/writer_internal.h"
#include "tests/testutil.h"

namespace oiv4kv::fault {
namespace {

namespace fs = std::filesystem;

struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Mix(const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ULL;
  }
  void Mix(const std::string& s) {
    Mix(s.data(), s.size());
    Mix("\0", 1);
  }
};

std::string Hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

SynthOptions Download(size_t images, uint64_t seed) {
  SynthOptions o;
  o.images = images;
  o.seed = seed;
  o.awkward = true;
  o.max_side = 96;
  return o;
}

pid_t SpawnConvert(const std::string& source, const std::string& store, Config config,
                   const std::vector<std::string>& env, const std::string& log) {
  return SpawnCli({"convert", "--source", source, "--store", store,
                   "--config", std::string(ConfigName(config)),
                   "--on-error", "skip", "--threads", "2",
                   "--label-lists", source + "/tfds_lists",
                   "--chunk-images", "2", "--archive-readers", "2",
                   "--min-free-mib", "0"},
                  env, log);
}

pid_t SpawnCli(const std::vector<std::string>& command_args, const std::vector<std::string>& env,
               const std::string& log) {
  std::vector<std::string> args = {OIV4KV_BINARY};
  args.insert(args.end(), command_args.begin(), command_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = log.empty() ? "/dev/null" : log;
  // Prepared before the fork: the child only redirects and execs (the
  // parent's other threads are not in it).
  std::vector<std::string> envs(env);
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

Exit Wait(pid_t pid) {
  int status = 0;
  Exit e;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return e;
  e.max_rss_kib = usage.ru_maxrss;
  e.exited = WIFEXITED(status);
  e.code = e.exited ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  return e;
}

Exit RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& log) {
  return Wait(SpawnCli(args, env, log));
}

std::vector<std::string> PlanArgs(const std::string& source, Config config,
                                  const std::string& plan) {
  return {"plan", "--source", source, "--config", std::string(ConfigName(config)),
          "--on-error", "skip", "--label-lists", source + "/tfds_lists", "--out", plan};
}

std::vector<std::string> ConvertUnitArgs(const std::string& plan, size_t k,
                                         const std::string& out) {
  return {"convert-unit", "--plan", plan, "--unit", std::to_string(k), "--out", out,
          "--threads", "2"};
}

std::vector<std::string> IngestArgs(const std::string& plan, const std::string& units,
                                    const std::string& store) {
  return {"ingest", "--plan", plan, "--units", units, "--store", store, "--threads", "2"};
}

TempFolders UnitTempFolders(const std::string& out) {
  TempFolders t;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] != '.' || name.find(".tmp-") == std::string::npos) continue;
    if (t.count++ == 0) t.first = name;
    for (const fs::directory_entry& f : fs::recursive_directory_iterator(e.path(), ec)) {
      if (f.is_regular_file(ec)) t.bytes += f.file_size(ec);
    }
  }
  return t;
}

ConvertRequest Request(const std::string& source, const std::string& store, Config config) {
  ConvertRequest r;
  r.source = source;
  r.store = store;
  r.config = config;
  r.threads = 2;
  r.archive_readers = 2;
  r.chunk_images = 2;  // many commits for the faults to fall between
  r.skip_bad_inputs = true;
  r.label_lists = source + "/tfds_lists";
  r.min_free_bytes = 0;
  return r;
}

std::map<std::string, uint64_t> KillPointCounts(const std::string& log) {
  std::map<std::string, uint64_t> counts;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) ++counts[line];
  return counts;
}

Exit RunConvert(const std::string& source, const std::string& store, Config config,
                const std::vector<std::string>& env, const std::string& log) {
  return Wait(SpawnConvert(source, store, config, env, log));
}

uint64_t StoreDigest(const std::string& path) {
  std::unique_ptr<Store> store;
  EXPECT_OK(Store::Open(path, StoreOptions(), &store));
  if (!store) return 0;
  Fnv f;
  for (const ConfigManifest& c : store->manifest().configs) {
    if (!c.complete) continue;  // not visible to readers (an unfinished run's)
    std::vector<std::string> problems;
    for (const Problem& p : c.report.problems) problems.push_back(p.where + "\n" + p.reason);
    std::sort(problems.begin(), problems.end());
    for (const std::string& p : problems) f.Mix(p);
    f.Mix(&c.report.orphan_annotation_rows, 8);
    f.Mix(&c.complete, 1);
    f.Mix(std::string(ConfigName(c.config)));
  }
  for (Split split : kAllSplits) {
    const uint64_t n = store->NumExamples(split);
    f.Mix(&n, 8);
    for (uint64_t i = 0; i < n; ++i) {
      ExampleView ex;
      EXPECT_OK(store->At(split, i, &ex));
      const uint64_t id = ex.image_id();
      f.Mix(&id, 8);
      f.Mix(ex.record().data(), ex.record().size());
      for (Config c : store->Configs()) {
        ImageView img;
        EXPECT_OK(store->GetImage(c, split, id, &img));
        f.Mix(img.bytes().data(), img.bytes().size());
        const uint32_t dims[2] = {img.width(), img.height()};
        f.Mix(dims, sizeof(dims));
      }
    }
  }
  return f.h;
}

Comparison CompareStores(const std::string& want_path, const std::string& got_path,
                         bool got_may_have_more_configs) {
  Comparison r;
  std::unique_ptr<Store> want, got;
  if (Status s = Store::Open(want_path, StoreOptions(), &want); !s.ok()) {
    r.first_problem = "clean store: " + s.ToString();
    ++r.lost;
    return r;
  }
  if (Status s = Store::Open(got_path, StoreOptions(), &got); !s.ok()) {
    r.first_problem = "resumed store: " + s.ToString();
    r.lost = 1;
    return r;
  }
  auto note = [&](const std::string& what) {
    if (r.first_problem.empty()) r.first_problem = what;
  };
  const std::vector<Config> want_configs = want->Configs(), got_configs = got->Configs();
  if (got_may_have_more_configs
          ? !std::includes(got_configs.begin(), got_configs.end(), want_configs.begin(),
                           want_configs.end())
          : want_configs != got_configs) {
    ++r.differing;
    note("the configs differ");
  }
  for (Split split : kAllSplits) {
    std::set<uint64_t> got_ids, want_ids;
    for (uint64_t i = 0; i < got->NumExamples(split); ++i) {
      ExampleView ex;
      if (!got->At(split, i, &ex).ok()) continue;
      if (!got_ids.insert(ex.image_id()).second) {
        ++r.duplicated;
        note(ExampleName(split, ex.image_id()) + " listed twice");
      }
    }
    for (uint64_t i = 0; i < want->NumExamples(split); ++i) {
      ExampleView w, g;
      EXPECT_OK(want->At(split, i, &w));
      const uint64_t id = w.image_id();
      want_ids.insert(id);
      ++r.compared;
      const std::string name = ExampleName(split, id);
      if (!got->Get(split, id, &g).ok()) {
        ++r.lost;
        note(name + " lost");
        continue;
      }
      bool same = w.record().size() == g.record().size() &&
                  std::equal(w.record().begin(), w.record().end(), g.record().begin());
      for (Config c : want->Configs()) {
        ImageView wi, gi;
        EXPECT_OK(want->GetImage(c, split, id, &wi));
        same = same && got->GetImage(c, split, id, &gi).ok() &&
               wi.bytes().size() == gi.bytes().size() &&
               std::equal(wi.bytes().begin(), wi.bytes().end(), gi.bytes().begin()) &&
               wi.width() == gi.width() && wi.height() == gi.height();
      }
      if (!same) {
        ++r.differing;
        note(name + " differs");
      }
    }
    for (uint64_t id : got_ids) {
      if (want_ids.count(id) == 0) {
        ++r.extra;
        note(ExampleName(split, id) + " is not in the clean store");
      }
    }
  }
  return r;
}

std::string DumpAndExportDigest(const std::string& store, const std::string& scratch) {
  std::unique_ptr<Store> s;
  EXPECT_OK(Store::Open(store, StoreOptions(), &s));
  if (!s) return "";
  const std::vector<Config> configs = s->Configs();
  s.reset();
  Fnv f;
  for (Split split : kAllSplits) {
    const testing::CommandResult dump =
        testing::Oiv4kv("dump " + store + " --split " + std::string(SplitName(split)));
    EXPECT_EQ(0, dump.exit_code) << "dump " << store;
    f.Mix(dump.out);
    for (Config c : configs) {
      const std::string out = scratch + "/" + std::string(ConfigName(c)) + "_" +
                              std::string(SplitName(split));
      fs::remove_all(out);
      const testing::CommandResult ex =
          testing::Oiv4kv("export " + store + " --config " + std::string(ConfigName(c)) +
                          " --split " + std::string(SplitName(split)) + " --out " + out);
      EXPECT_EQ(0, ex.exit_code) << "export " << store;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& p : files) {
        f.Mix(p.filename().string());
        std::ifstream in(p, std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        f.Mix(bytes.str());
      }
      fs::remove_all(out);
    }
  }
  return Hex(f.h);
}

std::string LeftoverProgress(const std::string& store, Config config) {
  if (fs::exists(store + "/convert-staging")) return store + "/convert-staging";
  std::unique_ptr<Writer> writer;
  EXPECT_OK(Writer::Open(store, WriterOptions(), &writer));
  if (!writer) return "cannot open";
  std::string found;
  for (const std::string& prefix : ConfigRunPrefixes(config)) {
    EXPECT_OK(ScanProgress(*writer, prefix, [&](std::string_view key, std::string_view) {
      found = std::string(key);
      return false;
    }));
    if (!found.empty()) return found;
  }
  return "";
}

}  // namespace oiv4kv::fault
