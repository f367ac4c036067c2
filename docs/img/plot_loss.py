#!/usr/bin/env python3
"""Draws a training run's curves from `longcat train`'s train_log.csv: train CE and MTP CE (smoothed), held-out CE
where evaluated, and real experts per token against the target. Several logs may be given (e.g. two seeds of two
configurations); each gets its own colour. No dependencies: the SVG is written by hand.

usage: plot_loss.py OUT.svg TARGET_REAL_EXPERTS LABEL=train_log.csv [LABEL=train_log.csv ...]
"""
import sys

from plot_training import read, smooth  # the same log reader and moving average

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def panel(x0, y0, w, h, title, series, xmax, ymin, ymax, hline=None):
    out = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
           f'<text x="{x0}" y="{y0 - 6}" font-size="13">{title}</text>']
    for k in range(5):
        v = ymin + (ymax - ymin) * k / 4
        y = y0 + h - h * k / 4
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{v:.2f}</text>')
    out.append(f'<text x="{x0 + w}" y="{y0 + h + 14}" font-size="10" text-anchor="end">step {xmax}</text>')
    if hline is not None:
        y = y0 + h - h * (hline - ymin) / (ymax - ymin)
        out.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#000" stroke-dasharray="4 3"/>')
    for xs, ys, color, dash, dots in series:
        pts = " ".join(f"{x0 + w * x / xmax:.1f},{y0 + h - h * (min(max(y, ymin), ymax) - ymin) / (ymax - ymin):.1f}"
                       for x, y in zip(xs, ys))
        if dots:
            for p in pts.split():
                cx, cy = p.split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
        else:
            d = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{d} points="{pts}"/>')
    return out


def main():
    out_path, target = sys.argv[1], float(sys.argv[2])
    runs = []
    for arg in sys.argv[3:]:
        label, path = arg.split("=", 1)
        runs.append((label, read(path)))
    xmax = max(int(r[-1]["step"]) for _, r in runs)
    loss_series, expert_series, legend = [], [], []
    lo, hi = 1e9, -1e9
    for i, (label, rows) in enumerate(runs):
        c = COLORS[i % len(COLORS)]
        steps = [int(r["step"]) for r in rows]
        ce = smooth([float(r["ce"]) for r in rows], 10)
        mtp = smooth([float(r["mtp_ce"]) for r in rows], 10)
        ev = [(int(r["step"]), float(r["eval_ce"])) for r in rows if r["eval_ce"] and float(r["eval_ce"]) >= 0]
        tail = ce[len(ce) // 5:]
        lo, hi = min(lo, min(tail), *(v for _, v in ev)), max(hi, max(tail))
        loss_series += [(steps, ce, c, "", False), (steps, mtp, c, "4 3", False),
                        ([s for s, _ in ev], [v for _, v in ev], c, "", True)]
        experts = smooth([float(r["real_experts"]) for r in rows], 10)
        expert_series.append((steps, experts, c, "", False))
        legend.append((label, c))
    lo, hi = lo - 0.1, hi + 0.1
    W, H = 760, 300
    body = panel(60, 30, 300, 220, "train CE (solid), MTP CE (dashed), held-out CE (dots)", loss_series, xmax, lo, hi)
    body += panel(440, 30, 300, 220, f"real experts per token per layer (target {target})", expert_series, xmax,
                  0, max(target * 1.6, 1), hline=target)
    for i, (label, c) in enumerate(legend):
        body.append(f'<rect x="{60 + 180 * i}" y="{H - 26}" width="12" height="12" fill="{c}"/>'
                    f'<text x="{78 + 180 * i}" y="{H - 16}" font-size="12">{label}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
           f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(body) + "</svg>\n")
    with open(out_path, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
