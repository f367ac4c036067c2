// `--show-experts`: each generated token coloured by how many real (FFN) experts it used, averaged over
// layers — the dynamic computation of zero-computation experts made visible.
#pragma once
#include <string>
#include <vector>

namespace longcat::cli {

// ANSI 256-colour background for a share in [0, 1] of the top-k real experts (blue = few, red = many).
std::string ansi_expert_color(double share);
inline const char* ansi_reset() { return "\x1b[0m"; }

// A self-contained HTML page: the tokens as coloured spans with a legend and a histogram.
std::string experts_html(const std::vector<std::string>& pieces, const std::vector<double>& experts_per_layer,
                         int topk);

// The same as an SVG picture (for model cards and docs, where HTML does not render): tokens as coloured boxes
// wrapped at `columns` characters, a legend, and the histogram of rounded real experts per layer.
std::string experts_svg(const std::vector<std::string>& pieces, const std::vector<double>& experts_per_layer, int topk,
                        int columns = 96);

}  // namespace longcat::cli
