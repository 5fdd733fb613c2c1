// SPDX-License-Identifier: Apache-2.0
// Communicator: the processes a mesh's devices are spread over (docs/mpi.md).
//
// Design goals:
//  - The same LmHead runs in one process holding every device, or on N
//    processes (MPI ranks) each holding D/N consecutive devices in row-major
//    order, with results identical bit for bit.
//  - Nothing waits forever: every collective is bounded by a timeout, and a
//    failure on one rank reaches every rank (Agree), so they all stop with the
//    same message naming the failing rank and its reason.
//  - One seam (src/mesh/communicator_impl.h) with three transports: this
//    process alone, several ranks as threads of one process (the test double),
//    and MPI (built with LMHEAD_ENABLE_MPI; NotSupported otherwise).
// Non-goals: recovering from a failed collective (the job ends: a rank that
// timed out aborts the MPI job), or choosing a network per message.
//
// Thread-compatible: one thread drives a Communicator.
#ifndef LMHEAD_COMMUNICATOR_H_
#define LMHEAD_COMMUNICATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

class CommunicatorImpl;  // src/mesh/communicator_impl.h

struct CommunicatorOptions {
  double timeout_seconds = 60.0;  // Bounds every collective: a rank that hung or died.
};

// How a mesh_scatter point_to_point of h hops reaches a receiver whose
// device is on another process.
enum class ScatterRoute {
  kForward,  // Hop by hop through the ranks of the intermediate rows (TT's Linear fabric).
  kDirect,   // One message from the sender's rank straight to the receiver's.
};
const char* ToString(ScatterRoute route);  // "forward", "direct"
Result<ScatterRoute> ParseScatterRoute(std::string_view text);

// What one process exchanged with the others (payload bytes, not MPI headers).
struct NetworkTraffic {
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  int64_t messages_sent = 0;
  int64_t messages_received = 0;
};

class Communicator {
 public:
  // This process alone, rank 0 of 1: what LmHead uses when given none.
  static std::shared_ptr<Communicator> Single(const CommunicatorOptions& options = {});
  // `size` ranks inside this process joined by in-memory mailboxes; element i
  // is rank i and must be driven by its own thread. InvalidArgument for
  // size < 1 or a timeout <= 0.
  static Result<std::vector<std::shared_ptr<Communicator>>> InProcessGroup(
      int size, const CommunicatorOptions& options);
  // MPI_COMM_WORLD, initialising MPI. NotSupported in a build without MPI.
  static Result<std::shared_ptr<Communicator>> Mpi(const CommunicatorOptions& options);
  // The world size an MPI launcher (mpirun, srun) gave this process through
  // its environment; 0 when no launcher started it.
  static int LauncherWorldSize();
  // Mpi() when an MPI launcher started this process, Single() otherwise.
  static Result<std::shared_ptr<Communicator>> FromEnvironment(const CommunicatorOptions& options);

  explicit Communicator(std::shared_ptr<CommunicatorImpl> impl);
  ~Communicator();

  int rank() const;
  int size() const;
  const char* transport() const;  // "single", "in-process" or "mpi"
  double timeout_seconds() const;

  // Every rank passes its own status. OK when all are OK; otherwise every
  // rank gets the same error: the first failing rank's code and message,
  // naming that rank. IOError naming a rank that never arrived in time.
  // `what` names the step in the message, e.g. "[run] rank 2 of 4 failed: ...".
  Status Agree(const Status& local, std::string_view what = "Communicator::Agree");
  // Each rank's text at rank 0, in rank order; an empty vector elsewhere.
  Result<std::vector<std::string>> GatherToRoot(std::string_view local);

  const std::shared_ptr<CommunicatorImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<CommunicatorImpl> impl_;
};

}  // namespace lmhead

#endif  // LMHEAD_COMMUNICATOR_H_
