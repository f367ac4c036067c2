#include "dist/ep_stats.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace longcat::dist {

ResidentMemory resident_memory() {
  ResidentMemory m;
  std::ifstream in("/proc/self/status");
  uint64_t file = 0, shmem = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](const char* name, uint64_t* out) {
      if (line.rfind(name, 0) == 0) *out = std::stoull(line.substr(std::string(name).size())) * 1024;
    };
    field("VmRSS:", &m.rss);
    field("RssAnon:", &m.anon);
    field("RssFile:", &file);
    field("RssShmem:", &shmem);
  }
  // A checkpoint on tmpfs (a /tmp of Debian 13 and many other systems) is mapped as shmem pages, which the
  // kernel counts under RssShmem, not RssFile; both are pages of the files this process mapped.
  m.file = file + shmem;
  return m;
}

std::string ep_stats_json(const EpStats& s, const ResidentMemory& m) {
  nlohmann::ordered_json j = {
      {"rank", s.rank},
      {"ranks", s.ranks},
      {"host", s.host},
      {"overlap", s.overlap},
      {"owned_experts", {s.first_expert, s.end_expert}},
      {"computed_experts", std::vector<int>(s.computed_experts.begin(), s.computed_experts.end())},
      {"routed_experts", std::vector<int>(s.routed_experts.begin(), s.routed_experts.end())},
      {"expert_rows", s.expert_rows},
      {"moe_calls", s.moe_calls},
      {"dispatch_bytes_sent", s.dispatch_bytes_sent},
      {"combine_bytes_sent", s.combine_bytes_sent},
      {"combine_bytes_received", s.combine_bytes_received},
      {"dispatch_seconds", s.dispatch_seconds},
      {"combine_seconds", s.combine_seconds},
      {"dispatch_wait_seconds", s.dispatch_wait_seconds},
      {"combine_wait_seconds", s.combine_wait_seconds},
      {"expert_seconds", s.expert_seconds},
      {"replicated_bytes", s.replicated_bytes},
      {"owned_expert_bytes", s.owned_expert_bytes},
      {"all_expert_bytes", s.all_expert_bytes},
      {"forwards_followed", s.forwards_followed},
      {"mirrors_freed", s.mirrors_freed},
      {"mirrors_live", s.mirrors_live},
      {"rss_bytes", m.rss},
      {"rss_anon_bytes", m.anon},
      {"rss_file_bytes", m.file},
  };
  return j.dump();
}

}  // namespace longcat::dist
