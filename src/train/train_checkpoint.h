// Trainer checkpoints. A checkpoint is a model folder in the official layout that the engine loads unchanged
// (model.safetensors with F32 weights under the official names, config.json, generation_config.json) plus
// trainer_state.safetensors (Adam moments as F32 "adam.m.<name>"/"adam.v.<name>", the step and the data
// loader's state in the metadata). save_checkpoint writes it into DIR.tmp and renames that to DIR, so a
// killed run leaves either the whole checkpoint or none.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "io/dtype.h"
#include "io/model_config.h"
#include "train/optimizer.h"
#include "train/param_table.h"

namespace longcat::train {

// model.safetensors + config.json + generation_config.json into `dir` (which must exist). `dtype` F32 or BF16;
// with BF16 every tensor but e_score_correction_bias is rounded (the official bf16 release does the same).
void write_model_files(const std::string& dir, const ModelConfig& cfg, const ParamLayout& layout,
                       const ParamArrays<float>& w, DType dtype, const std::map<std::string, std::string>& metadata);

// The weights of any model folder the engine can load (F32, BF16 or F16 tensors), in the layout's order.
ParamArrays<float> read_model_params(const std::string& dir, const ParamLayout& layout);

struct TrainerState {
  int64_t step = 0;                             // optimizer updates applied
  std::map<std::string, std::string> metadata;  // loader state and run options
};

void save_checkpoint(const std::string& dir, const ModelConfig& cfg, const ParamLayout& layout,
                     const ParamArrays<float>& w, const AdamState<float>& adam, const TrainerState& state);
// Reads weights, Adam moments and state; Error naming the file when anything is missing.
void load_checkpoint(const std::string& dir, const ParamLayout& layout, ParamArrays<float>* w, AdamState<float>* adam,
                     TrainerState* state);

// Writes text to `path` atomically (temporary file + rename).
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace longcat::train
