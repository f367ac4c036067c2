#include "cli/cli_common.h"

#include <cstdio>
#include <exception>
#include <iostream>

#include "io/mapped_file.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

int run_guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory (try fewer threads, a smaller context or a quantized model)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s (internal)\n", e.what());
    return 1;
  }
}

int parse_or_exit(CLI::App& app, int argc, char** argv) {
  app.set_version_flag("--version", std::string("longcat ") + LONGCAT_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::fprintf(stderr, "error: %s (%s; see `longcat %s --help`)\n", msg.c_str(), app.get_name().c_str(),
                 app.get_name().c_str());
    return 2;
  }
  return -1;
}

std::vector<int32_t> parse_id_list(const std::string& csv, const std::string& field) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i <= csv.size()) {
    size_t j = csv.find(',', i);
    if (j == std::string::npos) j = csv.size();
    std::string item = csv.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) throw UsageError("empty token id in list", field);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0 || v > 0x7fffffff)
      throw UsageError("token id '" + item + "' is not a non-negative integer", field);
    ids.push_back(static_cast<int32_t>(v));
    i = j + 1;
  }
  return ids;
}

void add_threads_option(CLI::App& app, int* threads) {
  *threads = hardware_threads();
  app.add_option("--threads", *threads, "worker threads (default: all cores)")->capture_default_str();
}

void apply_threads(int threads) {
  if (threads < 1) throw UsageError("must be at least 1", "--threads");
  ThreadPool::set_global_threads(threads);
}

void add_no_mmap_option(CLI::App& app, bool* no_mmap) {
  app.add_flag("--no-mmap", *no_mmap,
               "read the weights into memory (transparent huge pages) instead of mapping the files: slower to "
               "start and not shared with the page cache, faster to decode");
}

void apply_no_mmap(bool no_mmap) { set_copy_files_into_memory(no_mmap); }

}  // namespace longcat::cli
