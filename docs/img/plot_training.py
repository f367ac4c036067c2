#!/usr/bin/env python3
"""Draws docs/img/bias_controller.svg from two `longcat train` logs (train_log.csv), with and without the
expert-bias controller. No dependencies: the SVG is written by hand.

usage: plot_training.py WITH.csv WITHOUT.csv TARGET OUT.svg
"""
import csv
import sys


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def smooth(values, window=25):
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def polyline(xs, ys, x0, y0, w, h, xmax, ymin, ymax, color, width=1.5, dash=""):
    pts = " ".join(
        f"{x0 + w * x / xmax:.1f},{y0 + h - h * (y - ymin) / (ymax - ymin):.1f}" for x, y in zip(xs, ys))
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{color}" stroke-width="{width}"{d} points="{pts}"/>'


def axes(x0, y0, w, h, xmax, ymin, ymax, title, ylabel, yticks):
    s = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>',
         f'<text x="{x0 + w / 2}" y="{y0 - 8}" text-anchor="middle" font-size="14">{title}</text>',
         f'<text x="{x0 - 42}" y="{y0 + h / 2}" font-size="12" transform="rotate(-90 {x0 - 42} {y0 + h / 2})" '
         f'text-anchor="middle">{ylabel}</text>',
         f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle" font-size="12">step</text>']
    for t in yticks:
        y = y0 + h - h * (t - ymin) / (ymax - ymin)
        s.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        s.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{t:g}</text>')
    for i in range(6):
        step = xmax * i / 5
        x = x0 + w * i / 5
        s.append(f'<text x="{x:.1f}" y="{y0 + h + 16}" text-anchor="middle" font-size="11">{step:.0f}</text>')
    return s


def main():
    with_rows, without_rows, target, out = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    steps = [int(r["step"]) for r in with_rows]
    xmax = max(steps)
    real_on = smooth([float(r["real_experts"]) for r in with_rows])
    real_off = smooth([float(r["real_experts"]) for r in without_rows])
    experts = sorted((k for k in with_rows[0] if k.startswith("load_e")), key=lambda k: int(k[6:]))
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="900" height="380" font-family="sans-serif">',
           '<rect width="900" height="380" fill="white"/>']
    lo = min(min(real_on), min(real_off), target) * 0.9
    hi = max(max(real_on), max(real_off), target) * 1.1
    ticks = [round(lo + (hi - lo) * i / 4, 2) for i in range(5)]
    svg += axes(70, 40, 360, 280, xmax, lo, hi, "real experts per token (per layer)", "experts", ticks)
    svg.append(polyline([0, xmax], [target, target], 70, 40, 360, 280, xmax, lo, hi, "#999", 1, "6,4"))
    svg.append(polyline(steps, real_off, 70, 40, 360, 280, xmax, lo, hi, "#d62728"))
    svg.append(polyline(steps, real_on, 70, 40, 360, 280, xmax, lo, hi, "#1f77b4"))
    svg.append(f'<text x="80" y="60" font-size="11" fill="#1f77b4">bias controller</text>')
    svg.append(f'<text x="80" y="74" font-size="11" fill="#d62728">--no-bias-controller</text>')
    svg.append(f'<text x="80" y="88" font-size="11" fill="#999">target K_e = {target:g}</text>')
    loads = {k: smooth([float(r[k]) for r in with_rows]) for k in experts}
    hi2 = max(max(v) for v in loads.values()) * 1.15
    ticks2 = [round(hi2 * i / 4, 3) for i in range(5)]
    svg += axes(520, 40, 360, 280, xmax, 0, hi2, "expert load with the controller", "tokens routed / tokens", ticks2)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf"]
    fair = target / len(experts)
    svg.append(polyline([0, xmax], [fair, fair], 520, 40, 360, 280, xmax, 0, hi2, "#999", 1, "6,4"))
    for i, k in enumerate(experts):
        svg.append(polyline(steps, loads[k], 520, 40, 360, 280, xmax, 0, hi2, palette[i % len(palette)], 1))
    svg.append(f'<text x="530" y="60" font-size="11" fill="#555">one line per FFN expert; dashed: K_e / N</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
