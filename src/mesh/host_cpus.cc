// SPDX-License-Identifier: Apache-2.0
// HostCpuShare: one AllGather of (host name, CPU mask), then a slice per rank.
#include "mesh/host_cpus.h"

#include <sched.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "base/check.h"

namespace lmhead {
namespace {

// What each rank tells the others; compared byte for byte.
struct HostCpus {
  char host[64] = {};                    // gethostname, cut to 63 bytes
  uint64_t mask[CPU_SETSIZE / 64] = {};  // bit c: CPU c is allowed
};

HostCpus DescribeThisRank(const std::vector<int>& allowed) {
  HostCpus mine;
  if (gethostname(mine.host, sizeof(mine.host) - 1) != 0) mine.host[0] = '\0';
  for (int cpu : allowed) {
    if (cpu >= 0 && cpu < CPU_SETSIZE) mine.mask[cpu / 64] |= uint64_t{1} << (cpu % 64);
  }
  return mine;
}

}  // namespace

std::vector<int> CpuSlice(const std::vector<int>& allowed, int index, int sharers) {
  LMHEAD_CHECK(!allowed.empty() && index >= 0 && index < sharers, "CpuSlice({} CPUs, {}, {})",
               allowed.size(), index, sharers);
  const int64_t n = static_cast<int64_t>(allowed.size());
  if (sharers >= n) return {allowed[static_cast<size_t>(index % n)]};
  const int64_t begin = n * index / sharers;
  const int64_t end = n * (index + 1) / sharers;
  return std::vector<int>(allowed.begin() + begin, allowed.begin() + end);
}

Result<std::vector<int>> HostCpuShare(CommunicatorImpl& comm, const std::vector<int>& allowed) {
  const HostCpus mine = DescribeThisRank(allowed);
  std::vector<HostCpus> all(static_cast<size_t>(comm.size()));
  LMHEAD_RETURN_IF_ERROR(comm.AllGather(std::as_bytes(std::span<const HostCpus>(&mine, 1)),
                                        std::as_writable_bytes(std::span<HostCpus>(all)),
                                        "HostCpuShare"));
  int index = 0;
  int sharers = 0;
  for (int rank = 0; rank < comm.size(); ++rank) {
    if (std::memcmp(&all[static_cast<size_t>(rank)], &mine, sizeof(mine)) != 0) continue;
    if (rank < comm.rank()) ++index;
    ++sharers;
  }
  if (sharers <= 1 || allowed.empty()) return allowed;
  return CpuSlice(allowed, index, sharers);
}

}  // namespace lmhead
