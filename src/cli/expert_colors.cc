#include "cli/expert_colors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace longcat::cli {

namespace {
// Five steps from cool to hot in the xterm 256-colour cube.
constexpr int kAnsi[] = {17, 25, 71, 172, 160};
constexpr const char* kCss[] = {"#00005f", "#005faf", "#5faf5f", "#d78700", "#d70000"};

int bucket(double share) { return std::clamp(static_cast<int>(share * 5.0), 0, 4); }

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}
}  // namespace

std::string ansi_expert_color(double share) {
  return "\x1b[48;5;" + std::to_string(kAnsi[bucket(share)]) + "m\x1b[97m";
}

std::string experts_html(const std::vector<std::string>& pieces, const std::vector<double>& experts, int topk) {
  std::string body;
  std::vector<int> histogram(topk + 1, 0);
  for (size_t i = 0; i < pieces.size(); ++i) {
    double e = experts[i];
    histogram[std::clamp(static_cast<int>(std::lround(e)), 0, topk)]++;
    char title[64];
    std::snprintf(title, sizeof title, "%.2f real experts per layer", e);
    body += std::string("<span style=\"background:") + kCss[bucket(topk ? e / topk : 0)] + "\" title=\"" + title +
            "\">" + html_escape(pieces[i]) + "</span>";
  }
  std::string legend;
  for (int b = 0; b < 5; ++b) {
    char item[160];
    std::snprintf(item, sizeof item, "<span style=\"background:%s\">&nbsp;%.1f&ndash;%.1f&nbsp;</span> ", kCss[b],
                  topk * b / 5.0, topk * (b + 1) / 5.0);
    legend += item;
  }
  std::string hist = "<table><tr><th>real experts (rounded)</th><th>tokens</th></tr>";
  for (int k = 0; k <= topk; ++k)
    hist += "<tr><td>" + std::to_string(k) + "</td><td>" + std::to_string(histogram[k]) + "</td></tr>";
  hist += "</table>";
  return "<!doctype html><meta charset=\"utf-8\"><title>longcat: real experts per token</title>"
         "<style>body{font-family:monospace;color:#fff;background:#111;white-space:pre-wrap}"
         "td,th{padding:0 1em}</style><p>real experts per layer: " +
         legend + "</p><p>" + body + "</p>" + hist;
}

}  // namespace longcat::cli
