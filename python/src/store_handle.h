// StoreHandle: a Store that follows its Python object across fork().
//
// PyTorch DataLoader workers fork the process that opened a Store. A forked
// child inherits the parent's RocksDB objects in whatever state the parent's
// threads left them (a mutex may be held by a thread that does not exist in
// the child), so the child must not use them, nor destroy them (destruction
// joins threads that are gone). The handle therefore notices a fork (a
// pthread_atfork counter, no syscall per call) and, at the child's first use,
// opens the store again and leaks the parent's Store object on purpose: its
// mmap'ed files stay mapped, so arrays the parent handed out stay valid.
//
// Thread safety: every call must hold the GIL, which guards the handle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "oiv4kv/options.h"
#include "oiv4kv/store.h"

namespace oiv4kv::python {

// Bumped in the child after every fork() of this process.
uint64_t ForkGeneration();

class StoreHandle {
 public:
  // Opens the store; raises the Python error of a failed open (GIL held).
  StoreHandle(std::string path, const StoreOptions& options);

  // The Store of this process, reopened after a fork. Views keep the
  // returned pointer, which keeps the Store alive. Raises on a failed reopen.
  std::shared_ptr<const Store> Get();

  const std::string& path() const { return path_; }
  const StoreOptions& options() const { return options_; }

 private:
  std::shared_ptr<const Store> OpenOrThrow() const;

  const std::string path_;
  const StoreOptions options_;
  std::shared_ptr<const Store> store_;
  uint64_t generation_;
};

}  // namespace oiv4kv::python
