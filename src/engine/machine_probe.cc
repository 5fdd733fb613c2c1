// SPDX-License-Identifier: Apache-2.0
// Read-bandwidth probe: a streaming sum over a buffer larger than the caches.
//
// The buffer is allocated as the engine allocates the weights it streams
// (HugePageBuffer: transparent huge pages), so a decode's ratio to this probe
// compares like with like; with 4 KiB pages the probe would pay a TLB miss
// every 4 KiB that the decode does not, and read low.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "io/mapped_file.h"
#include "lmhead/machine.h"

namespace lmhead {
namespace {

// Eight independent accumulators keep several cache lines in flight per core.
uint64_t SumWords(const uint64_t* words, size_t count) {
  uint64_t acc[8] = {};
  size_t idx = 0;
  for (; idx + 8 <= count; idx += 8) {
    for (int lane = 0; lane < 8; ++lane) acc[lane] += words[idx + static_cast<size_t>(lane)];
  }
  for (; idx < count; ++idx) acc[0] += words[idx];
  uint64_t total = 0;
  for (uint64_t value : acc) total += value;
  return total;
}

uint64_t* Words(const HugePageBuffer& buffer) { return reinterpret_cast<uint64_t*>(buffer.data()); }

}  // namespace

BandwidthProbe MeasureReadBandwidth(size_t bytes, int num_threads, int repetitions) {
  ThreadPool pool(num_threads);
  const int threads = pool.num_threads();
  const size_t words_per_thread = bytes / sizeof(uint64_t) / static_cast<size_t>(threads);
  std::vector<HugePageBuffer> parts(static_cast<size_t>(threads));
  // First touch by the thread that will read the part (its NUMA node, its pages).
  pool.Run(threads, [&](int, int64_t part) {
    Result<HugePageBuffer> buffer = HugePageBuffer::Allocate(words_per_thread * sizeof(uint64_t));
    LMHEAD_CHECK(buffer.ok(), "bandwidth probe: {}", buffer.status().ToString());
    parts[static_cast<size_t>(part)] = std::move(*buffer);
    uint64_t* words = Words(parts[static_cast<size_t>(part)]);
    for (size_t idx = 0; idx < words_per_thread; ++idx) words[idx] = idx;
  });
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  std::vector<double> rates;
  for (int rep = 0; rep <= repetitions; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    pool.Run(threads, [&](int, int64_t part) {
      sums[static_cast<size_t>(part)] +=
          SumWords(Words(parts[static_cast<size_t>(part)]), words_per_thread);
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double read = static_cast<double>(words_per_thread * sizeof(uint64_t)) * threads;
    if (rep > 0) rates.push_back(read / seconds / 1e9);  // Repetition 0 warms up.
  }
  // The sums are otherwise unused; reading them keeps the loads alive.
  volatile uint64_t sink = 0;
  for (uint64_t sum : sums) sink = sink + sum;
  std::sort(rates.begin(), rates.end());
  BandwidthProbe probe;
  probe.median_gbps = rates.empty() ? 0 : rates[rates.size() / 2];
  probe.best_gbps = rates.empty() ? 0 : rates.back();
  probe.bytes = words_per_thread * sizeof(uint64_t) * static_cast<size_t>(threads);
  probe.num_threads = threads;
  probe.repetitions = static_cast<int>(rates.size());
  return probe;
}

}  // namespace lmhead
