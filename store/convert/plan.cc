#include "store/convert/plan.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/convert/image_chunks.h"
#include "store/convert/input_fingerprint.h"
#include "store/convert/source_files.h"

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Absolute(const std::string& path) { return PlanPath(path); }

std::string Hex64(uint64_t v) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(v));
  return hex;
}

json ToJson(const Plan& plan) {
  json j;
  j["format"] = kPlanFormat;
  j["version"] = kPlanVersion;
  j["source"] = plan.source;
  j["config"] = ConfigName(plan.config);
  json splits = json::array();
  for (Split s : plan.splits) splits.push_back(SplitName(s));
  j["splits"] = splits;
  j["label_lists"] = plan.label_lists;
  j["on_error"] = plan.skip_bad_inputs ? "skip" : "fail";
  j["max_pixels"] = plan.max_pixels;
  json inputs = json::array();
  for (const PlanInput& in : plan.inputs) {
    inputs.push_back({{"path", in.path}, {"fingerprint", in.fingerprint}});
  }
  j["inputs"] = inputs;
  json units = json::array();
  for (const PlanUnit& u : plan.units) {
    units.push_back({{"name", u.name},
                     {"split", SplitName(u.split)},
                     {"archives", u.archives},
                     {"annotation_digit", u.annotation_digit},
                     {"report_bad_rows", u.report_bad_rows},
                     {"inputs", u.inputs}});
  }
  j["units"] = units;
  return j;
}

std::string PlanId(const Plan& plan) {
  const std::string text = ToJson(plan).dump();
  uint64_t h = kFnv1a64Basis;
  Fnv1a64Mix(&h, text.data(), text.size());
  return Hex64(h);
}

}  // namespace

