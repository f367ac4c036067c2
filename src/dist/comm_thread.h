// One thread that makes every MPI call of a rank, one job at a time. It drives each non-blocking collective to
// completion (dist/mpi_runtime.h: complete_request), which keeps MPI's progress engine turning — OpenMPI's TCP
// transport moves a large message only while some thread is inside MPI — so the compute thread can run dense
// work meanwhile: this is how a CPU rank keeps an all-to-all "in
// flight". The compute side posts a job and later waits for it; the time it waits is the exposed communication.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace longcat::dist {

class CommThread {
 public:
  CommThread();
  ~CommThread();
  CommThread(const CommThread&) = delete;
  CommThread& operator=(const CommThread&) = delete;

  // Starts `job` on the communication thread (waits for the previous job first).
  void post(std::function<void()> job);
  // Blocks until the posted job has run; rethrows its exception. Returns the seconds spent blocked here.
  double wait();
  // post + wait.
  void run(std::function<void()> job) {
    post(std::move(job));
    wait();
  }
  double last_job_seconds() const { return last_job_seconds_; }  // how long the last job took on the thread

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  double last_job_seconds_ = 0;
  std::thread thread_;
};

}  // namespace longcat::dist
