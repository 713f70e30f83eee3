#pragma once

#include <stdexcept>
#include <string>

namespace didicm {

// A failed run or bad input data: the tools exit with status 1. The message is
// one line, context first and cause last: "<file or value>: <what failed>".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad command line (unknown flag, invalid combination of options): exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace didicm
