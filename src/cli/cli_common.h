// Shared pieces of the command front-ends: CLI11 setup with the conventions of docs/cli.md,
// and the error-to-exit-status wrapper.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace longcat::cli {

// Runs body() and maps failures to docs/cli.md exit statuses: 0 ok, 1 runtime failure, 2 usage error.
// Every failure prints one line `error: <what> (<where>)` on stderr.
int run_guarded(const std::function<int()>& body);

// Parses argv with the app (argv[0] is the subcommand). Returns -1 to continue, or an exit status
// (0 after --help/--version, 2 on a usage error).
int parse_or_exit(CLI::App& app, int argc, char** argv);

// "5,17,42" -> {5, 17, 42}; throws UsageError naming `field` on anything else.
std::vector<int32_t> parse_id_list(const std::string& csv, const std::string& field);

// Adds the --threads option (default: all cores) and applies it after parsing.
void add_threads_option(CLI::App& app, int* threads);
void apply_threads(int threads);

// Adds --no-mmap (read the checkpoint into anonymous huge-page memory instead of mapping it, io/mapped_file.h)
// and applies it after parsing, before the model is loaded.
void add_no_mmap_option(CLI::App& app, bool* no_mmap);
void apply_no_mmap(bool no_mmap);

}  // namespace longcat::cli
