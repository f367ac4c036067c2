// The MTP head over several sequences in one pass (see mtp_forward_batch.h).
#include "model/mtp_forward_batch.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/dense_mlp.h"
#include "model/mla_attention.h"
#include "util/error.h"

namespace longcat {

MtpBatchOutput mtp_forward_batch(const LongcatModel& model, const std::vector<MtpBatchItem>& items) {
  if (!model.has_mtp()) throw Error("model has no MTP head (model.mtp.*)", model.checkpoint().dir());
  const ModelConfig& cfg = model.config();
  const MtpWeights& t = model.weights().mtp;
  const int64_t H = cfg.hidden_size, V = cfg.vocab_size;
  const float eps = static_cast<float>(cfg.rms_norm_eps);
  int64_t S = 0;
  std::vector<int64_t> first(items.size());
  for (size_t k = 0; k < items.size(); ++k) {
    const MtpBatchItem& item = items[k];
    if (!item.caches || item.count <= 0) throw Error("a batch item has no caches or no slots", "mtp_forward_batch");
    model.check_ids(item.next_ids, item.count, "MTP token ids");
    for (size_t o = 0; o < k; ++o)
      if (items[o].caches == item.caches) throw Error("one sequence's caches appear twice in a batch", "mtp_forward_batch");
    first[k] = S;
    S += item.count;
  }
  // The same operations as mtp_forward, row by row: eh_proj(cat[enorm(embed(next)), hnorm(h)]), then the layer.
  std::vector<float> joined(S * 2 * H), row(H);
  std::vector<int64_t> positions(S);
  std::vector<CacheSpan> spans;
  for (size_t k = 0; k < items.size(); ++k) {
    const MtpBatchItem& item = items[k];
    for (int64_t i = 0; i < item.count; ++i) {
      const int64_t s = first[k] + i;
      dequantize_row(t.embed, item.next_ids[i], row.data());
      rms_norm(row.data(), t.enorm.data(), eps, H, &joined[s * 2 * H]);
      rms_norm(item.hidden_final + i * H, t.hnorm.data(), eps, H, &joined[s * 2 * H + H]);
      positions[s] = item.positions[i];
    }
    spans.push_back({first[k], item.count, &item.caches->mtp});
  }
  std::vector<float> x(S * H), normed(S * H), block(S * H);
  matmul(t.eh_proj, joined.data(), S, x.data());
  rms_norm_rows(x.data(), t.input_norm.data(), eps, S, H, normed.data());
  mla_attention(cfg, t.attn, normed.data(), positions.data(), S, spans, block.data());
  for (int64_t i = 0; i < S * H; ++i) x[i] += block[i];
  rms_norm_rows(x.data(), t.post_attention_norm.data(), eps, S, H, normed.data());
  swiglu_mlp(t.mlp, normed.data(), S, block.data());
  for (int64_t i = 0; i < S * H; ++i) x[i] += block[i];
  MtpBatchOutput out;
  const int64_t n = static_cast<int64_t>(items.size());
  std::vector<float> last(n * H);
  for (int64_t k = 0; k < n; ++k) std::copy_n(&x[(first[k] + items[k].count - 1) * H], H, &last[k * H]);
  out.hidden_last.resize(n * H);
  rms_norm_rows(last.data(), t.final_norm.data(), eps, n, H, out.hidden_last.data());
  out.logits.resize(n * V);
  matmul(model.weights().lm_head, out.hidden_last.data(), n, out.logits.data());
  return out;
}

}  // namespace longcat
