// Loader::Resume (oiv4kv/loader.h) with any text as the state, on a small
// store written once (fuzz_store.h): the loader's own fields ("loader1:
// batch_size=...;") and the ScanPosition after them. A state refused is
// InvalidArgument; a state taken must give a loader whose position() is
// itself a state the same options resume from, to the same position.
#include <filesystem>
#include <memory>
#include <string>

#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

std::string* g_dir = nullptr;
oiv4kv::Store* g_store = nullptr;

void RemoveStore() {
  delete g_store;
  std::error_code ec;
  std::filesystem::remove_all(*g_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "oiv4kv-fuzz-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  g_dir = new std::string(tmpl);
  const std::string path = *g_dir + "/store";
  oiv4kv::Status s = oiv4kv::fuzz::WriteFuzzStore(path);
  std::unique_ptr<oiv4kv::Store> store;
  if (s.ok()) s = oiv4kv::Store::Open(path, oiv4kv::StoreOptions(), &store);
  FUZZ_CHECK(s.ok(), "the fuzz store: %s", s.ToString().c_str());
  g_store = store.release();
  std::atexit(RemoveStore);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view state(reinterpret_cast<const char*>(data), size);
  if (state.empty()) return 0;  // empty: Open, not a resume
  const oiv4kv::LoaderOptions options = oiv4kv::fuzz::FuzzLoaderOptions();
  std::unique_ptr<oiv4kv::Loader> loader;
  const oiv4kv::Status s =
      oiv4kv::Loader::Resume(g_store, oiv4kv::Split::kTrain, options, state, &loader);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument(), "%s", s.ToString().c_str());
    return 0;
  }
  FUZZ_CHECK(loader->delivered() <= loader->size(), "%llu of %llu batches delivered",
             static_cast<unsigned long long>(loader->delivered()),
             static_cast<unsigned long long>(loader->size()));
  const std::string position = loader->position();
  std::unique_ptr<oiv4kv::Loader> again;
  const oiv4kv::Status r =
      oiv4kv::Loader::Resume(g_store, oiv4kv::Split::kTrain, options, position, &again);
  FUZZ_CHECK(r.ok(), "position() '%s' does not resume: %s", position.c_str(),
             r.ToString().c_str());
  FUZZ_CHECK(again->position() == position, "'%s' resumes at '%s'", position.c_str(),
             again->position().c_str());
  return 0;
}
