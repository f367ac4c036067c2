#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace longcat::server {

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

class Writer {
 public:
  void metric(const std::string& name, const char* type, const std::string& help, double value,
              const std::string& labels = "") {
    header(name, type, help);
    out_ += name + labels + " " + num(value) + "\n";
  }
  void header(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void line(const std::string& name, const std::string& labels, double value) {
    out_ += name + labels + " " + num(value) + "\n";
  }
  void histogram(const std::string& name, const std::string& help, const Histogram& h) {
    header(name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.counts[i];
      line(name + "_bucket", "{le=\"" + num(h.bounds[i]) + "\"}", static_cast<double>(cumulative));
    }
    line(name + "_bucket", "{le=\"+Inf\"}", static_cast<double>(h.count));
    line(name + "_sum", "", h.sum);
    line(name + "_count", "", static_cast<double>(h.count));
  }
  std::string text() const { return out_; }

 private:
  std::string out_;
};

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

double resident_memory_bytes() {
  // statm: total and resident sizes in pages. Cheap enough to read on every scrape.
  std::ifstream statm("/proc/self/statm");
  long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

std::string prometheus_text(const SchedulerStats& s, const HttpCounters& http, const std::string& model_id) {
  Writer w;
  w.metric("longcat_model_info", "gauge", "The served model (label model).", 1, "{model=\"" + escape_label(model_id) + "\"}");
  w.metric("longcat_requests_running", "gauge", "Sequences admitted and not finished (a request with n choices counts n).",
           s.running);
  w.metric("longcat_requests_waiting", "gauge", "Sequences queued for admission.", s.waiting);
  w.metric("longcat_requests_admitted_total", "counter", "Requests admitted.", static_cast<double>(s.requests_admitted));
  w.metric("longcat_requests_rejected_total", "counter", "Requests refused with 429 (queue full).",
           static_cast<double>(s.requests_rejected));
  w.header("longcat_sequences_finished_total", "counter", "Sequences finished, by reason.");
  // Every reason from the start (0 until it happens), so a rate over `cancelled` works before the first one.
  auto reasons = s.finished_by_reason;
  for (const char* r : {"stop", "length", "cancelled", "error"}) reasons.try_emplace(r, 0);
  for (const auto& [reason, count] : reasons)
    w.line("longcat_sequences_finished_total", "{reason=\"" + escape_label(reason) + "\"}", static_cast<double>(count));
  w.metric("longcat_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", static_cast<double>(s.prompt_tokens));
  w.metric("longcat_prompt_tokens_cached_total", "counter", "Prompt tokens found in the prefix cache (not recomputed).",
           static_cast<double>(s.cached_prompt_tokens));
  w.metric("longcat_generation_tokens_total", "counter", "Tokens generated.", static_cast<double>(s.generated_tokens));
  w.histogram("longcat_time_to_first_token_seconds", "Arrival to first generated token.", s.ttft);
  w.histogram("longcat_time_per_output_token_seconds", "Mean time per generated token after the first, per sequence.", s.tpot);
  w.metric("longcat_kv_cache_usage_ratio", "gauge", "Fraction of KV cache blocks in use.",
           s.kv_blocks_total ? static_cast<double>(s.kv_blocks_used) / s.kv_blocks_total : 0.0);
  w.metric("longcat_kv_cache_blocks", "gauge", "KV cache blocks in the pool.", s.kv_blocks_total);
  w.metric("longcat_kv_cache_blocks_used", "gauge", "KV cache blocks held by sequences (cached free blocks excluded).",
           s.kv_blocks_used);
  w.metric("longcat_steps_total", "counter", "Batched forward steps.", static_cast<double>(s.steps));
  w.metric("longcat_step_sequences_total", "counter", "Sequences summed over steps.", static_cast<double>(s.step_sequences));
  w.metric("longcat_step_tokens_total", "counter", "Token rows summed over steps.", static_cast<double>(s.step_rows));
  w.metric("longcat_batch_size_mean", "gauge", "Mean sequences per step since start.", s.mean_batch_sequences());
  w.metric("longcat_real_experts_per_token", "gauge",
           "Mean real (FFN) experts used per sampled token, summed over layers.", s.real_experts_per_token());
  if (!s.spec_verified.empty()) {  // serve --speculative mtp
    w.header("longcat_spec_drafts_verified_total", "counter",
             "Drafts that verification reached (every earlier draft of the step kept), by draft position.");
    for (size_t j = 0; j < s.spec_verified.size(); ++j)
      w.line("longcat_spec_drafts_verified_total", "{position=\"" + std::to_string(j + 1) + "\"}",
             static_cast<double>(s.spec_verified[j]));
    w.header("longcat_spec_drafts_accepted_total", "counter", "Drafts kept, by draft position.");
    for (size_t j = 0; j < s.spec_accepted.size(); ++j)
      w.line("longcat_spec_drafts_accepted_total", "{position=\"" + std::to_string(j + 1) + "\"}",
             static_cast<double>(s.spec_accepted[j]));
    w.header("longcat_spec_acceptance_rate", "gauge", "Drafts kept / drafts verified, by draft position, since start.");
    for (size_t j = 0; j < s.spec_verified.size(); ++j)
      w.line("longcat_spec_acceptance_rate", "{position=\"" + std::to_string(j + 1) + "\"}", s.spec_acceptance_rate(j));
    w.metric("longcat_spec_mean_accepted_length", "gauge", "Drafts kept per speculative sequence-step.",
             s.spec_mean_accepted_length());
    w.metric("longcat_spec_tokens_per_target_forward", "gauge",
             "Tokens emitted per speculative sequence-step (one target forward of its rows).",
             s.spec_tokens_per_target_forward());
    w.metric("longcat_spec_steps_total", "counter", "Speculative sequence-steps (verifications).",
             static_cast<double>(s.spec_steps));
  }
  w.histogram("longcat_step_duration_seconds", "Forward plus sampling of one step.", s.step_seconds);
  w.histogram("longcat_step_gap_seconds",
              "Compute idle between consecutive steps of running sequences (end of one forward to start of the next).",
              s.step_gap);
  w.metric("longcat_http_requests_total", "counter", "HTTP requests answered.", static_cast<double>(http.requests));
  w.metric("longcat_http_client_errors_total", "counter", "HTTP 4xx responses.", static_cast<double>(http.client_errors));
  w.metric("longcat_http_server_errors_total", "counter", "HTTP 5xx responses.", static_cast<double>(http.server_errors));
  w.metric("longcat_client_disconnects_total", "counter", "Requests (streamed or not) cancelled because the client went away.",
           static_cast<double>(http.disconnects));
  w.metric("process_resident_memory_bytes", "gauge", "Resident set size of the server process.", resident_memory_bytes());
  return w.text();
}

}  // namespace longcat::server
