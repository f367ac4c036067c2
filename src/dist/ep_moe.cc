#include "dist/ep_moe.h"

#include <mpi.h>

#include <chrono>
#include <climits>

#include "dist/mpi_runtime.h"
#include "model/dense_mlp.h"
#include "util/error.h"

namespace longcat::dist {

namespace {
int checked_count(int64_t n, const char* what) {
  if (n > INT_MAX) throw Error("exchange too large for one MPI call (split the batch)", what);
  return static_cast<int>(n);
}
std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  for (size_t i = 1; i < counts.size(); ++i) d[i] = d[i - 1] + counts[i - 1];
  return d;
}
}  // namespace

void ExpertParallelMoe::begin(const ModelConfig& cfg, const MoeWeights& w, int layer, const float* x, int64_t S) {
  cfg_ = &cfg;
  w_ = &w;
  x_ = x;
  S_ = S;
  layer_ = layer;
  const int N = own_.ranks, me = own_.rank;
  const int64_t H = cfg.hidden_size;
  routing_ = route_tokens(cfg, w, x, S);
  dispatch_ = dispatch_tokens(cfg, routing_);
  ++stats_.moe_calls;

  // needs[s * N + q]: token s has a real expert owned by rank q.
  std::vector<char> needs(S * N, 0);
  for (int e = 0; e < cfg.n_routed_experts; ++e) {
    if (dispatch_.per_expert[e].empty()) continue;
    stats_.routed_experts.insert(e);
    const int q = own_.owner(e);
    for (const auto& p : dispatch_.per_expert[e]) needs[p.token * N + q] = 1;
  }
  std::vector<int64_t> send_rows(N, 0), recv_rows(N, 0);
  for (int64_t s = 0; s < S; ++s) {
    const int home = home_of(s);
    for (int q = 0; q < N; ++q) {
      if (!needs[s * N + q] || q == home) continue;
      if (home == me) ++send_rows[q];
      if (q == me) ++recv_rows[home];
    }
  }
  send_counts_.assign(N, 0);
  recv_counts_.assign(N, 0);
  for (int q = 0; q < N; ++q) {
    send_counts_[q] = checked_count(send_rows[q] * H, "dispatch");
    recv_counts_[q] = checked_count(recv_rows[q] * H, "dispatch");
  }
  send_displs_ = displacements(send_counts_);
  recv_displs_ = displacements(recv_counts_);
  send_rows_.resize(send_displs_.back() + send_counts_.back());
  recv_rows_.resize(recv_displs_.back() + recv_counts_.back());
  // Rows go out in ascending token order per destination, and arrive in that order from each home rank.
  std::vector<int64_t> send_at(send_displs_.begin(), send_displs_.end()), recv_at(recv_displs_.begin(), recv_displs_.end());
  row_offset_.assign(S, INT64_MIN);
  for (int64_t s = 0; s < S; ++s) {
    const int home = home_of(s);
    if (home == me) {
      for (int q = 0; q < N; ++q)
        if (q != me && needs[s * N + q]) {
          std::copy_n(x + s * H, H, &send_rows_[send_at[q]]);
          send_at[q] += H;
        }
      if (needs[s * N + me]) row_offset_[s] = -1 - s;
    } else if (needs[s * N + me]) {
      row_offset_[s] = recv_at[home];
      recv_at[home] += H;
    }
  }
  stats_.dispatch_bytes_sent += static_cast<int64_t>(send_rows_.size() * sizeof(float));
  comm_.post([this] {
    MPI_Request r;
    check_mpi(MPI_Ialltoallv(send_rows_.data(), send_counts_.data(), send_displs_.data(), MPI_FLOAT, recv_rows_.data(),
                             recv_counts_.data(), recv_displs_.data(), MPI_FLOAT, MPI_COMM_WORLD, &r),
              "MPI_Ialltoallv (dispatch)");
    complete_request(&r, "MPI_Ialltoallv (dispatch)");
  });
}

void ExpertParallelMoe::run_experts() {
  stats_.dispatch_wait_seconds += comm_.wait();
  stats_.dispatch_seconds += comm_.last_job_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t H = cfg_->hidden_size;
  const int N = own_.ranks;
  // This rank's experts, ascending, each over its picks in token order (exactly run_expert's gather).
  own_outputs_.clear();
  std::vector<float> gathered;
  for (int e = own_.first(own_.rank); e < own_.end(own_.rank); ++e) {
    const auto& picks = dispatch_.per_expert[e];
    if (picks.empty()) continue;
    const MlpWeights& expert = w_->experts[e];
    if (!expert.gate_proj.data) throw Error("expert weights not bound on their owner rank", "mlp.experts." + std::to_string(e));
    const int64_t n = static_cast<int64_t>(picks.size());
    gathered.resize(n * H);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = row_offset_[picks[i].token];
      if (at == INT64_MIN) throw Error("a dispatched row is missing", "expert parallel dispatch");
      const float* row = at >= 0 ? &recv_rows_[at] : x_ + (-1 - at) * H;
      std::copy_n(row, H, gathered.data() + i * H);
    }
    const size_t base = own_outputs_.size();
    own_outputs_.resize(base + n * H);
    swiglu_mlp(expert, gathered.data(), n, own_outputs_.data() + base);
    stats_.computed_experts.insert(e);
    stats_.expert_rows += n;
  }
  stats_.expert_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out_counts_.assign(N, 0);
  for (int e = 0; e < cfg_->n_routed_experts; ++e)
    out_counts_[own_.owner(e)] += checked_count(static_cast<int64_t>(dispatch_.per_expert[e].size()) * H, "combine");
  out_displs_ = displacements(out_counts_);
  all_outputs_.resize(out_displs_.back() + out_counts_.back());
  stats_.combine_bytes_sent += static_cast<int64_t>(own_outputs_.size() * sizeof(float)) * (N - 1);
  stats_.combine_bytes_received += static_cast<int64_t>((all_outputs_.size() - own_outputs_.size()) * sizeof(float));
  comm_.post([this] {
    MPI_Request r;
    check_mpi(MPI_Iallgatherv(own_outputs_.data(), static_cast<int>(own_outputs_.size()), MPI_FLOAT, all_outputs_.data(),
                              out_counts_.data(), out_displs_.data(), MPI_FLOAT, MPI_COMM_WORLD, &r),
              "MPI_Iallgatherv (combine)");
    complete_request(&r, "MPI_Iallgatherv (combine)");
  });
}

Routing ExpertParallelMoe::finish(float* out) {
  stats_.combine_wait_seconds += comm_.wait();
  stats_.combine_seconds += comm_.last_job_seconds();
  // Owners are contiguous and ascending, so the gathered blocks are every expert's outputs in ascending id:
  // exactly the packed layout combine_expert_outputs sums, with moe_forward's float operations.
  combine_expert_outputs(*cfg_, dispatch_, all_outputs_.data(), x_, S_, out);
  return std::move(routing_);
}

}  // namespace longcat::dist
