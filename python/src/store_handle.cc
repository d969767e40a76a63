#include "python/src/store_handle.h"

#include <pthread.h>

#include <atomic>
#include <mutex>

#include <pybind11/pybind11.h>

#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

std::atomic<uint64_t> g_fork_generation{0};

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Registered once, when the module first opens a store.
void RegisterForkHandler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, &OnForkChild); });
}

}  // namespace

uint64_t ForkGeneration() { return g_fork_generation.load(std::memory_order_relaxed); }

StoreHandle::StoreHandle(std::string path, const StoreOptions& options)
    : path_(std::move(path)), options_(options) {
  RegisterForkHandler();
  generation_ = ForkGeneration();
  store_ = OpenOrThrow();
}

std::shared_ptr<const Store> StoreHandle::OpenOrThrow() const {
  std::unique_ptr<Store> store;
  Status status;
  {
    py::gil_scoped_release release;  // the open walks the annotations
    status = Store::Open(path_, options_, &store);
  }
  ThrowIfError(status);
  return std::shared_ptr<const Store>(std::move(store));
}

std::shared_ptr<const Store> StoreHandle::Get() {
  if (generation_ == ForkGeneration()) return store_;
  // A fork happened since the store was opened: this is a child (or a
  // grandchild). Reopen, then leak the inherited Store (see the header).
  // OpenOrThrow releases the GIL, so another thread may reopen meanwhile;
  // the last one to finish wins and the others' stores are closed normally.
  std::shared_ptr<const Store> reopened = OpenOrThrow();
  const uint64_t generation = ForkGeneration();
  if (generation_ != generation) {
    new std::shared_ptr<const Store>(std::move(store_));  // never destroyed
    store_ = std::move(reopened);
    generation_ = generation;
  }
  return store_;
}

}  // namespace oiv4kv::python
