// SPDX-License-Identifier: Apache-2.0
// ThreadPool: workers sleep on a condition variable between Run() calls.
#include "base/thread_pool.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>

namespace lmhead {
namespace {

// Best effort: a refused pin (a container's policy, say) only costs speed.
void PinCurrentThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

}  // namespace

Status CheckThreadCount(int num_threads, std::string_view what) {
  if (num_threads >= 0 && num_threads <= kMaxThreads) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "{} num_threads={} is out of range; pass 0 (one per CPU this process may run on) or 1 to {}",
      what, num_threads, kMaxThreads));
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

int DefaultThreadCount() { return std::max(1, static_cast<int>(AllowedCpus().size())); }

ThreadPool::ThreadPool(int num_threads, std::vector<int> cpus) {
  if (cpus.empty()) cpus = AllowedCpus();
  if (num_threads <= 0) num_threads = std::max(1, static_cast<int>(cpus.size()));
  pinned_ = num_threads > 1 && num_threads <= static_cast<int>(cpus.size());
  for (int thread_idx = 1; thread_idx < num_threads; ++thread_idx) {
    const int cpu = pinned_ ? cpus[static_cast<size_t>(thread_idx)] : -1;
    workers_.emplace_back([this, thread_idx, cpu] { WorkerLoop(thread_idx, cpu); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::Drain(int thread_idx) {
  for (;;) {
    const int64_t item = next_item_.fetch_add(1, std::memory_order_relaxed);
    if (item >= num_items_) return;
    (*fn_)(thread_idx, item);
  }
}

void ThreadPool::WorkerLoop(int thread_idx, int cpu) {
  if (cpu >= 0) PinCurrentThread(cpu);
  uint64_t seen_generation = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stop_ || generation_ != seen_generation; });
      if (stop_) return;
      seen_generation = generation_;
    }
    Drain(thread_idx);
    bool last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = --pending_workers_ == 0;
    }
    if (last) work_done_.notify_one();
  }
}

void ThreadPool::Run(int64_t num_items, const std::function<void(int, int64_t)>& fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    num_items_ = num_items;
    next_item_.store(0, std::memory_order_relaxed);
    // Every worker takes part in every generation, so none can still be
    // draining this one when the next Run() resets the counter.
    pending_workers_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  work_ready_.notify_all();
  Drain(0);
  std::unique_lock<std::mutex> lock(mutex_);
  work_done_.wait(lock, [&] { return pending_workers_ == 0; });
  fn_ = nullptr;
}

}  // namespace lmhead
