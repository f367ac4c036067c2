// `longcat chat`: a conversation in the model's chat format. Interactive on a terminal (/reset, /quit);
// otherwise one user message per stdin line and one reply per stdout line.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/generation_options.h"
#include "model/longcat_model.h"
#include "runtime/stop_strings.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/stream_decoder.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_chat(int argc, char** argv) {
  CLI::App app("Chat with a LongCat model in its chat format. On a terminal: type messages, /reset to start over, "
               "/quit to leave. With stdin redirected: one message per line in, one reply per line out.",
               "chat");
  std::string model_dir, system_text;
  TextGenerationOptions opts;
  std::string speculative = "none";
  int draft_tokens = 1, threads;
  app.add_option("--model", model_dir, "Hugging Face style model folder (with tokenizer.json)")->required();
  app.add_option("--system", system_text, "system message");
  add_sampling_options(app, &opts);
  add_speculative_options(app, &speculative, &draft_tokens);
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    apply_speculative_options(speculative, draft_tokens, &opts.gen);
    auto model = LongcatModel::load(model_dir, /*report=*/false);
    auto tok = load_model_tokenizer(model_dir);
    if (!tok) throw Error("chat needs a tokenizer.json in the model folder", model_dir);
    const bool interactive = isatty(STDIN_FILENO);
    std::vector<tokenizer::ChatMessage> history;
    if (!system_text.empty()) history.push_back({"system", system_text});
    const size_t fresh = history.size();
    std::string line;
    for (;;) {
      if (interactive) {
        std::fprintf(stderr, "> ");
        std::fflush(stderr);
      }
      if (!std::getline(std::cin, line)) break;
      if (interactive && line == "/quit") break;
      if (interactive && line == "/reset") {
        history.resize(fresh);
        std::fprintf(stderr, "(conversation reset)\n");
        continue;
      }
      history.push_back({"user", line});
      std::vector<int32_t> prompt;
      for (int id : tok->encode(tokenizer::render_chat(history))) prompt.push_back(id);
      tokenizer::StreamDecoder stream(*tok, /*skip_special=*/true);
      StopStringFilter stops(opts.stops);
      auto emit = [&](const std::string& piece) {
        std::string shown = stops.push(piece);
        if (!interactive)
          for (char& c : shown)
            if (c == '\n') c = ' ';  // one reply per line
        std::fputs(shown.c_str(), stdout);
        std::fflush(stdout);
      };
      GenerationResult r = generate(*model, prompt, opts.gen, [&](int32_t id, int) {
        emit(stream.push(id));
        return !stops.stopped();
      });
      emit(stream.finish());
      std::fputs(stops.finish().c_str(), stdout);
      std::fputs("\n", stdout);
      std::fflush(stdout);
      history.push_back({"assistant", stops.text()});
      if (interactive && r.speculative) std::fprintf(stderr, "%s\n", speculative_stats_line(*r.speculative).c_str());
    }
    return 0;
  });
}

}  // namespace longcat::cli
