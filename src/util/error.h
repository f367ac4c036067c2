// The one error type of longcat: a message plus the file, tensor or field at fault.
// Every command catches it at the top and prints `error: <what> (<where>)` (docs/cli.md), exit 1.
#pragma once
#include <stdexcept>
#include <string>

namespace longcat {

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string where)
      : std::runtime_error(where.empty() ? what : what + " (" + where + ")"),
        what_(std::move(what)), where_(std::move(where)) {}
  const std::string& problem() const { return what_; }
  const std::string& location() const { return where_; }

 private:
  std::string what_;
  std::string where_;
};

// A usage mistake on the command line (exit status 2 instead of 1).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace longcat
