#include "train/grow.h"

#include <filesystem>

#include "io/checkpoint.h"
#include "train/train_checkpoint.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace longcat::train {

void grow_model(const std::string& from, int factor, const std::string& out) {
  if (factor < 1) throw UsageError("must be at least 1", "--factor");
  const ModelConfig cfg = load_folder_config(from);
  ModelConfig grown = cfg;
  grown.num_layers = cfg.num_layers * factor;
  const ParamLayout source = ParamLayout::build(cfg), target = ParamLayout::build(grown);
  const ParamArrays<float> w = read_model_params(from, source);
  ParamArrays<float> v(target.params.size());
  const std::string prefix = "model.layers.";
  for (size_t i = 0; i < target.params.size(); ++i) {
    std::string name = target.params[i].name;
    if (name.rfind(prefix, 0) == 0) {
      const size_t dot = name.find('.', prefix.size());
      const int layer = std::stoi(name.substr(prefix.size(), dot - prefix.size()));
      name = prefix + std::to_string(layer % cfg.num_layers) + name.substr(dot);
    }
    v[i] = w[source.index(name)];
  }
  fs::create_directories(out);
  write_model_files(out, grown, target, v, DType::F32, {{"grown_from_layers", std::to_string(cfg.num_layers)}});
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    if (fs::exists(fs::path(from) / f))
      fs::copy_file(fs::path(from) / f, fs::path(out) / f, fs::copy_options::overwrite_existing);
}

}  // namespace longcat::train
