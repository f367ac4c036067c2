// Rank 0 owns the API and the tokenizer; the other ranks only follow its forwards. Before each batched forward
// rank 0 broadcasts the step: for each sequence its caches' id
// (SequenceCaches::id), how many tokens they hold, and its new ids and positions. A follower keeps a mirror of
// every sequence's caches, cut back to rank 0's length first (so rank 0's rewinds — rejected drafts — carry
// over), then runs the same forward, taking part in its exchanges. The MTP head has no experts: rank 0 runs it
// alone. A stop message ends the followers.
#pragma once
#include <cstdint>

#include "dist/comm_thread.h"
#include "model/longcat_model.h"

namespace longcat::dist {

class StepBroadcaster : public ForwardObserver {
 public:
  explicit StepBroadcaster(CommThread& comm) : comm_(comm) {}
  void before_forward(const std::vector<BatchItem>& items) const override;
  void stop() const;  // tells the followers rank 0 is done

 private:
  CommThread& comm_;
};

// A follower's loop: runs rank 0's forwards until it stops. Returns the number of forwards followed.
int64_t follow_steps(const LongcatModel& model, CommThread& comm);

}  // namespace longcat::dist
