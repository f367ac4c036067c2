#include "test_util.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace longcat::testing {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CommandResult run_longcat(const std::string& args, const std::string& stdin_text) {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "longcat_cmd_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  const std::string in = base + ".in", out = base + ".out", err = base + ".err";
  {
    std::ofstream f(in, std::ios::binary);
    f << stdin_text;
  }
  std::string cmd = std::string(LONGCAT_BINARY) + " " + args + " <" + in + " >" + out + " 2>" + err;
  int raw = std::system(cmd.c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

}  // namespace longcat::testing
