#!/usr/bin/env python3
"""Checks the `ep-stats` lines of one expert-parallel run (stderr on stdin): one line per rank, the owned ranges
tile [0, experts), every rank computed only experts it owns, and together they computed exactly the experts the
router picked. Prints one summary line per rank (resident memory against replicated + owned expert bytes)."""
import json
import sys

ranks = int(sys.argv[1])
experts = int(sys.argv[2])
stats = [json.loads(line.split(" ", 1)[1]) for line in sys.stdin if line.startswith("ep-stats ")]
assert len(stats) == ranks, f"expected {ranks} ep-stats lines, got {len(stats)}"
stats.sort(key=lambda s: s["rank"])
assert [s["rank"] for s in stats] == list(range(ranks)), "ranks missing"
end = 0
computed = set()
for s in stats:
    lo, hi = s["owned_experts"]
    assert lo == end and hi > lo, f"rank {s['rank']} owns [{lo}, {hi}), expected to start at {end}"
    end = hi
    own = set(range(lo, hi))
    extra = set(s["computed_experts"]) - own
    assert not extra, f"rank {s['rank']} computed experts {sorted(extra)} it does not own"
    assert not (computed & set(s["computed_experts"])), "two ranks computed the same expert"
    computed |= set(s["computed_experts"])
    assert s["routed_experts"] == stats[0]["routed_experts"], "ranks disagree on the routing"
    print(f"  rank {s['rank']}: experts [{lo},{hi}) computed {len(s['computed_experts'])}, rows {s['expert_rows']}, "
          f"rss {s['rss_bytes']/2**20:.1f} MiB (file {s['rss_file_bytes']/2**20:.1f}), replicated "
          f"{s['replicated_bytes']/2**20:.1f} MiB + owned experts {s['owned_expert_bytes']/2**20:.1f} of "
          f"{s['all_expert_bytes']/2**20:.1f} MiB")
assert end == experts, f"owned ranges end at {end}, the model has {experts} experts"
assert computed == set(stats[0]["routed_experts"]), "computed experts differ from the routed ones"
