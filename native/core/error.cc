#include "error.h"

#include <cstring>

namespace umlperf {

void throwErrno(const char* syscall, const std::string& what, int err) {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "E" + std::to_string(err);
  throw Failure(code, err, syscall, what + ": " + strerror(err) + " (" + syscall + ")");
}

void throwCode(const char* code, const std::string& message) { throw Failure(code, 0, "", message); }

}  // namespace umlperf
