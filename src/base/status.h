// Status and Expected<T>: how expected failures (bad files, bad input) travel without exceptions.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace semantic {

enum class StatusCode { kOk = 0, kInvalidArgument, kNotFound, kOutOfRange, kDataLoss, kIo,
                        kUnimplemented, kResourceExhausted, kInternal };

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIo, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Expected<T>: a value or a non-OK Status.
template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}          // NOLINT(implicit)
  Expected(Status status) : v_(std::move(status)) {}   // NOLINT(implicit)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace semantic

// Early-return helpers for Status / Expected.
#define SEMANTIC_CONCAT_INNER(a, b) a##b
#define SEMANTIC_CONCAT(a, b) SEMANTIC_CONCAT_INNER(a, b)
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::semantic::Status _st = (expr);               \
    if (!_st.ok()) return _st;                     \
  } while (0)
#define ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto SEMANTIC_CONCAT(_exp_, __LINE__) = (expr);                     \
  if (!SEMANTIC_CONCAT(_exp_, __LINE__).ok())                         \
    return SEMANTIC_CONCAT(_exp_, __LINE__).status();                 \
  lhs = std::move(SEMANTIC_CONCAT(_exp_, __LINE__)).value()
