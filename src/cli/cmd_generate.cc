// `longcat generate`: prefill a prompt (ids or text), then sample token by token, streaming the text.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/expert_parallel_options.h"
#include "cli/expert_colors.h"
#include "cli/generation_options.h"
#include "model/longcat_model.h"
#include "runtime/stop_strings.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/stream_decoder.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_generate(int argc, char** argv) {
  CLI::App app("Generate text (or token ids) with a LongCat model; temperature 0 is greedy.", "generate");
  std::string model_dir, ids_csv, prompt_text, system_text, experts_html_path, experts_svg_path;
  TextGenerationOptions opts;
  bool json = false, chat = false, show_experts = false;
  std::string speculative = "none";
  int draft_tokens = 1, threads;
  ExpertParallelOptions ep;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  auto* ids_opt = app.add_option("--ids", ids_csv, "prompt as comma-separated token ids, used verbatim");
  auto* prompt_opt = app.add_option("--prompt", prompt_text, "prompt text, tokenized with the model's tokenizer.json");
  ids_opt->excludes(prompt_opt);
  app.add_flag("--chat", chat, "wrap --prompt as one user turn in the model's chat format")->needs(prompt_opt);
  app.add_option("--system", system_text, "system message for --chat");
  add_sampling_options(app, &opts);
  add_speculative_options(app, &speculative, &draft_tokens);
  app.add_flag("--show-experts", show_experts, "colour each token by the real experts it used (terminal)");
  app.add_option("--experts-html", experts_html_path, "also write the coloured tokens as an HTML page");
  app.add_option("--experts-svg", experts_svg_path, "also write the coloured tokens as an SVG picture");
  app.add_flag("--json", json, "one JSON line: ids, text, finish_reason, stats");
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  add_expert_parallel_options(app, &ep);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    apply_speculative_options(speculative, draft_tokens, &opts.gen);
    if (ids_csv.empty() && prompt_text.empty()) throw UsageError("give --ids or --prompt", "generate");
    if (!system_text.empty() && !chat) throw UsageError("--system needs --chat", "--system");
    return with_model(ep, model_dir, true, [&](const LongcatModel& loaded) {
    const LongcatModel* model = &loaded;
    auto tok = load_model_tokenizer(model_dir);
    std::vector<int32_t> prompt;
    if (!ids_csv.empty()) {
      prompt = parse_id_list(ids_csv, "--ids");
    } else {
      if (!tok) throw Error("--prompt needs a tokenizer.json in the model folder (or use --ids)", model_dir);
      std::string text = prompt_text;
      if (chat) {
        std::vector<tokenizer::ChatMessage> messages;
        if (!system_text.empty()) messages.push_back({"system", system_text});
        messages.push_back({"user", prompt_text});
        text = tokenizer::render_chat(messages);
      }
      for (int id : tok->encode(text, /*add_special=*/!chat)) prompt.push_back(id);
    }
    model->check_ids(prompt.data(), prompt.size(), "--ids");
    if (!opts.stops.empty() && !tok) throw Error("--stop needs a tokenizer.json in the model folder", model_dir);

    const bool colour = show_experts && !json;
    const int topk = model->config().moe_topk, layers = model->config().num_layers;
    std::unique_ptr<tokenizer::StreamDecoder> stream;
    if (tok) stream = std::make_unique<tokenizer::StreamDecoder>(*tok, /*skip_special=*/true);
    StopStringFilter stops(opts.stops);
    std::vector<std::string> pieces;
    std::vector<double> experts_per_layer;
    auto show = [&](const std::string& text, double per_layer) {
      if (json || text.empty()) return;
      if (colour)
        std::printf("%s%s%s", ansi_expert_color(per_layer / topk).c_str(), text.c_str(), ansi_reset());
      else
        std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
    };
    GenerationResult r = generate(*model, prompt, opts.gen, [&](int32_t id, int real_experts) {
      const double per_layer = static_cast<double>(real_experts) / layers;
      experts_per_layer.push_back(per_layer);
      if (!stream) {
        pieces.push_back(std::to_string(id) + " ");
        show(pieces.back(), per_layer);
        return true;
      }
      pieces.push_back(stream->push(id));
      show(stops.push(pieces.back()), per_layer);
      return !stops.stopped();
    });
    if (stream) {
      pieces.push_back(stream->finish());
      show(stops.push(pieces.back()), 0);
      show(stops.finish(), 0);
    }
    const double decode_tps = r.decode_seconds > 0 ? r.ids.size() / r.decode_seconds : 0;
    double mean_experts = 0;
    for (double e : experts_per_layer) mean_experts += e;
    if (!experts_per_layer.empty()) mean_experts /= experts_per_layer.size();
    if (!experts_html_path.empty()) {
      std::ofstream out(experts_html_path);
      experts_per_layer.resize(pieces.size(), 0.0);
      out << experts_html(pieces, experts_per_layer, topk);
      if (!out) throw Error("cannot write", experts_html_path);
    }
    if (!experts_svg_path.empty()) {
      std::ofstream out(experts_svg_path);
      experts_per_layer.resize(pieces.size(), 0.0);
      out << experts_svg(pieces, experts_per_layer, topk);
      if (!out) throw Error("cannot write", experts_svg_path);
    }
    nlohmann::ordered_json spec_stats;
    if (r.speculative) spec_stats = speculative_stats_json(*r.speculative);
    if (json) {
      std::string text;
      if (stream) text = stops.text();
      nlohmann::ordered_json j = {
          {"ids", r.ids},
          {"text", text},
          {"finish_reason", r.finish_reason},
          {"stats",
           {{"prompt_tokens", r.prompt_tokens},
            {"generated_tokens", r.ids.size()},
            {"prefill_seconds", r.prefill_seconds},
            {"decode_seconds", r.decode_seconds},
            {"decode_tokens_per_second", decode_tps},
            {"real_experts_per_layer_mean", mean_experts},
            {"real_experts", r.real_experts}}},
      };
      if (r.speculative) j["stats"]["speculative"] = spec_stats;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("\n");
      std::fflush(stdout);  // the stats line on stderr comes after the text, not inside it
      std::fprintf(stderr, "%zu tokens, %.2f tokens/s, %.2f real experts per layer, finish: %s\n", r.ids.size(),
                   decode_tps, mean_experts, r.finish_reason.c_str());
      if (r.speculative) std::fprintf(stderr, "%s\n", speculative_stats_line(*r.speculative).c_str());
    }
    return 0;
    });
  });
}

}  // namespace longcat::cli
