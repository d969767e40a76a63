#include "store/convert/source_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

namespace oiv4kv {
namespace {

namespace fs = std::filesystem;

bool HasJpegChild(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".jpg") return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> ArchiveStems(Split split) {
  if (split != Split::kTrain) return {std::string(SplitName(split))};
  std::vector<std::string> stems;
  for (char c : std::string("0123456789abcdef")) stems.push_back(std::string("train_") + c);
  return stems;
}

Status FindSourceFiles(const std::string& root, std::span<const Split> splits,
                       SourceFiles* out) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::InvalidArgument(root + ": --source is not a folder");
  }
  // Every file name (and folder holding .jpg files) we look for -> where found.
  std::map<std::string, std::vector<std::string>> found;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      // An extracted archive: train_<hex> always (it may be empty); a
      // "validation" or "test" folder only when it holds images, since a
      // split subfolder of CSVs has the same name.
      const bool train_archive = name.size() == 7 && name.starts_with("train_") &&
                                 std::isxdigit(static_cast<unsigned char>(name[6]));
      if (train_archive || HasJpegChild(it->path())) found[name + "/"].push_back(it->path().string());
    } else {
      found[name].push_back(it->path().string());
    }
  }
  if (ec) return Status::IOError(root + ": " + ec.message());

  std::vector<std::string> problems;
  auto one = [&](const std::string& name, std::string* path) {
    auto it = found.find(name);
    if (it == found.end()) {
      problems.push_back("missing " + name);
    } else if (it->second.size() > 1) {
      problems.push_back(name + " found twice: " + it->second[0] + " and " + it->second[1]);
    } else {
      *path = it->second[0];
    }
  };
  one("class-descriptions.csv", &out->class_descriptions);
  one("class-descriptions-boxable.csv", &out->boxable_descriptions);
  one("classes-trainable.txt", &out->trainable_list);
  for (Split split : splits) {
    SplitSources& s = out->splits[static_cast<int>(split)];
    const std::string prefix(SplitName(split));
    one(prefix + "-annotations-bbox.csv", &s.bbox_csv);
    one(prefix + "-annotations-human-imagelabels.csv", &s.human_csv);
    one(prefix + "-annotations-machine-imagelabels.csv", &s.machine_csv);
    s.archives.clear();
    for (const std::string& stem : ArchiveStems(split)) {
      std::vector<std::string> forms;
      for (const std::string& name : {stem + ".tar.gz", stem + ".tar", stem + "/"}) {
        auto it = found.find(name);
        if (it != found.end()) forms.insert(forms.end(), it->second.begin(), it->second.end());
      }
      if (forms.empty()) {
        problems.push_back("missing " + stem + ".tar.gz (or " + stem + ".tar, or an extracted " +
                           stem + "/ folder)");
      } else if (forms.size() > 1) {
        problems.push_back("archive " + stem + " found twice: " + forms[0] + " and " + forms[1]);
      } else {
        s.archives.push_back(forms[0]);
      }
    }
  }
  if (problems.empty()) return Status::OK();
  std::string msg = root + ": the download is incomplete or ambiguous:";
  for (const std::string& p : problems) msg += "\n  " + p;
  return Status::InvalidArgument(msg);
}

}  // namespace oiv4kv
