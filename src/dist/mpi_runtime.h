// The MPI process runtime of one rank: MPI_Init_thread / MPI_Finalize, rank and size, errors returned (not
// aborted) so they become one `error:` line, and a SIGTERM handler: when another rank dies, mpirun terminates
// the survivors, which then say so on one line instead of vanishing mid-request.
#pragma once
#include <string>

namespace longcat::dist {

class MpiRuntime {
 public:
  MpiRuntime();  // throws Error when MPI cannot start or lacks thread support
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::string host() const { return host_; }

  // Ends the whole job now (every rank), after this rank printed why; for failures that would leave the
  // other ranks waiting in an exchange.
  [[noreturn]] void abort_job(int status);

 private:
  int rank_ = 0, size_ = 1;
  std::string host_;
};

// Throws Error naming the MPI call when rc is not MPI_SUCCESS.
void check_mpi(int rc, const char* call);

// Drives a non-blocking MPI operation to completion from the communication thread: MPI_Test (which turns
// OpenMPI's progress engine) with short sleeps in between, so waiting for a slow link costs the rank's cores
// almost nothing, where a blocking call would spin on one of them while the compute thread needs it.
// `request` is an MPI_Request (void* keeps mpi.h out of this header).
void complete_request(void* request, const char* call);

}  // namespace longcat::dist
