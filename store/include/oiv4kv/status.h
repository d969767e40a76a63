// Status: the outcome of an oiv4kv operation. No exceptions cross the API;
// every fallible call returns a Status (LevelDB style).
// Thread-safe: a Status is an immutable value.
#pragma once

#include <string>
#include <string_view>

#include "oiv4kv/export.h"

namespace oiv4kv {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,
    kCorruption,
    kInvalidArgument,
    kIOError,
    kNotSupported,
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status Corruption(std::string_view msg) {
    return {Code::kCorruption, msg};
  }
  static Status InvalidArgument(std::string_view msg) {
    return {Code::kInvalidArgument, msg};
  }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status NotSupported(std::string_view msg) {
    return {Code::kNotSupported, msg};
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: <message>", or "OK".
  OIV4KV_EXPORT std::string ToString() const;

  // The same status with "<context>: " put before the message.
  OIV4KV_EXPORT Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Returns from the enclosing function if `expr` is not OK.
#define OIV4KV_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::oiv4kv::Status _oiv4kv_s = (expr);     \
    if (!_oiv4kv_s.ok()) return _oiv4kv_s;   \
  } while (0)

}  // namespace oiv4kv
