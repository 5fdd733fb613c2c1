// SPDX-License-Identifier: Apache-2.0
// Status and Result<T>: how every user-causable failure leaves the library.
//
// Status follows leveldb's shape: OK holds nothing, an error holds a code and a
// message of the form "[Function] what is wrong (values); what to do".
// Thread-compatible: a Status is a value; share it like an int.
#ifndef LMHEAD_STATUS_H_
#define LMHEAD_STATUS_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lmhead {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // The caller asked for something impossible (bad shape, bad flag).
  kNotFound,         // A file, tensor or key is missing.
  kCorruption,       // A file exists but its bytes are not what they claim to be.
  kIOError,          // The operating system refused a read, write or map.
  kNotSupported,     // Valid request, but this build or machine cannot do it.
  kInternal,         // A bug in lmhead; please report it.
};

const char* ToString(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(StatusCode::kInvalidArgument, msg);
  }
  static Status NotFound(std::string_view msg) { return Status(StatusCode::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(StatusCode::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(StatusCode::kIOError, msg); }
  static Status NotSupported(std::string_view msg) {
    return Status(StatusCode::kNotSupported, msg);
  }
  static Status Internal(std::string_view msg) { return Status(StatusCode::kInternal, msg); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message alone, without the code name.
  const std::string& message() const;
  // "InvalidArgument: [Plan] ..." or "OK".
  std::string ToString() const;

  // True when the failure was caused by the caller's input (CLI exit code 1).
  bool IsUserError() const { return code() != StatusCode::kInternal; }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  Status(StatusCode code, std::string_view msg)
      : rep_(std::make_shared<const Rep>(Rep{code, std::string(msg)})) {}

  std::shared_ptr<const Rep> rep_;  // Null means OK; errors are rare and immutable.
};

// Result<T> holds either a T or a non-OK Status (C++20 has no std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design.
    if (std::get<Status>(data_).ok()) {
      data_ = Status::Internal("[Result] constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status() : std::get<Status>(data_); }

  // Precondition: ok(). Checked: accessing the value of an error aborts.
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace lmhead

#define LMHEAD_STATUS_CONCAT_INNER_(a, b) a##b
#define LMHEAD_STATUS_CONCAT_(a, b) LMHEAD_STATUS_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define LMHEAD_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::lmhead::Status lmhead_status_ = (expr); \
    if (!lmhead_status_.ok()) return lmhead_status_; \
  } while (0)

// `lhs = value of expr`, or returns its Status. lhs may declare a variable.
#define LMHEAD_ASSIGN_OR_RETURN(lhs, expr) \
  LMHEAD_ASSIGN_OR_RETURN_IMPL_(LMHEAD_STATUS_CONCAT_(lmhead_result_, __LINE__), lhs, expr)
#define LMHEAD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // LMHEAD_STATUS_H_
