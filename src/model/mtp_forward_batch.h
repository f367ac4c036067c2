// The MTP head over several sequences in one pass, for drafting in batched speculative steps: rows stacked
// for the projections and the MLP (each weight read once for the batch), attention per sequence on its own
// MTP cache, lm_head only for each item's last slot (the one that proposes a draft). Each item's result is
// bitwise equal to the last row of LongcatModel::mtp_forward run on it alone (docs/determinism.md).
#pragma once
#include <cstdint>
#include <vector>

#include "model/longcat_model.h"

namespace longcat {

// One sequence's slots: slot i pairs hidden_final[i] with next_ids[i] at positions[i], appending to caches->mtp.
struct MtpBatchItem {
  SequenceCaches* caches = nullptr;
  const int32_t* next_ids = nullptr;
  const float* hidden_final = nullptr;  // [count, hidden]
  const int64_t* positions = nullptr;
  int64_t count = 0;
};

struct MtpBatchOutput {
  std::vector<float> logits;       // [items, vocab]: each item's last slot
  std::vector<float> hidden_last;  // [items, hidden]: the MTP head's output hidden state of that slot
};

MtpBatchOutput mtp_forward_batch(const LongcatModel& model, const std::vector<MtpBatchItem>& items);

}  // namespace longcat
