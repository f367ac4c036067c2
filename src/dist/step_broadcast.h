// Rank 0 owns the API and the tokenizer; the other ranks only follow its forwards. Before each batched forward
// rank 0 broadcasts the step: for each sequence its caches' id
// (SequenceCaches::id), how many tokens they hold, and its new ids and positions. A follower keeps a mirror of
// every sequence's caches, cut back to rank 0's length first (so rank 0's rewinds — rejected drafts — carry
// over), then runs the same forward, taking part in its exchanges. The MTP head has no experts: rank 0 runs it
// alone. Sequences released on rank 0 (the server finished them) ride along with the next step, and the
// followers free their mirrors. A stop message ends the followers.
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

#include "dist/comm_thread.h"
#include "model/longcat_model.h"

namespace longcat::dist {

class StepBroadcaster : public ForwardObserver {
 public:
  explicit StepBroadcaster(CommThread& comm) : comm_(comm) {}
  void before_forward(const std::vector<BatchItem>& items) const override;
  void released(uint64_t cache_id) const override;
  void stop() const;  // tells the followers rank 0 is done

 private:
  std::vector<int64_t> take_released() const;  // the releases queued since the last step, emptying the queue

  CommThread& comm_;
  mutable std::mutex released_mutex_;  // released() comes from the scheduler thread, steps from the compute thread
  mutable std::vector<int64_t> released_;
};

struct FollowStats {
  int64_t forwards = 0;       // rank 0's forwards followed
  int64_t mirrors_freed = 0;  // sequences whose mirror caches were freed on rank 0's word
  int64_t mirrors_live = 0;   // mirrors still held when rank 0 stopped
};

// A follower's loop: runs rank 0's forwards until it stops.
FollowStats follow_steps(const LongcatModel& model, CommThread& comm);

}  // namespace longcat::dist
