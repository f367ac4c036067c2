// A small line plot as a standalone SVG file: linear axes from 0 with 1-2-5 ticks, one polyline per series,
// hollow markers for points flagged as not feasible. Enough for `longcat plan --sweep`; no dependencies.
#pragma once
#include <string>
#include <vector>

namespace longcat::plan {

struct PlotPoint {
  double x = 0, y = 0;
  bool feasible = true;
  std::string tip;  // shown on hover (SVG <title>)
};

struct PlotSeries {
  std::string label;
  std::vector<PlotPoint> points;
};

// The smallest "nice" number (1, 2 or 5 x 10^k) >= x / ticks, the tick step for an axis reaching x.
double nice_tick_step(double x, int ticks = 5);

std::string svg_line_plot(const std::vector<PlotSeries>& series, const std::string& title, const std::string& x_label,
                          const std::string& y_label);

}  // namespace longcat::plan
