// `longcat dump`: the named intermediates of one prefill, with the fixtures' names and dtypes.
#include <deque>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "io/safetensors.h"
#include "model/longcat_model.h"

namespace longcat::cli {

int cmd_dump(int argc, char** argv) {
  CLI::App app("Prefill token ids once and write every named intermediate (layers.L.attn.{0,1}.out, layers.L.moe.out, "
               "layers.L.out, layers.L.router.topk_ids/topk_weights, hidden_final, logits) as safetensors.",
               "dump");
  std::string model_dir, ids_csv, out_path;
  int threads;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--ids", ids_csv, "comma-separated token ids, used verbatim")->required();
  app.add_option("--out", out_path, "output .safetensors file")->required();
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    const std::vector<int32_t> ids = parse_id_list(ids_csv, "--ids");
    auto model = LongcatModel::load(model_dir);
    model->check_ids(ids.data(), ids.size(), "--ids");
    const int64_t T = ids.size();
    const std::vector<int64_t> pos = consecutive_positions(0, T);

    std::deque<std::vector<float>> f32_store;
    std::deque<std::vector<int32_t>> i32_store;
    std::vector<TensorToWrite> tensors;
    TraceSink sink;
    sink.f32 = [&](const std::string& name, int64_t rows, int64_t cols, const float* d) {
      f32_store.emplace_back(d, d + rows * cols);
      tensors.push_back({name, DType::F32, {rows, cols}, f32_store.back().data()});
    };
    sink.i32 = [&](const std::string& name, int64_t rows, int64_t cols, const int32_t* d) {
      i32_store.emplace_back(d, d + rows * cols);
      tensors.push_back({name, DType::I32, {rows, cols}, i32_store.back().data()});
    };
    SequenceCaches caches = model->new_caches();
    model->forward(caches, ids.data(), pos.data(), T, &sink);
    write_safetensors(out_path, tensors);
    return 0;
  });
}

}  // namespace longcat::cli
