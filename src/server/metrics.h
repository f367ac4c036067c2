// /metrics: the scheduler's statistics in the Prometheus text format (version 0.0.4). Names and meanings
// are listed in docs/server.md.
#pragma once
#include <string>

#include "runtime/scheduler_stats.h"

namespace longcat::server {

struct HttpCounters {
  uint64_t requests = 0, client_errors = 0, server_errors = 0, disconnects = 0;
};

// The process's resident set size (/proc/self/statm), 0 where unavailable.
double resident_memory_bytes();

std::string prometheus_text(const SchedulerStats& s, const HttpCounters& http, const std::string& model_id);

}  // namespace longcat::server
