#include "dist/step_broadcast.h"

#include <mpi.h>

#include <map>

#include "dist/mpi_runtime.h"
#include "util/error.h"

namespace longcat::dist {

namespace {
enum : int64_t { kStop = 0, kForward = 1 };
constexpr int kHeader = 4;  // op, items, rows, released sequences
constexpr int kPerItem = 4;  // key, cached tokens, count, all_logits

void bcast(CommThread& comm, void* data, int64_t count, MPI_Datatype type, const char* what) {
  if (count > INT32_MAX) throw Error("step too large to broadcast", what);
  comm.run([&] {
    MPI_Request r;
    check_mpi(MPI_Ibcast(data, static_cast<int>(count), type, 0, MPI_COMM_WORLD, &r), what);
    complete_request(&r, what);
  });
}
}  // namespace

void StepBroadcaster::before_forward(const std::vector<BatchItem>& items) const {
  int64_t rows = 0;
  for (const BatchItem& it : items) rows += it.count;
  const std::vector<int64_t> released = take_released();
  int64_t header[kHeader] = {kForward, static_cast<int64_t>(items.size()), rows,
                             static_cast<int64_t>(released.size())};
  bcast(comm_, header, kHeader, MPI_INT64_T, "MPI_Bcast (step header)");
  std::vector<int64_t> body;
  body.reserve(items.size() * kPerItem + 2 * rows + released.size());
  for (const BatchItem& it : items) {
    body.push_back(static_cast<int64_t>(it.caches->id));
    body.push_back(it.caches->tokens());
    body.push_back(it.count);
    body.push_back(it.all_logits);
  }
  for (const BatchItem& it : items) body.insert(body.end(), it.ids, it.ids + it.count);
  for (const BatchItem& it : items) body.insert(body.end(), it.positions, it.positions + it.count);
  body.insert(body.end(), released.begin(), released.end());
  bcast(comm_, body.data(), static_cast<int64_t>(body.size()), MPI_INT64_T, "MPI_Bcast (step)");
}

void StepBroadcaster::released(uint64_t cache_id) const {
  std::lock_guard<std::mutex> lock(released_mutex_);
  released_.push_back(static_cast<int64_t>(cache_id));
}

std::vector<int64_t> StepBroadcaster::take_released() const {
  std::vector<int64_t> released;
  std::lock_guard<std::mutex> lock(released_mutex_);
  released.swap(released_);
  return released;
}

void StepBroadcaster::stop() const {
  // A stop is a step without items: the releases since the last forward ride in its body, so the followers'
  // counts are complete.
  std::vector<int64_t> released = take_released();
  int64_t header[kHeader] = {kStop, 0, 0, static_cast<int64_t>(released.size())};
  bcast(comm_, header, kHeader, MPI_INT64_T, "MPI_Bcast (stop header)");
  bcast(comm_, released.data(), static_cast<int64_t>(released.size()), MPI_INT64_T, "MPI_Bcast (stop)");
}

FollowStats follow_steps(const LongcatModel& model, CommThread& comm) {
  std::map<int64_t, SequenceCaches> mirrors;
  FollowStats stats;
  for (;;) {
    int64_t header[kHeader];
    bcast(comm, header, kHeader, MPI_INT64_T, "MPI_Bcast (step header)");
    const bool stop = header[0] == kStop;
    const int64_t n = header[1], rows = header[2], released = header[3];
    std::vector<int64_t> body(n * kPerItem + 2 * rows + released);
    bcast(comm, body.data(), static_cast<int64_t>(body.size()), MPI_INT64_T,
          stop ? "MPI_Bcast (stop)" : "MPI_Bcast (step)");
    // A released sequence is never in a later step (cache ids are never reused), so free its mirror first.
    for (int64_t i = 0; i < released; ++i) stats.mirrors_freed += mirrors.erase(body[n * kPerItem + 2 * rows + i]);
    if (stop) {
      stats.mirrors_live = static_cast<int64_t>(mirrors.size());
      return stats;
    }
    std::vector<int32_t> ids(rows);
    for (int64_t i = 0; i < rows; ++i) ids[i] = static_cast<int32_t>(body[n * kPerItem + i]);
    const int64_t* positions = body.data() + n * kPerItem + rows;
    std::vector<BatchItem> items(n);
    int64_t row = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t* d = &body[k * kPerItem];
      auto it = mirrors.find(d[0]);
      if (it == mirrors.end()) it = mirrors.emplace(d[0], model.new_caches()).first;
      SequenceCaches& caches = it->second;
      if (caches.tokens() < d[1])
        throw Error("follower's caches are behind rank 0's (" + std::to_string(caches.tokens()) + " < " +
                        std::to_string(d[1]) + " tokens)",
                    "expert parallel step");
      caches.truncate(d[1]);
      items[k] = BatchItem{&caches, ids.data() + row, positions + row, d[2], d[3] != 0};
      row += d[2];
    }
    model.forward_batch(items);
    ++stats.forwards;
  }
}

}  // namespace longcat::dist
