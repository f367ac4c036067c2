#include "model/longcat_model.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/dense_mlp.h"
#include "model/memory_check.h"
#include "model/mla_attention.h"
#include "model/scmoe_layer.h"
#include "util/error.h"
#include "util/scratch_arena.h"
#include "util/thread_pool.h"

namespace longcat {

std::vector<int64_t> consecutive_positions(int64_t first, int64_t count) {
  std::vector<int64_t> positions(count);
  std::iota(positions.begin(), positions.end(), first);
  return positions;
}

uint64_t fresh_cache_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

void SequenceCaches::truncate(int64_t tokens) {
  for (auto& c : attention) c.truncate(std::min(tokens, c.size()));
  mtp.truncate(std::min(tokens, mtp.size()));
}

std::unique_ptr<LongcatModel> LongcatModel::load(const std::string& dir, bool report, const ExpertFilter& owns) {
  auto m = std::unique_ptr<LongcatModel>(new LongcatModel());
  m->cfg_ = load_folder_config(dir);
  m->ckpt_ = std::make_unique<Checkpoint>(dir);
  if (report) report_memory_preflight(dir, m->ckpt_->total_bytes());
  m->w_ = bind_model_weights(*m->ckpt_, m->cfg_, owns);
  return m;
}

SequenceCaches LongcatModel::new_caches() const {
  SequenceCaches c;
  for (int i = 0; i < cfg_.attention_blocks(); ++i) c.attention.emplace_back(cfg_.kv_lora_rank, cfg_.qk_rope_head_dim);
  c.mtp = LatentKvCache(cfg_.kv_lora_rank, cfg_.qk_rope_head_dim);
  return c;
}

void LongcatModel::check_ids(const int32_t* ids, int64_t n, const std::string& where) const {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= cfg_.vocab_size)
      throw Error("token id " + std::to_string(ids[i]) + " is out of the vocabulary (size " +
                      std::to_string(cfg_.vocab_size) + ")",
                  where);
}

void SequenceCaches::reserve(int64_t tokens) {
  for (auto& c : attention) c.reserve(tokens);
  mtp.reserve(tokens);
}

namespace {
void embed_rows(const Weight& table, const int32_t* ids, int64_t S, float* out) {
  for (int64_t s = 0; s < S; ++s) dequantize_row(table, ids[s], out + s * table.cols);
}
}  // namespace

ForwardOutput LongcatModel::forward(SequenceCaches& caches, const int32_t* ids, const int64_t* positions, int64_t S,
                                    const TraceSink* trace) const {
  BatchOutput b = forward_batch({BatchItem{&caches, ids, positions, S, true}}, trace);
  ForwardOutput out;
  out.logits = std::move(b.logits);
  out.hidden_final = std::move(b.hidden_final);
  out.real_experts = std::move(b.real_experts);
  return out;
}

BatchOutput LongcatModel::forward_batch(const std::vector<BatchItem>& items, const TraceSink* trace) const {
  BatchOutput out;
  forward_batch(items, &out, trace);
  return out;
}

