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

std::string experts_svg(const std::vector<std::string>& pieces, const std::vector<double>& experts, int topk,
                        int columns) {
  constexpr double kCharW = 7.2, kLineH = 18, kPad = 10;
  std::string boxes, text;
  std::vector<int> histogram(topk + 1, 0);
  int col = 0, line = 0;
  auto xml = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '<') out += "&lt;";
      else if (c == '>') out += "&gt;";
      else if (c == '&') out += "&amp;";
      else if (c == '"') out += "&quot;";
      else out += c;
    }
    return out;
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    const double e = experts[i];
    histogram[std::clamp(static_cast<int>(std::lround(e)), 0, topk)]++;
    // A piece may hold newlines: each one starts a new line; the visible rest is drawn as one box.
    std::string visible;
    for (char c : pieces[i]) {
      if (c == '\n') {
        ++line;
        col = 0;
      } else if (static_cast<unsigned char>(c) >= 0x20) {
        visible += c;
      }
    }
    int width = 0;  // characters, counting a UTF-8 sequence once
    for (unsigned char c : visible) width += (c & 0xC0) != 0x80;
    if (width == 0) continue;
    if (col + width > columns) {
      ++line;
      col = 0;
    }
    char rect[256];
    std::snprintf(rect, sizeof rect, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                  kPad + col * kCharW, kPad + line * kLineH, width * kCharW, kLineH - 2,
                  kCss[bucket(topk ? e / topk : 0)]);
    boxes += rect;
    char pos[96];
    std::snprintf(pos, sizeof pos, "<text x=\"%.1f\" y=\"%.1f\">", kPad + col * kCharW, kPad + line * kLineH + 12);
    text += pos + xml(visible) + "</text>";
    col += width;
  }
  const double text_h = kPad + (line + 1) * kLineH;
  const double width = 2 * kPad + columns * kCharW;
  // Legend and histogram below the text.
  std::string extra;
  double y = text_h + 16;
  extra += "<text x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(y) + "\">real experts per layer:</text>";
  for (int b = 0; b < 5; ++b) {
    char item[320];
    std::snprintf(item, sizeof item,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"70\" height=\"16\" fill=\"%s\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\">%.1f-%.1f</text>",
                  kPad + 180 + b * 76, y - 12, kCss[b], kPad + 184 + b * 76, y, topk * b / 5.0, topk * (b + 1) / 5.0);
    extra += item;
  }
  const int most = std::max(1, *std::max_element(histogram.begin(), histogram.end()));
  for (int k = 0; k <= topk; ++k) {
    y += 20;
    char bar[320];
    std::snprintf(bar, sizeof bar,
                  "<text x=\"%.1f\" y=\"%.1f\">%d experts</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                  "height=\"14\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%d tokens</text>",
                  kPad, y, k, kPad + 90, y - 11, 300.0 * histogram[k] / most, kCss[bucket(topk ? double(k) / topk : 0)],
                  kPad + 96 + 300.0 * histogram[k] / most, y, histogram[k]);
    extra += bar;
  }
  char head[256];
  std::snprintf(head, sizeof head,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"monospace\" font-size=\"12\">",
                width, y + 2 * kPad);
  return std::string(head) + "<rect width=\"100%\" height=\"100%\" fill=\"#111\"/>" + boxes +
         "<g fill=\"#fff\" xml:space=\"preserve\">" + text + extra + "</g></svg>\n";
}

}  // namespace longcat::cli
