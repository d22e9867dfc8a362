// A failed system call or a bad option, carried from a native thread to JS as an Error with
// code, errno and syscall.
#pragma once
#include <cerrno>
#include <stdexcept>
#include <string>

namespace umlperf {

struct Failure : std::runtime_error {
  std::string code;     // "ECONNREFUSED", "EINVAL", "ENOTFOUND", "ETIMEDOUT", ...
  int err = 0;          // errno, 0 when not from a system call
  std::string syscall;  // "connect", ... or empty
  Failure(std::string code, int err, std::string syscall, const std::string& message)
      : std::runtime_error(message), code(std::move(code)), err(err), syscall(std::move(syscall)) {}
};

// Throws a Failure for errno after `syscall` failed; `what` says what was being done.
[[noreturn]] void throwErrno(const char* syscall, const std::string& what, int err = errno);
[[noreturn]] void throwCode(const char* code, const std::string& message);

}  // namespace umlperf
