#!/usr/bin/env python3
"""Plot the bundled model's training curves (models/longcat-tinystories/img/training.svg) from the trainer's
train_log.csv files of its stages, one after the other: CE (train, MTP, held-out) and real experts per token.

usage: scripts/plot-training-curves.py STAGE1.csv STAGE2.csv [STAGE3.csv ...] OUT.svg

A documentation tool (python3 standard library only), not part of the engine or its tests. The second stage
is marked as the growth to 4 layers and the third as the bias-rate anneal, as in the model card.
"""
import csv
import sys

if len(sys.argv) < 4:
    sys.exit(__doc__)
def rows(path):
    return list(csv.DictReader(open(path)))
logs = [rows(a) for a in sys.argv[1:-1]]; out = sys.argv[-1]
pts = []  # (global step, row)
starts = []
for log in logs:
    base = len(pts); starts.append(base)
    for r in log: pts.append((base + int(r['step']), r))
off = starts[1]
def means(key, n=10):
    res = []
    for i in range(0, len(pts), n):
        chunk = pts[i:i+n]
        res.append((sum(p[0] for p in chunk)/len(chunk), sum(float(p[1][key]) for p in chunk)/len(chunk)))
    return res
ce = means('ce'); mtp = means('mtp_ce'); rx = means('real_experts')
ev = [(p[0], float(p[1]['eval_ce'])) for p in pts if p[1]['eval_ce']]
W, H = 760, 300
X0, Y0, PW, PH = 60, 30, 300, 220
smax = pts[-1][0]
def panel(x0, series, lo, hi, title, ticks):
    o = [f'<rect x="{x0}" y="{Y0}" width="{PW}" height="{PH}" fill="none" stroke="#999"/>',
         f'<text x="{x0}" y="{Y0-6}" font-size="13">{title}</text>']
    for t in ticks:
        y = Y0 + PH - (t - lo) / (hi - lo) * PH
        o.append(f'<text x="{x0-6}" y="{y+4:.1f}" font-size="10" text-anchor="end">{t:g}</text>')
        o.append(f'<line x1="{x0}" x2="{x0+PW}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
    for s in range(0, smax + 1, 200):
        x = x0 + s / smax * PW
        o.append(f'<text x="{x:.1f}" y="{Y0+PH+14}" font-size="10" text-anchor="middle">{s}</text>')
    xg = x0 + off / smax * PW
    o.append(f'<line x1="{xg:.1f}" x2="{xg:.1f}" y1="{Y0}" y2="{Y0+PH}" stroke="#888" stroke-dasharray="2,3"/>')
    o.append(f'<text x="{xg+3:.1f}" y="{Y0+12}" font-size="10" fill="#555">grown to 4 layers</text>')
    if len(starts) > 2:
        xa = x0 + starts[2] / smax * PW
        o.append(f'<line x1="{xa:.1f}" x2="{xa:.1f}" y1="{Y0}" y2="{Y0+PH}" stroke="#888" stroke-dasharray="2,3"/>')
        o.append(f'<text x="{xa-3:.1f}" y="{Y0+24}" font-size="10" fill="#555" text-anchor="end">anneal</text>')
    for pts_, color, dash, dots in series:
        if dots:
            for s, v in pts_:
                if lo <= v <= hi:
                    o.append(f'<circle cx="{x0 + s/smax*PW:.1f}" cy="{Y0 + PH - (v-lo)/(hi-lo)*PH:.1f}" r="2.5" fill="{color}"/>')
        else:
            d = ' '.join(f'{x0 + s/smax*PW:.1f},{Y0 + PH - (min(max(v,lo),hi)-lo)/(hi-lo)*PH:.1f}' for s, v in pts_)
            o.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.3"' + (' stroke-dasharray="4,3"' if dash else '') + '/>')
    return o
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>']
svg += panel(X0, [(ce, '#1f77b4', False, False), (mtp, '#ff7f0e', True, False), (ev, '#d62728', False, True)], 1.6, 4.0,
             'CE: train, MTP (dashed), held-out (dots)', [1.6, 2.0, 2.5, 3.0, 3.5, 4.0])
svg += panel(X0 + 380, [(rx, '#2ca02c', False, False)], 1.6, 2.4, 'real experts per token per layer (target 2)', [1.6, 1.8, 2.0, 2.2, 2.4])
svg.append(f'<text x="{W/2}" y="{H-8}" font-size="11" text-anchor="middle">optimizer step (10-step means)</text></svg>')
open(out, 'w').write('\n'.join(svg))
print('wrote', out, len(pts), 'steps')
