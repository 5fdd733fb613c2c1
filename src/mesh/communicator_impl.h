// SPDX-License-Identifier: Apache-2.0
// CommunicatorImpl: the seam between the mesh runtime and a transport
// (this process alone, ranks as threads of one process, or MPI ranks).
//
// A transport supplies three primitives: a non-blocking Send, a Recv bounded
// by a deadline, and a bounded wait for the sends to be delivered. The
// collectives (AllGather, Agree, GatherToRoot) are built on them here, once,
// so every transport reports a rank that hung or died the same way: an
// IOError naming that rank, never a hang. Virtual functions are allowed here
// because this is a subsystem seam (shared/STYLE.md section 5.12).
//
// Thread-compatible: one thread drives one CommunicatorImpl.
#ifndef LMHEAD_MESH_COMMUNICATOR_IMPL_H_
#define LMHEAD_MESH_COMMUNICATOR_IMPL_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

using CommClock = std::chrono::steady_clock;
// Bytes in flight; shared so a send never copies and outlives its sender's buffer.
using Blob = std::shared_ptr<const std::vector<std::byte>>;

// Message tags: each kind of message has its own range, so one can never be
// taken for another. Messages between two ranks with the same tag arrive in
// the order sent, and every rank runs the same op sequence, so tags may be
// reused from one call to the next.
inline constexpr int kTagAllGather = 1;
inline constexpr int kTagGatherToRoot = 2;
inline constexpr int kTagAgreeMessage = 3;
inline constexpr int kTagDeviceGatherRow = 1 << 10;   // + mesh row: along cluster_axis 1.
inline constexpr int kTagDeviceGatherMesh = 2 << 10;  // + mesh row: row leaders to rank 0.
inline constexpr int kTagPointToPoint = 4 << 10;      // + sender_idx * D + receiver_idx.
// Open MPI and the in-process mailboxes allow any int tag; the MPI standard
// guarantees only 32767, checked at MPI start against MPI_TAG_UB.
inline constexpr int kMaxTag = kTagPointToPoint + (1 << 20);

class CommunicatorImpl {
 public:
  virtual ~CommunicatorImpl() = default;
  CommunicatorImpl(const CommunicatorImpl&) = delete;
  CommunicatorImpl& operator=(const CommunicatorImpl&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  double timeout_seconds() const { return timeout_seconds_; }
  // The deadline of a collective starting now.
  CommClock::time_point Deadline() const;
  // True once a wait timed out or a transfer failed: the ranks are out of
  // step, and (for MPI) only an abort ends the job.
  bool broken() const { return broken_; }
  virtual const char* transport() const = 0;

  // Starts sending `bytes` to rank `dest` and returns at once; the blob stays
  // alive until delivered. `what` names the op in error messages.
  Status Send(int dest, int tag, Blob bytes, std::string_view what);
  // Waits until the message from `source` with `tag` arrived and copies it to
  // `out`, whose size must be the message's. IOError after `deadline`.
  Status Recv(int source, int tag, std::span<std::byte> out, CommClock::time_point deadline,
              std::string_view what);
  // Waits until every Send so far was delivered. IOError after `deadline`.
  Status WaitSends(CommClock::time_point deadline, std::string_view what);

  // The collectives, each bounded by timeout_seconds().
  // `all` receives every rank's `local` (the same size on all) in rank order.
  Status AllGather(std::span<const std::byte> local, std::span<std::byte> all,
                   std::string_view what);
  // OK when every rank's `local` is OK; otherwise, on every rank, the first
  // failing rank's code and message, prefixed with that rank. With one rank,
  // `local` itself.
  Status Agree(const Status& local, std::string_view what);
  // Every rank's bytes (any sizes) at rank 0 in rank order; empty elsewhere.
  Result<std::vector<std::vector<std::byte>>> GatherToRoot(std::span<const std::byte> local,
                                                           std::string_view what);

 protected:
  CommunicatorImpl(int rank, int size, double timeout_seconds);

  virtual Status DoSend(int dest, int tag, Blob bytes, std::string_view what) = 0;
  virtual Status DoRecv(int source, int tag, std::span<std::byte> out,
                        CommClock::time_point deadline, std::string_view what) = 0;
  virtual Status DoWaitSends(CommClock::time_point deadline, std::string_view what) = 0;

  // "[transport] rank R of N: ..." IOError for a peer that sent nothing in time.
  Status TimedOut(int peer, std::string_view what) const;
  // "[transport] rank R of N: <detail> (<what>)" IOError.
  Status Failed(std::string_view detail, std::string_view what) const;

 private:
  Status Track(Status status);

  int rank_ = 0;
  int size_ = 1;
  double timeout_seconds_ = 60.0;
  bool broken_ = false;
};

// This process alone: rank 0 of 1 (sends to itself are an error).
std::shared_ptr<CommunicatorImpl> MakeSingleCommunicator(double timeout_seconds);
// `size` ranks sharing in-memory mailboxes; element i is rank i.
std::vector<std::shared_ptr<CommunicatorImpl>> MakeInProcessGroup(int size,
                                                                  double timeout_seconds);
// MPI_COMM_WORLD (mpi.cc), or NotSupported in a build without MPI (no_mpi.cc).
Result<std::shared_ptr<CommunicatorImpl>> MakeMpiCommunicator(double timeout_seconds);

}  // namespace lmhead

#endif  // LMHEAD_MESH_COMMUNICATOR_IMPL_H_
