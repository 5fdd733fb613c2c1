// SPDX-License-Identifier: Apache-2.0
// mpi_fault_probe: under mpirun, one rank hangs or dies before a collective
// (tests/integration/mpi_test.py checks that the others stop in time).
//
// Usage: mpirun -n N mpi_fault_probe hang|die RANK TIMEOUT_SECONDS
// Rank RANK sleeps far past the timeout (hang) or kills itself (die); every
// other rank calls Agree, which must fail within the timeout naming RANK, and
// the communicator then ends the job with MPI_Abort.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "lmhead/communicator.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s hang|die RANK TIMEOUT_SECONDS\n", argv[0]);
    return 1;
  }
  const std::string mode = argv[1];
  const int faulty_rank = std::atoi(argv[2]);
  const double timeout = std::atof(argv[3]);
  auto comm = lmhead::Communicator::Mpi(lmhead::CommunicatorOptions{timeout});
  if (!comm.ok()) {
    std::fprintf(stderr, "mpi_fault_probe: %s\n", comm.status().message().c_str());
    return 2;
  }
  if ((*comm)->rank() == faulty_rank) {
    if (mode == "die") std::raise(SIGKILL);
    std::this_thread::sleep_for(std::chrono::duration<double>(timeout * 30));
    return 0;
  }
  const lmhead::Status status = (*comm)->Agree(lmhead::Status::Ok(), "mpi_fault_probe");
  if (status.ok()) return 0;
  std::fprintf(stderr, "lmhead: error: %s\n", status.message().c_str());
  return 1;
}