std::string PlanPath(const std::string& path) {
  if (path.empty()) return path;
  std::string p = fs::absolute(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(tmp + ": cannot be created: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Status::IOError(tmp + ": write: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status::IOError(tmp + ": fsync: " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError(path + ": rename: " + std::strerror(errno));
  }
  const std::string dir = fs::path(path).parent_path().empty()
                              ? std::string(".")
                              : fs::path(path).parent_path().string();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status MakePlan(const PlanRequest& r, Plan* plan) {
  *plan = Plan();
  plan->source = Absolute(r.source);
  plan->config = r.config;
  plan->splits = r.splits;
  plan->label_lists = Absolute(r.label_lists);
  plan->skip_bad_inputs = r.skip_bad_inputs;
  plan->max_pixels = r.max_pixels;
  SourceFiles files;
  OIV4KV_RETURN_IF_ERROR(FindSourceFiles(plan->source, plan->splits, &files));
  auto add_input = [&](const std::string& path) -> Status {
    const std::string abs = Absolute(path);
    for (const PlanInput& in : plan->inputs) {
      if (in.path == abs) return Status::OK();
    }
    InputFingerprint f;
    OIV4KV_RETURN_IF_ERROR(FingerprintInput(abs, &f));
    plan->inputs.push_back({abs, f.Encode()});
    return Status::OK();
  };
  std::vector<std::string> common = {files.class_descriptions, files.boxable_descriptions,
                                     files.trainable_list};
  if (!plan->label_lists.empty()) common.push_back(plan->label_lists);
  for (const std::string& p : common) OIV4KV_RETURN_IF_ERROR(add_input(p));
  std::vector<Split> ordered = plan->splits;
  std::sort(ordered.begin(), ordered.end());
  for (Split split : ordered) {
    const SplitSources& s = files.splits[static_cast<int>(split)];
    std::vector<std::string> csvs = {s.human_csv, s.machine_csv, s.bbox_csv};
    for (const std::string& p : csvs) OIV4KV_RETURN_IF_ERROR(add_input(p));
    auto unit_inputs = [&](const std::vector<std::string>& archives) {
      std::vector<std::string> in;
      for (const std::string& p : common) in.push_back(Absolute(p));
      for (const std::string& p : csvs) in.push_back(Absolute(p));
      for (const std::string& a : archives) in.push_back(Absolute(a));
      return in;
    };
    if (split == Split::kTrain) {
      // One unit per archive, with the rows of its hex digit.
      for (const std::string& archive : s.archives) {
        OIV4KV_RETURN_IF_ERROR(add_input(archive));
        PlanUnit u;
        u.name = ArchiveStem(archive);
        u.split = split;
        u.archives = {u.name};
        u.annotation_digit = std::stoi(u.name.substr(u.name.size() - 1), nullptr, 16);
        u.report_bad_rows = u.annotation_digit == 0;
        u.inputs = unit_inputs({archive});
        plan->units.push_back(std::move(u));
      }
    } else {
      PlanUnit u;
      u.name = std::string(SplitName(split));
      u.split = split;
      for (const std::string& archive : s.archives) {
        OIV4KV_RETURN_IF_ERROR(add_input(archive));
        u.archives.push_back(ArchiveStem(archive));
      }
      u.inputs = unit_inputs(s.archives);
      plan->units.push_back(std::move(u));
    }
  }
  plan->id = PlanId(*plan);
  return Status::OK();
}

std::string EncodePlan(const Plan& plan) {
  json j = ToJson(plan);
  j["id"] = plan.id;
  return j.dump(2) + "\n";
}

Status WritePlan(const Plan& plan, const std::string& path) {
  std::error_code ec;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  return WriteFileAtomically(path, EncodePlan(plan));
}

Status ReadPlan(const std::string& path, Plan* plan) {
  *plan = Plan();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot be read (make it with `oiv4-kv plan`)");
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(path + ": not a plan (not JSON)");
  }
  if (j.value("format", "") != kPlanFormat) {
    return Status::InvalidArgument(path + ": not a plan (format is not \"" +
                                   std::string(kPlanFormat) + "\")");
  }
  if (j.value("version", 0) != kPlanVersion) {
    return Status::InvalidArgument(path + ": plan version " + std::to_string(j.value("version", 0)) +
                                   "; this oiv4-kv reads version " + std::to_string(kPlanVersion) +
                                   " (make the plan again with this oiv4-kv)");
  }
  try {
    plan->source = j.at("source").get<std::string>();
    auto config = ParseConfig(j.at("config").get<std::string>());
    if (!config) return Status::InvalidArgument(path + ": unknown config");
    plan->config = *config;
    for (const auto& s : j.at("splits")) {
      auto split = ParseSplit(s.get<std::string>());
      if (!split) return Status::InvalidArgument(path + ": unknown split");
      plan->splits.push_back(*split);
    }
    plan->label_lists = j.at("label_lists").get<std::string>();
    plan->skip_bad_inputs = j.at("on_error").get<std::string>() == "skip";
    plan->max_pixels = j.at("max_pixels").get<uint64_t>();
    for (const auto& in : j.at("inputs")) {
      plan->inputs.push_back({in.at("path").get<std::string>(),
                              in.at("fingerprint").get<std::string>()});
    }
    for (const auto& ju : j.at("units")) {
      PlanUnit u;
      u.name = ju.at("name").get<std::string>();
      auto split = ParseSplit(ju.at("split").get<std::string>());
      if (!split) return Status::InvalidArgument(path + ": unknown split in unit " + u.name);
      u.split = *split;
      u.archives = ju.at("archives").get<std::vector<std::string>>();
      u.annotation_digit = ju.at("annotation_digit").get<int>();
      u.report_bad_rows = ju.at("report_bad_rows").get<bool>();
      u.inputs = ju.at("inputs").get<std::vector<std::string>>();
      plan->units.push_back(std::move(u));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": malformed plan: " + e.what());
  }
  plan->id = PlanId(*plan);
  if (j.value("id", "") != plan->id) {
    return Status::InvalidArgument(path + ": the plan was edited after `oiv4-kv plan` wrote it "
                                   "(its id does not match its content); make it again");
  }
  return Status::OK();
}

std::string PlanFingerprint(const Plan& plan, const std::string& path) {
  for (const PlanInput& in : plan.inputs) {
    if (in.path == path) return in.fingerprint;
  }
  return "";
}

Status CheckUnitInputs(const Plan& plan, size_t k) {
  for (const std::string& path : plan.units[k].inputs) {
    InputFingerprint then, now;
    if (!InputFingerprint::Decode(PlanFingerprint(plan, path), &then)) {
      return Status::InvalidArgument("the plan has no fingerprint of " + path);
    }
    if (Status s = FingerprintInput(path, &now); !s.ok()) {
      return Status::InvalidArgument("input missing or unreadable since the plan was made: " +
                                     s.message() +
                                     " -- run the unit where the download is at " + plan.source);
    }
    if (!then.SameContent(now)) {
      return Status::InvalidArgument(
          "input changed since the plan was made: " + path + " (" + DescribeChange(then, now) +
          ") -- make a new plan (oiv4-kv plan) and convert every unit again");
    }
  }
  return Status::OK();
}

}  // namespace oiv4kv
