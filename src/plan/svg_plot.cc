#include "plan/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace longcat::plan {

namespace {

constexpr double kWidth = 820, kHeight = 520, kLeft = 80, kRight = 220, kTop = 50, kBottom = 60;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-2))
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

double nice_tick_step(double x, int ticks) {
  if (!(x > 0)) return 1;
  const double raw = x / ticks, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw * (1 - 1e-12)) return m * power;
  return 10 * power;
}

std::string svg_line_plot(const std::vector<PlotSeries>& series, const std::string& title, const std::string& x_label,
                          const std::string& y_label) {
  double xmax = 0, ymax = 0;
  for (const auto& s : series)
    for (const auto& p : s.points) {
      xmax = std::max(xmax, p.x);
      ymax = std::max(ymax, p.y);
    }
  const double xstep = nice_tick_step(xmax), ystep = nice_tick_step(ymax);
  xmax = std::max(xstep, std::ceil(xmax / xstep) * xstep);
  ymax = std::max(ystep, std::ceil(ymax / ystep) * ystep);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto X = [&](double x) { return kLeft + pw * x / xmax; };
  auto Y = [&](double y) { return kTop + ph * (1 - y / ymax); };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" + num(kHeight) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(kWidth / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + escape(title) + "</text>\n";
  for (double v = 0; v <= xmax * (1 + 1e-9); v += xstep) {
    s += "<line x1=\"" + num(X(v)) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(X(v)) + "\" y2=\"" + num(kTop + ph) +
         "\" stroke=\"#e5e5e5\"/>\n";
    s += "<text x=\"" + num(X(v)) + "\" y=\"" + num(kTop + ph + 16) + "\" text-anchor=\"middle\">" + tick_label(v) +
         "</text>\n";
  }
  for (double v = 0; v <= ymax * (1 + 1e-9); v += ystep) {
    s += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(Y(v)) + "\" x2=\"" + num(kLeft + pw) + "\" y2=\"" + num(Y(v)) +
         "\" stroke=\"#e5e5e5\"/>\n";
    s += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(Y(v) + 4) + "\" text-anchor=\"end\">" + tick_label(v) +
         "</text>\n";
  }
  s += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"black\"/>\n";
  s += "<text x=\"" + num(kLeft + pw / 2) + "\" y=\"" + num(kHeight - 16) + "\" text-anchor=\"middle\">" +
       escape(x_label) + "</text>\n";
  s += "<text transform=\"translate(18," + num(kTop + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       escape(y_label) + "</text>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    std::string path;
    for (const auto& p : series[i].points) {
      if (!path.empty()) path += ' ';
      path += num(X(p.x));
      path += ',';
      path += num(Y(p.y));
    }
    s += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\" points=\"" + path + "\"/>\n";
    for (const auto& p : series[i].points)
      s += "<circle cx=\"" + num(X(p.x)) + "\" cy=\"" + num(Y(p.y)) + "\" r=\"3.5\" stroke=\"" + color + "\" fill=\"" +
           (p.feasible ? color : std::string("white")) + "\"><title>" + escape(p.tip) + "</title></circle>\n";
    const double ly = kTop + 10 + 18.0 * i;
    s += "<line x1=\"" + num(kLeft + pw + 14) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(kLeft + pw + 34) + "\" y2=\"" +
         num(ly) + "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + num(kLeft + pw + 40) + "\" y=\"" + num(ly + 4) + "\">" + escape(series[i].label) + "</text>\n";
  }
  s += "<text x=\"" + num(kLeft + pw + 14) + "\" y=\"" + num(kTop + 18.0 * series.size() + 24) +
       "\" font-size=\"11\">hollow: does not fit</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace longcat::plan
