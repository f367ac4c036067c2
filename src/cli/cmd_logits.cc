// `longcat logits`: one prefill at positions 0..T-1, logits (and MTP logits) written as F32 safetensors.
#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/expert_parallel_options.h"
#include "io/safetensors.h"
#include "kernels/ops.h"
#include "model/longcat_model.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_logits(int argc, char** argv) {
  CLI::App app("Prefill token ids once (positions 0..T-1) and write F32 `logits` [T, vocab] to a safetensors file.",
               "logits");
  std::string model_dir, ids_csv, out_path;
  bool mtp = false;
  int threads;
  ExpertParallelOptions ep;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--ids", ids_csv, "comma-separated token ids, used verbatim")->required();
  app.add_option("--out", out_path, "output .safetensors file")->required();
  app.add_flag("--mtp", mtp, "also write `mtp_logits` [T, vocab] from the MTP head");
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  add_expert_parallel_options(app, &ep);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    const std::vector<int32_t> ids = parse_id_list(ids_csv, "--ids");
    return with_model(ep, model_dir, true, [&](const LongcatModel& loaded) {
    const LongcatModel* model = &loaded;
    model->check_ids(ids.data(), ids.size(), "--ids");
    const int64_t T = ids.size(), V = model->config().vocab_size;
    const std::vector<int64_t> pos = consecutive_positions(0, T);
    SequenceCaches caches = model->new_caches();
    ForwardOutput out = model->forward(caches, ids.data(), pos.data(), T);
    std::vector<TensorToWrite> tensors = {{"logits", DType::F32, {T, V}, out.logits.data()}};
    std::vector<float> mtp_logits;
    if (mtp) {
      // Slot i pairs hidden_final[i] with token i+1; the last slot uses the argmax of the last logits row.
      std::vector<int32_t> next(T);
      for (int64_t i = 0; i + 1 < T; ++i) next[i] = ids[i + 1];
      next[T - 1] = static_cast<int32_t>(argmax(out.logits.data() + (T - 1) * V, V));
      mtp_logits = model->mtp_forward(caches, next.data(), out.hidden_final.data(), pos.data(), T);
      tensors.push_back({"mtp_logits", DType::F32, {T, V}, mtp_logits.data()});
    }
    write_safetensors(out_path, tensors);
    return 0;
    });
  });
}

}  // namespace longcat::cli
