// Draws the distribution of the compute idle gap between steps from serve_load.mjs results (JSON lines on
// stdin): one cumulative curve per run over a log time axis. Writes an SVG to stdout.
//   node bench/plot_serve_gap.mjs < results.jsonl > docs/img/serve_step_gap.svg
import { readFileSync } from 'node:fs';

// One run per line: serve_load.mjs's JSON; a sweep contributes each of its levels (label + clients).
const runs = readFileSync(0, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
  .flatMap((r) => (r.levels ? r.levels.map((l) => ({ ...l, label: `${r.label}, ${l.clients} clients` })) : [r]));
const W = 640, H = 360, L = 60, R = 20, T = 30, B = 50;
const lo = Math.log10(1e-6), hi = Math.log10(1e-1);
const x = (s) => L + ((Math.log10(Math.max(s, 1e-6)) - lo) / (hi - lo)) * (W - L - R);
const y = (f) => T + (1 - f) * (H - T - B);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const dashes = ['', '6 3', '2 2', '8 2 2 2'];
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
svg += `<rect width="${W}" height="${H}" fill="white"/>\n`;
svg += `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">Compute idle gap between consecutive steps (cumulative)</text>\n`;
for (let e = -6; e <= -1; ++e) {
  const px = x(10 ** e);
  svg += `<line x1="${px}" y1="${T}" x2="${px}" y2="${H - B}" stroke="#ddd"/>\n`;
  const label = e >= -3 ? `${10 ** (e + 3)} ms` : `${10 ** (e + 6)} us`;
  svg += `<text x="${px}" y="${H - B + 16}" text-anchor="middle">${label}</text>\n`;
}
for (const f of [0, 0.25, 0.5, 0.75, 1]) {
  svg += `<line x1="${L}" y1="${y(f)}" x2="${W - R}" y2="${y(f)}" stroke="#ddd"/>\n`;
  svg += `<text x="${L - 6}" y="${y(f) + 4}" text-anchor="end">${f * 100}%</text>\n`;
}
svg += `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">gap (end of one step's sampling to the start of the next forward)</text>\n`;
runs.forEach((run, i) => {
  const buckets = Object.entries(run.gap_buckets).map(([k, v]) => [k.match(/le="([^"]+)"/)[1], v])
    .filter(([le]) => le !== '+Inf').map(([le, v]) => [Number(le), v]).sort((a, b) => a[0] - b[0]);
  const total = run.gap_buckets['{le="+Inf"}'];
  const pts = buckets.map(([le, v]) => `${x(le).toFixed(1)},${y(v / total).toFixed(1)}`).join(' ');
  const color = colors[Math.floor(i / 2) % colors.length];
  const dash = dashes[i % 2];
  svg += `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>\n`;
  const ly = T + 16 + 16 * i;
  svg += `<line x1="${L + 10}" y1="${ly - 4}" x2="${L + 40}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>\n`;
  svg += `<text x="${L + 46}" y="${ly}">${run.label}: mean ${(run.gap_mean_s * 1e6).toFixed(0)} us, batch ${run.mean_batch_size.toFixed(1)}</text>\n`;
});
svg += '</svg>\n';
process.stdout.write(svg);
