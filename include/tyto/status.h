// Status and Result<T>: how every fallible call in Tyto reports failure.
//
// Errors are values. A Status is either OK or carries a named code and a message written for
// the person who will read it ("config.yml:3:5: unknown key 'listne', did you mean 'listen'?").
// Exceptions never cross a subsystem boundary; expected failures (bad input, out-of-order
// samples, a full disk) are Statuses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tyto {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // input from outside is malformed (payload, config, query)
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the system is not in a state where the call can run
  kResourceExhausted,   // a limit was hit (size, series, connections)
  kUnauthenticated,     // missing or wrong credentials
  kPermissionDenied,    // valid credentials without the needed scope
  kUnavailable,         // retryable: shutting down, overloaded
  kDeadlineExceeded,
  kCancelled,           // the caller gave up (a client went away)
  kIOError,             // the operating system refused (see message for errno text)
  kNoSpace,             // disk full (ENOSPC, EDQUOT)
  kCorruption,          // stored data failed a checksum or structural check
  kOutOfOrderSample,    // a sample older than the out-of-order window
  kDuplicateSample,     // same timestamp, different value
  kUnimplemented,
  kInternal,            // a bug: an invariant did not hold
};

// The code's name as it appears in logs and JSON ("invalid_argument").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>", for adding where an error happened.
  Status WithContext(std::string_view prefix) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
inline Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
inline Status DeadlineExceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
inline Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
inline Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Precondition: ok(). Accessing the value of an error is a bug.
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tyto

// Returns from the enclosing function if `expr` yields a non-OK Status.
#define TYTO_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::tyto::Status tyto_status_ = (expr);   \
    if (!tyto_status_.ok()) return tyto_status_; \
  } while (0)

#define TYTO_CONCAT_INNER_(a, b) a##b
#define TYTO_CONCAT_(a, b) TYTO_CONCAT_INNER_(a, b)
// Declares `lhs` from a Result, or returns its Status from the enclosing function.
#define TYTO_ASSIGN_OR_RETURN(lhs, expr) \
  TYTO_ASSIGN_OR_RETURN_IMPL_(TYTO_CONCAT_(tyto_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration and cannot be parenthesized.
#define TYTO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
