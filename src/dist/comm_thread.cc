#include "dist/comm_thread.h"

#include <chrono>

namespace longcat::dist {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

CommThread::CommThread() : thread_([this] { loop(); }) {}

CommThread::~CommThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CommThread::post(std::function<void()> job) {
  wait();
  std::lock_guard<std::mutex> lock(mutex_);
  job_ = std::move(job);
  busy_ = true;
  cv_.notify_all();
}

double CommThread::wait() {
  const auto t0 = Clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !busy_; });
  const double blocked = since(t0);
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
  return blocked;
}

void CommThread::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || busy_; });
    if (busy_) {
      std::function<void()> job = std::move(job_);
      lock.unlock();
      const auto t0 = Clock::now();
      std::exception_ptr error;
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      last_job_seconds_ = since(t0);
      error_ = error;
      busy_ = false;
      cv_.notify_all();
    } else if (stopping_) {
      return;
    }
  }
}

}  // namespace longcat::dist
