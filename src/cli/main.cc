// `longcat <command> [options]`: dispatches to the subcommand front-ends (docs/cli.md).
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/command.h"

namespace longcat::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      {"logits", "prefill token ids and write the logits (and MTP logits) as safetensors", cmd_logits},
      {"dump", "write the named intermediate tensors of one prefill", cmd_dump},
      {"generate", "generate text or token ids from a prompt", cmd_generate},
      {"chat", "chat in the model's chat format (interactive, or one message per stdin line)", cmd_chat},
      {"serve", "OpenAI-compatible HTTP server with continuous batching", cmd_serve},
      {"inspect", "parameter counts, activated parameters and cache size of a model", cmd_inspect},
      {"init", "write a model folder with random weights in the official layout", cmd_init},
      {"quantize", "rewrite a model's linear weights as int8, int4, fp8 or bf16", cmd_quantize},
      {"bench", "prefill and decode speed against this machine's bandwidth and FMA limits", cmd_bench},
      {"perplexity", "mean negative log-likelihood and perplexity of a text or token-id file", cmd_perplexity},
      {"tokenize", "encode text to token ids with a tokenizer.json", cmd_tokenize},
      {"detokenize", "decode token ids to text with a tokenizer.json", cmd_detokenize},
      {"train", "train a LongCat-architecture model (bias controller, MTP, checkpoints)", cmd_train},
      {"grow", "stack a model's layers to grow its depth", cmd_grow},
      {"plan", "deployment planner: decode TPOT, throughput, price and memory from first principles", cmd_plan},
      {"tokenizer-train", "train a byte-level BPE tokenizer.json on text", cmd_tokenizer_train},
  };
  return commands;
}

}  // namespace longcat::cli

static void print_usage(FILE* out) {
  std::fprintf(out, "usage: longcat <command> [options]   (longcat <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : longcat::cli::all_commands()) std::fprintf(out, "  %-16s %s\n", c.name, c.summary);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("longcat %s\n", LONGCAT_VERSION);
    return 0;
  }
  for (const auto& c : longcat::cli::all_commands())
    if (name == c.name) return c.main(argc - 1, argv + 1);
  std::fprintf(stderr, "error: unknown command '%s' (run `longcat --help` for the list)\n", name.c_str());
  return 2;
}
