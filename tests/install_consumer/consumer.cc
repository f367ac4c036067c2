// Loads a model with the installed library and prints its first greedy token: proves the public headers,
// the static library and the package config are complete.
#include <cstdio>

#include "kernels/ops.h"
#include "model/longcat_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL_DIR\n");
    return 2;
  }
  auto model = longcat::LongcatModel::load(argv[1], false);
  auto caches = model->new_caches();
  int32_t ids[] = {1, 17, 42};
  int64_t pos[] = {0, 1, 2};
  auto out = model->forward(caches, ids, pos, 3);
  const int64_t V = model->config().vocab_size;
  std::printf("%lld\n", static_cast<long long>(longcat::argmax(out.logits.data() + 2 * V, V)));
  return 0;
}
