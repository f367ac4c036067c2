#!/usr/bin/env bash
# Expert parallelism across separate hosts: three network namespaces ("hosts"), each joined by a veth link to a
# bridge in a fourth ("switch") namespace, every host's egress shaped by tbf; MPI runs over TCP between them
# (mpirun's launcher enters a namespace with `ip netns exec` instead of ssh: netns_agent.sh). Checks that the
# logits are bitwise those of one process, then reports the step time of the none and sbo schedules on a
# prefill, and the fraction of the communication that SBO hides, one compute thread per rank.
# Needs root and netns/tc; exits 77 (skipped) otherwise.
#   usage: netns.sh [path/to/longcat] [rate, default 200mbit]
#   env: LONGCAT_EP_HOSTS (default 3), LONGCAT_EP_CONFIG (default ep-experts.json), LONGCAT_EP_PROMPT (128)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build/longcat}")
rate=${2:-${LONGCAT_EP_RATE:-200mbit}}
command -v mpirun >/dev/null || { echo "SKIP: mpirun is missing (scripts/setup.sh installs openmpi-bin)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
command -v ip >/dev/null && command -v tc >/dev/null || { echo "SKIP: ip/tc missing (iproute2)"; exit 77; }

tag=lcep$$
hosts=${LONGCAT_EP_HOSTS:-3}
work=$(mktemp -d)
cleanup() {
  for i in $(seq 0 $hosts); do ip netns del ${tag}_$i 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add ${tag}_$hosts 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
sw=${tag}_$hosts
ip -n $sw link add br0 type bridge
ip -n $sw link set br0 up
for i in $(seq 0 $((hosts - 1))); do
  ns=${tag}_$i
  ip netns add $ns
  ip link add ${tag}h$i type veth peer name ${tag}s$i
  ip link set ${tag}h$i netns $ns
  ip link set ${tag}s$i netns $sw
  ip -n $ns link set ${tag}h$i name eth0
  ip -n $ns addr add 10.99.0.$((i + 1))/24 dev eth0
  ip -n $ns link set eth0 up
  ip -n $ns link set lo up
  ip -n $sw link set ${tag}s$i master br0
  ip -n $sw link set ${tag}s$i up
  # Each host sends at most `rate` (a token bucket on its egress; netem is not in this kernel).
  tc -n $ns qdisc add dev eth0 root tbf rate $rate burst 64kb latency 100ms
done

# mpirun runs on host 0 and starts the other hosts' daemons through the agent, which maps an address to its
# namespace: everything else (the binary, the model, the output files) is the one shared filesystem.
cat >"$work/agent.sh" <<AGENT
#!/bin/sh
host=\$1; shift
exec ip netns exec ${tag}_\$(( \${host##*.} - 1 )) sh -c "\$*"
AGENT
chmod +x "$work/agent.sh"
hostlist=$(seq -s, -f "10.99.0.%g:1" 1 $hosts)
mpi=(ip netns exec ${tag}_0 mpirun --allow-run-as-root --oversubscribe --host "$hostlist" -np $hosts
     --mca plm_rsh_agent "$work/agent.sh" --mca plm_rsh_no_tree_spawn 1 --mca btl tcp,self
     --mca btl_tcp_if_include 10.99.0.0/24 --mca oob_tcp_if_include 10.99.0.0/24 --mca mpi_yield_when_idle 1)
# OpenMPI's daemon launch through the agent now and then never completes under heavy load (mpirun waits, no rank
# process exists, nothing was printed): such a launch is retried; a run that started and then stalls fails.
launch() {  # launch OUT ERR args...
  local out=$1 err=$2 try rc
  shift 2
  for try in 1 2 3; do
    rc=0
    timeout 90 "${mpi[@]}" "$@" >"$out" 2>"$err" || rc=$?
    [ $rc -eq 124 ] && ! grep -q "^expert parallel:" "$err" || return $rc
    echo "note: mpirun launch $try hung before any rank started; retrying" >&2
  done
  return $rc
}
# Under the ASan build of CI, leak detection is off for the MPI runs only (address and UB checks stay on):
# OpenMPI keeps allocations until exit from plugins it dlcloses at MPI_Finalize, so LeakSanitizer sees
# "<unknown module>" frames that no suppression can name (suppressions by library name were tried and miss them). Our own code's
# leaks are covered by the unit tests, which run under LeakSanitizer without MPI.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# LONGCAT_EP_CONFIG=ep-dense.json: the same experts with dense MLPs 10x wider, so the dense work SBO overlaps is
# longer than the transfer at a slow rate (the acceptance case: most of the communication hidden).
"$bin" init --config "$here/${LONGCAT_EP_CONFIG:-ep-experts.json}" --out "$work/model" 2>/dev/null
ids=$(seq -s, 4 7 290)
"$bin" logits --model "$work/model" --ids "$ids" --out "$work/ref.safetensors" --threads 1 2>/dev/null
launch /dev/null "$work/err" "$bin" logits --model "$work/model" --ids "$ids" --out "$work/ep.safetensors" \
  --threads 1 --expert-parallel || { tail "$work/err"; echo "FAIL: logits over $hosts hosts"; exit 1; }
cmp -s "$work/ref.safetensors" "$work/ep.safetensors" || { echo "FAIL: logits over $hosts hosts differ"; exit 1; }
python3 "$here/check_stats.py" $hosts 24 <"$work/err" >/dev/null
grep -q '"host":"' "$work/err"
echo "ok: logits over $hosts namespaced hosts (TCP, tbf $rate per host) bitwise equal to one process"

# Timing: a prefill of P tokens (one forward), both schedules, alternating, best of a few.
P=${LONGCAT_EP_PROMPT:-128}
for round in 1 2 3; do
  for overlap in none sbo; do
    launch "$work/$overlap.$round.json" "$work/$overlap.$round.err" "$bin" bench --model "$work/model" --skip-limits \
      --prompt-len $P --gen 0 --threads 1 --json --expert-parallel --overlap $overlap ||
      { tail "$work/$overlap.$round.err"; echo "FAIL: bench $overlap"; exit 1; }
  done
done
echo "load: $(uptime)"
python3 - "$work" "$rate" "$P" "$hosts" <<'PY'
import json, sys, glob
work, rate, P, hosts = sys.argv[1:5]
def runs(overlap):
    out = []
    for f in sorted(glob.glob(f"{work}/{overlap}.*.json")):
        step = json.load(open(f))["prefill"]["seconds"]
        stats = [json.loads(l.split(" ", 1)[1]) for l in open(f[:-5] + ".err") if l.startswith("ep-stats ")]
        comm = max(s["dispatch_seconds"] + s["combine_seconds"] for s in stats)
        exposed = max(s["dispatch_wait_seconds"] + s["combine_wait_seconds"] for s in stats)
        sent = sum(s["dispatch_bytes_sent"] + s["combine_bytes_sent"] for s in stats)
        out.append((step, comm, exposed, sent))
    return sorted(out)[0]  # the fastest round: the least disturbed by the machine's other load
none, sbo = runs("none"), runs("sbo")
hidden = 1 - sbo[2] / none[2] if none[2] > 0 else 0
print(f"prefill {P} tokens over {hosts} hosts at {rate} each, 1 compute thread per rank, {none[3]/1e6:.2f} MB exchanged:")
print(f"  none: step {none[0]*1e3:8.1f} ms, communication {none[1]*1e3:7.1f} ms, exposed {none[2]*1e3:7.1f} ms")
print(f"  sbo:  step {sbo[0]*1e3:8.1f} ms, communication {sbo[1]*1e3:7.1f} ms, exposed {sbo[2]*1e3:7.1f} ms")
print(f"  fraction of communication hidden by sbo: {hidden:.2f} (exposed wait); step time saved "
      f"{(none[0]-sbo[0])*1e3:.1f} ms = {(none[0]-sbo[0])/none[2] if none[2] else 0:.2f} of none's exposed communication")
PY
