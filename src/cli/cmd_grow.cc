// `longcat grow`: model growth by layer stacking (docs/training.md).
#include "cli/cli_common.h"
#include "cli/command.h"
#include "train/grow.h"

namespace longcat::cli {

int cmd_grow(int argc, char** argv) {
  CLI::App app("Stack a trained model's layers (layer L of the result is layer L mod n of the source) to "
               "continue training a deeper model.",
               "grow");
  app.option_defaults()->always_capture_default();
  std::string from, out;
  int factor = 2;
  app.add_option("--from", from, "model folder to grow")->required();
  app.add_option("--factor", factor, "depth multiplier");
  app.add_option("--out", out, "output model folder (F32)")->required();
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    train::grow_model(from, factor, out);
    return 0;
  });
}

}  // namespace longcat::cli