void LongcatModel::forward_batch(const std::vector<BatchItem>& items, BatchOutput* result,
                                 const TraceSink* trace) const {
  const int64_t H = cfg_.hidden_size, V = cfg_.vocab_size;
  BatchOutput& out = *result;  // resized, never shrunk: a reused output keeps its storage
  out.first_row.clear();
  out.logits_row.clear();
  // Stack the items' rows; each item's rows form one span per attention block.
  int64_t S = 0, logit_rows = 0;
  for (const BatchItem& item : items) {
    if (!item.caches || item.count <= 0) throw Error("a batch item has no caches or no tokens", "forward_batch");
    check_ids(item.ids, item.count, "token ids");
    for (const BatchItem& other : items)
      if (&other != &item && other.caches == item.caches)
        throw Error("one sequence's caches appear twice in a batch", "forward_batch");
    out.first_row.push_back(S);
    out.logits_row.push_back(logit_rows);
    S += item.count;
    logit_rows += item.all_logits ? item.count : 1;
  }
  if (observer_) observer_->before_forward(items);
  ScratchFrame scratch;
  int32_t* ids = scratch.take<int32_t>(S);
  int64_t* positions = scratch.take<int64_t>(S);
  for (size_t k = 0; k < items.size(); ++k) {
    std::copy_n(items[k].ids, items[k].count, ids + out.first_row[k]);
    std::copy_n(items[k].positions, items[k].count, positions + out.first_row[k]);
  }
  // The spans of one attention block: each item's rows and that item's cache of the block.
  const size_t n_items = items.size();
  CacheSpan* spans = scratch.take<CacheSpan>(2 * n_items);
  auto fill_spans = [&](int block, CacheSpan* into) {
    for (size_t k = 0; k < n_items; ++k) into[k] = {out.first_row[k], items[k].count, &items[k].caches->attention[block]};
  };

  float* h = scratch.take<float>(S * H);
  embed_rows(w_.embed, ids, S, h);
  out.real_experts.assign(S, 0);
  thread_local Routing routing;  // reused layer after layer, step after step
  for (int L = 0; L < cfg_.num_layers; ++L) {
    fill_spans(2 * L, spans);
    fill_spans(2 * L + 1, spans + n_items);
    scmoe_layer_forward(cfg_, w_.layers[L], L, h, positions, S, SpanList{spans, n_items},
                        SpanList{spans + n_items, n_items}, trace, &routing, experts_);
    for (int64_t s = 0; s < S; ++s) out.real_experts[s] += routing.real_experts_of(s, cfg_.n_routed_experts);
  }
  out.hidden_final.resize(S * H);
  rms_norm_rows(h, w_.final_norm.data(), static_cast<float>(cfg_.rms_norm_eps), S, H, out.hidden_final.data());
  trace_f32(trace, "hidden_final", S, H, out.hidden_final.data());

  // lm_head only over the rows whose logits are wanted (a prefill chunk usually needs just its last).
  const float* selected = out.hidden_final.data();
  if (logit_rows != S) {
    float* gathered = scratch.take<float>(logit_rows * H);
    for (size_t k = 0; k < items.size(); ++k) {
      const int64_t rows = items[k].all_logits ? items[k].count : 1;
      const int64_t from = out.first_row[k] + items[k].count - rows;
      std::copy_n(&out.hidden_final[from * H], rows * H, gathered + out.logits_row[k] * H);
    }
    selected = gathered;
  }
  out.logits.resize(logit_rows * V);
  matmul(w_.lm_head, selected, logit_rows, out.logits.data());
  trace_f32(trace, "logits", logit_rows, V, out.logits.data());
}

std::vector<float> LongcatModel::mtp_forward(SequenceCaches& caches, const int32_t* next_ids, const float* hidden_final,
                                             const int64_t* positions, int64_t S, std::vector<float>* mtp_hidden) const {
  if (!w_.mtp.present) throw Error("model has no MTP head (model.mtp.*)", ckpt_->dir());
  check_ids(next_ids, S, "MTP token ids");
  const MtpWeights& t = w_.mtp;
  const int64_t H = cfg_.hidden_size, V = cfg_.vocab_size;
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  // eh_proj(cat[enorm(embed(next)), hnorm(h)])
  std::vector<float> joined(S * 2 * H);
  std::vector<float> row(H);
  for (int64_t s = 0; s < S; ++s) {
    dequantize_row(t.embed, next_ids[s], row.data());
    rms_norm(row.data(), t.enorm.data(), eps, H, &joined[s * 2 * H]);
    rms_norm(hidden_final + s * H, t.hnorm.data(), eps, H, &joined[s * 2 * H + H]);
  }
  std::vector<float> x(S * H), normed(S * H), block(S * H);
  matmul(t.eh_proj, joined.data(), S, x.data());
  rms_norm_rows(x.data(), t.input_norm.data(), eps, S, H, normed.data());
  mla_attention(cfg_, t.attn, normed.data(), positions, S, &caches.mtp, block.data());
  for (int64_t i = 0; i < S * H; ++i) x[i] += block[i];
  rms_norm_rows(x.data(), t.post_attention_norm.data(), eps, S, H, normed.data());
  swiglu_mlp(t.mlp, normed.data(), S, block.data());
  for (int64_t i = 0; i < S * H; ++i) x[i] += block[i];
  rms_norm_rows(x.data(), t.final_norm.data(), eps, S, H, normed.data());
  if (mtp_hidden) *mtp_hidden = normed;
  std::vector<float> logits(S * V);
  matmul(w_.lm_head, normed.data(), S, logits.data());
  return logits;
}

}  // namespace longcat
