// A loaded LongCat-Flash model: config, mapped checkpoint, bound weights, and the forward passes of the
// main model (ScMoE layers) and of the MTP head. Sequence state (the latent caches) lives outside, in
// SequenceCaches, so one model serves many sequences.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/model_config.h"
#include "model/latent_kv_cache.h"
#include "model/model_weights.h"
#include "model/moe_executor.h"
#include "model/trace.h"

namespace longcat {

uint64_t fresh_cache_id();

struct SequenceCaches {
  std::vector<LatentKvCache> attention;  // [2 * num_layers]: layer L block i at 2L + i
  LatentKvCache mtp;
  // Names these caches to the other ranks of an expert-parallel job (dist/step_broadcast.h): moves keep it,
  // a copy is a new sequence and gets a new one.
  uint64_t id = fresh_cache_id();

  SequenceCaches() = default;
  SequenceCaches(const SequenceCaches& o) : attention(o.attention), mtp(o.mtp) {}
  SequenceCaches& operator=(const SequenceCaches& o) {
    attention = o.attention;
    mtp = o.mtp;
    id = fresh_cache_id();
    return *this;
  }
  SequenceCaches(SequenceCaches&&) = default;
  SequenceCaches& operator=(SequenceCaches&&) = default;

  int64_t tokens() const { return attention.empty() ? 0 : attention[0].size(); }
  void truncate(int64_t tokens);  // drop entries past `tokens` (rejected drafts, rewinds)
  void reserve(int64_t tokens);   // room for `tokens` entries in every cache (no reallocation up to there)
};

// Positions first, first+1, ..., first+count-1: a prompt at the start of a sequence, or a run of new tokens.
std::vector<int64_t> consecutive_positions(int64_t first, int64_t count);

struct ForwardOutput {
  std::vector<float> logits;        // [S, vocab]
  std::vector<float> hidden_final;  // [S, hidden] after the final norm
  std::vector<int> real_experts;    // [S]: real (FFN) experts used per token, summed over layers
};

// One sequence's new tokens in a batched step.
struct BatchItem {
  SequenceCaches* caches = nullptr;
  const int32_t* ids = nullptr;
  const int64_t* positions = nullptr;
  int64_t count = 0;
  bool all_logits = false;  // logits for every row, or only for the last one
};

struct BatchOutput {
  std::vector<float> logits;        // selected rows [rows, vocab]: per item all `count` rows or only its last
  std::vector<int64_t> logits_row;  // [items] first logits row of each item
  std::vector<float> hidden_final;  // [total rows, hidden], all rows, items stacked in order
  std::vector<int64_t> first_row;   // [items] first row of each item in hidden_final / real_experts
  std::vector<int> real_experts;    // [total rows] real experts used per token, summed over layers
};

// Told of every batched forward before it runs: under expert parallelism rank 0 broadcasts the step (ids,
// positions, which caches) so the other ranks run the same forward and take part in its exchanges.
class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  virtual void before_forward(const std::vector<BatchItem>& items) const = 0;
  // A sequence is done with its caches (the server finished it): the other ranks may free their mirrors.
  // Called from any thread; it reaches them with the next forward.
  virtual void released(uint64_t /*cache_id*/) const {}
};

class LongcatModel {
 public:
  // Loads config, maps the checkpoint and binds all weights; prints the pre-flight memory check to stderr
  // when `report` is set.
  // `owns` limits the FFN experts bound (expert parallelism: this rank's slice; model_weights.h).
  static std::unique_ptr<LongcatModel> load(const std::string& dir, bool report = true, const ExpertFilter& owns = {});

  // Expert parallelism (src/dist/): every ScMoE layer's MoE runs through `experts`, and `observer` hears of
  // each forward first. Both outlive the model's use; nullptr restores the local path.
  void set_expert_parallel(MoeExecutor* experts, const ForwardObserver* observer) {
    experts_ = experts;
    observer_ = observer;
  }

  // Tells the observer (if any) that `caches` will never be forwarded again.
  void release_caches(const SequenceCaches& caches) const {
    if (observer_) observer_->released(caches.id);
  }

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  const Checkpoint& checkpoint() const { return *ckpt_; }
  bool has_mtp() const { return w_.mtp.present; }

  SequenceCaches new_caches() const;

  // Runs tokens `ids` at `positions` (S each) through the main model, appending to the caches.
  ForwardOutput forward(SequenceCaches& caches, const int32_t* ids, const int64_t* positions, int64_t S,
                        const TraceSink* trace = nullptr) const;

  // Several sequences in one pass: the linear layers and experts run over all their rows together (each
  // expert reads its weights once for the whole batch), attention per sequence on its own caches. Each row's
  // results are bitwise identical to running its item alone (docs/determinism.md).
  BatchOutput forward_batch(const std::vector<BatchItem>& items, const TraceSink* trace = nullptr) const;
  // The same into *out, reusing its storage: with a reused output (and caches with room), a decode step
  // makes no heap allocation (src/model/decode_allocation_test.cc).
  void forward_batch(const std::vector<BatchItem>& items, BatchOutput* out, const TraceSink* trace = nullptr) const;

  // MTP head: slot i pairs hidden_final[i] with token next_ids[i] at positions[i]; returns [S, vocab].
  std::vector<float> mtp_forward(SequenceCaches& caches, const int32_t* next_ids, const float* hidden_final,
                                 const int64_t* positions, int64_t S, std::vector<float>* mtp_hidden = nullptr) const;

  void check_ids(const int32_t* ids, int64_t n, const std::string& where) const;

 private:
  ModelConfig cfg_;
  std::unique_ptr<Checkpoint> ckpt_;
  ModelWeights w_;
  MoeExecutor* experts_ = nullptr;
  const ForwardObserver* observer_ = nullptr;
};

}  // namespace longcat
