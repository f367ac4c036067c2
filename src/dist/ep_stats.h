// What one rank did under expert parallelism, printed as one `ep-stats {json}` line on stderr at the end: the
// experts it owns and the ones it actually computed (tests check they agree), its resident memory against the
// replicated bytes plus its share of the experts, and the time spent in and waiting for the exchanges.
#pragma once
#include <cstdint>
#include <set>
#include <string>

namespace longcat::dist {

struct EpStats {
  int rank = 0, ranks = 1, first_expert = 0, end_expert = 0;
  std::string host, overlap;
  std::set<int> computed_experts;  // expert ids this rank ran (any layer)
  std::set<int> routed_experts;    // real experts any token was routed to (any layer; the same on every rank)
  int64_t expert_rows = 0, moe_calls = 0;
  int64_t dispatch_bytes_sent = 0, combine_bytes_sent = 0, combine_bytes_received = 0;
  double dispatch_seconds = 0, combine_seconds = 0;            // inside the collectives (communication thread)
  double dispatch_wait_seconds = 0, combine_wait_seconds = 0;  // the compute thread blocked on them (exposed)
  double expert_seconds = 0;
  uint64_t replicated_bytes = 0, owned_expert_bytes = 0, all_expert_bytes = 0;  // tensor bytes in the checkpoint
  // Followers only (dist/step_broadcast.h): rank 0's forwards followed, mirror caches freed on its word, and
  // mirrors still held at the stop (a server that released every finished sequence leaves none).
  int64_t forwards_followed = 0, mirrors_freed = 0, mirrors_live = 0;
};

// VmRSS / RssAnon / mapped file pages (RssFile + RssShmem: files on tmpfs count as shmem) of this process
// from /proc/self/status (0 where unreadable).
struct ResidentMemory {
  uint64_t rss = 0, anon = 0, file = 0;
};
ResidentMemory resident_memory();

std::string ep_stats_json(const EpStats& s, const ResidentMemory& m);

}  // namespace longcat::dist
