// The subcommands of `longcat`: each is a thin front-end in its own cmd_<name>.cc that parses its options
// with CLI11 and calls into the library. Registered in the table in main.cc.
#pragma once
#include <string>
#include <vector>

namespace longcat::cli {

// argv[0] is the subcommand name; returns the process exit status.
using CommandMain = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  CommandMain main;
};

const std::vector<Command>& all_commands();

int cmd_inspect(int argc, char** argv);
int cmd_logits(int argc, char** argv);
int cmd_dump(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_init(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_detokenize(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_grow(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_plan(int argc, char** argv);
int cmd_tokenizer_train(int argc, char** argv);

}  // namespace longcat::cli
