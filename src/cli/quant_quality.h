// Quality of a quantised model against its reference (bf16) model on the same tokens: next-token
// KL(reference || quantised), top-1 agreement and both perplexities, in windows of `ctx` tokens (each a
// fresh sequence; its first token is context only). Also the calibration pass of `quantize --mixed auto`.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/quant_sensitivity.h"
#include "model/longcat_model.h"

namespace longcat::cli {

struct QualityVsReference {
  int64_t positions = 0;
  double mean_kl = 0, top1 = 0, ppl_reference = 0, ppl = 0;
};

QualityVsReference compare_next_token(const LongcatModel& reference, const LongcatModel& model,
                                      const std::vector<int32_t>& ids, int ctx);

// Input statistics of every linear layer over `ids` run through `model` in windows of `ctx` tokens.
std::map<std::string, InputStats> calibrate(const LongcatModel& model, const std::vector<int32_t>& ids, int ctx);

}  // namespace longcat::cli
