#include "dist/mpi_runtime.h"

#include <mpi.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace longcat::dist {

namespace {
char g_term_message[160];

void on_terminate(int) {
  // Only async-signal-safe calls here.
  ssize_t ignored = ::write(2, g_term_message, std::strlen(g_term_message));
  (void)ignored;
  ::_exit(1);
}
}  // namespace

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI failed: ") + std::string(text, len) + " (a rank may have died)", call);
}

void complete_request(void* request, const char* call) {
  MPI_Request* r = static_cast<MPI_Request*>(request);
  for (int spins = 0;; ++spins) {
    int done = 0;
    check_mpi(MPI_Test(r, &done, MPI_STATUS_IGNORE), call);
    if (done) return;
    // A few quick polls first (small exchanges finish within microseconds), then sleep between polls.
    if (spins > 64) sched_yield();
  }
}

MpiRuntime::MpiRuntime() {
  int provided = 0;
  // The compute thread and the communication thread never call MPI at the same time (dist/comm_thread.h), so
  // SERIALIZED is enough; MULTIPLE is asked for so that a runtime offering it needs no locking of its own.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
    throw Error("MPI_Init_thread failed (start under mpirun)", "--expert-parallel");
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw Error("the MPI library offers no thread support (MPI_THREAD_SERIALIZED needed)", "MPI_Init_thread");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  host_.assign(name, len);
  std::snprintf(g_term_message, sizeof g_term_message,
                "error: rank %d terminated by the MPI runtime: another rank failed or was killed (expert parallel job)\n",
                rank_);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_terminate;
  sigaction(SIGTERM, &sa, nullptr);
}

MpiRuntime::~MpiRuntime() { MPI_Finalize(); }

void MpiRuntime::abort_job(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
  ::_exit(status);
}

}  // namespace longcat::dist
