// `longcat serve`: the OpenAI-compatible HTTP server (docs/server.md). Listens first (/health answers 503
// while the model loads), then serves until SIGTERM or SIGINT, which drain it: no new requests, running ones
// finish within --shutdown-grace seconds (then are cancelled), and the process exits 0.
// Under `mpirun -np N ... serve --expert-parallel` every rank maps its slice of the experts; rank 0 serves
// (listening once the model is loaded) and the other ranks follow its forwards; SIGTERM to rank 0 drains the
// server and then stops the followers.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/expert_parallel_options.h"
#include "cli/generation_options.h"
#include "dist/expert_parallel.h"
#include "model/longcat_model.h"
#include "runtime/scheduler.h"
#include "server/http_server.h"
#include "util/error.h"

namespace longcat::cli {

namespace {
std::string folder_name(const std::string& dir) {
  std::filesystem::path p(dir);
  while (p.has_relative_path() && p.filename().empty()) p = p.parent_path();  // "models/tiny/" -> "tiny"
  return p.filename().string();
}
}  // namespace

int cmd_serve(int argc, char** argv) {
  CLI::App app("Serve a LongCat model over an OpenAI-compatible HTTP API with continuous batching.", "serve");
  std::string model_dir, alias, port_file;
  server::ServerOptions http;
  SchedulerOptions sched;
  int kv_tokens = 32768, threads;
  double grace_s = 30;
  bool no_overlap = false, no_prefix_sharing = false;
  std::string speculative = "none";
  int draft_tokens = 1;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--host", http.host, "address to listen on")->capture_default_str();
  app.add_option("--port", http.port, "port to listen on (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--port-file", port_file, "write the port listened on to this file once bound");
  app.add_option("--alias", alias, "model id served and expected in requests (default: the folder name)");
  app.add_option("--api-key", http.api_key, "require `Authorization: Bearer KEY` on every route but /health");
  app.add_option("--cors-origin", http.cors_origin, "Access-Control-Allow-Origin for browser clients ('' disables CORS)")
      ->capture_default_str();
  app.add_option("--max-running", sched.max_running, "sequences decoded together at most")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-waiting", sched.max_waiting, "sequences queued at most; beyond, requests get 429")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--step-tokens", sched.step_tokens, "token rows per batched step at most")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--prefill-chunk", sched.prefill_chunk, "prompt tokens of one sequence per step at most")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--kv-cache-tokens", kv_tokens, "tokens the paged KV cache holds over all sequences")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--block-tokens", sched.block_tokens, "tokens per KV cache block (a power of two)")->capture_default_str();
  app.add_flag("--no-prefix-sharing", no_prefix_sharing, "do not share the KV blocks of identical prompt prefixes");
  app.add_flag("--no-overlap", no_overlap, "run bookkeeping and compute in turn instead of overlapped (for comparison)");
  app.add_option("--default-max-tokens", http.default_max_tokens, "max_tokens of a request that gives none")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-body-bytes", http.max_body_bytes, "largest request body (413 beyond)")->capture_default_str();
  app.add_option("--timeout", http.read_timeout_s, "seconds to wait for a request's bytes")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--http-threads", http.http_threads, "connections served at once (each stream holds one)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--shutdown-grace", grace_s, "seconds running requests may take to finish after SIGTERM")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--speculative", speculative,
                 "mtp: self-speculative decoding with the MTP head (turns overlap and prefix sharing off)")
      ->capture_default_str()->check(CLI::IsMember({"none", "mtp"}));
  app.add_option("--draft-tokens", draft_tokens, "with --speculative mtp: drafts per step")
      ->capture_default_str()->check(CLI::Range(1, 8));
  ExpertParallelOptions ep;
  add_expert_parallel_options(app, &ep);
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;

  // SIGTERM/SIGINT are taken by sigwait below, never by a handler: block them before any thread starts so
  // every thread inherits the mask. A client that disconnects must not kill us with SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Serves `preloaded` (expert parallelism: the session loaded this rank's part) or loads the model itself
  // after listening, so /health answers 503 while it loads.
  auto serve = [&](const LongcatModel* preloaded) -> int {
    server::HttpServer server(http);
    const int port = server.start();
    if (!port_file.empty()) {
      std::ofstream(port_file) << port << "\n";
    }
    std::fprintf(stderr, "longcat serve: listening on http://%s:%d (model '%s'%s)\n", http.host.c_str(), port,
                 http.model_id.c_str(), preloaded ? "" : " loading");

    std::unique_ptr<LongcatModel> loaded;
    const LongcatModel* model = preloaded;
    std::unique_ptr<tokenizer::Tokenizer> tok;
    std::unique_ptr<Scheduler> scheduler;
    try {
      if (!model) {
        loaded = LongcatModel::load(model_dir);
        model = loaded.get();
      }
      tok = load_model_tokenizer(model_dir);
      scheduler = std::make_unique<Scheduler>(*model, tok.get(), sched);
    } catch (...) {
      server.shutdown(std::chrono::milliseconds(0));
      throw;
    }
    server.set_engine({model, tok.get(), scheduler.get()});
    std::fprintf(stderr, "longcat serve: ready (%d KV blocks of %d tokens%s)\n", sched.kv_blocks, sched.block_tokens,
                 tok ? "" : "; no tokenizer.json: token-id prompts only");

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "longcat serve: %s, draining (up to %.0f s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", grace_s);
    // mpirun also sends SIGTERM when another rank died; the drain then cannot finish (the steps wait on the dead
    // rank) and mpirun kills this rank after its own grace. Say so, so the log explains the cut-off streams.
    if (preloaded && sig == SIGTERM)
      std::fprintf(stderr, "longcat serve: under mpirun a SIGTERM also means another rank failed or was killed; "
                           "if so, mpirun prints which one\n");
    server.shutdown(std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000)));
    scheduler.reset();
    std::fprintf(stderr, "longcat serve: stopped\n");
    return 0;
  };

  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    sched.overlap = !no_overlap;
    sched.prefix_sharing = !no_prefix_sharing;
    sched.draft_tokens = speculative == "mtp" ? draft_tokens : 0;
    if (sched.block_tokens < 1 || (sched.block_tokens & (sched.block_tokens - 1)))
      throw UsageError("must be a power of two", "--block-tokens");
    sched.kv_blocks = (kv_tokens + sched.block_tokens - 1) / sched.block_tokens;
    http.model_id = alias.empty() ? folder_name(model_dir) : alias;
    http.write_timeout_s = std::max(http.write_timeout_s, http.read_timeout_s);
    if (!ep.enabled) return serve(nullptr);

    // The followers mirror each sequence's caches from the steps rank 0 broadcasts; a sequence that starts
    // from shared prefix blocks would arrive with cached tokens the mirrors never saw, so sharing is off.
    sched.prefix_sharing = false;
    dist::ExpertParallelSession session(model_dir, ep.overlap == "sbo" ? MoeOverlap::sbo : MoeOverlap::none);
    if (!session.leader()) return session.follow();
    std::fprintf(stderr, "longcat serve: expert parallel, prefix sharing off\n");
    const int status = run_guarded([&] { return serve(&session.model()); });
    session.finish(status);
    return status;
  });
}

}  // namespace longcat::cli
