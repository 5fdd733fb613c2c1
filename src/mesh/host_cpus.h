// SPDX-License-Identifier: Apache-2.0
// Splitting a host's CPUs between the ranks that would otherwise each take all of them.
//
// An MPI launcher that does not bind its ranks (mpirun --bind-to none), or
// binds several of them to one socket (Open MPI's default from 3 ranks),
// leaves ranks of one host with the same CPU mask. If each then ran one
// thread per CPU of that mask, the host would run N times more threads than
// it has CPUs. HostCpuShare gives each such rank its own slice of the mask
// instead; ranks bound to CPUs of their own keep them.
#ifndef LMHEAD_MESH_HOST_CPUS_H_
#define LMHEAD_MESH_HOST_CPUS_H_

#include <vector>

#include "lmhead/status.h"
#include "mesh/communicator_impl.h"

namespace lmhead {

// The CPUs of `allowed` that the rank at `index` of `sharers` ranks with the
// same mask takes: consecutive slices of equal size (the later ones one CPU
// larger where the count does not divide), in rank order. With more ranks
// than CPUs each takes one, CPU index % size: no rank is left without one.
// Preconditions: allowed is not empty, 0 <= index < sharers.
std::vector<int> CpuSlice(const std::vector<int>& allowed, int index, int sharers);

// A collective: every rank passes the CPUs it may run on (AllowedCpus()).
// Returns this rank's CpuSlice among the ranks on the same host (by host
// name) whose CPUs are the same as its own; `allowed` itself where no other
// rank shares them.
Result<std::vector<int>> HostCpuShare(CommunicatorImpl& comm, const std::vector<int>& allowed);

}  // namespace lmhead

#endif  // LMHEAD_MESH_HOST_CPUS_H_
