// SPDX-License-Identifier: Apache-2.0
// The MPI transport: non-blocking point-to-point messages polled against a deadline.
//
// Why point-to-point rather than MPI collectives: a blocking MPI collective
// cannot be bounded by a timeout, and a non-blocking one cannot say which rank
// is missing. Polled MPI_Isend/MPI_Irecv do both, so a rank that hung or died
// is named in the error of every rank waiting on it. Every MPI call goes
// through Check() (shared/STYLE.md section 5.6 rule 6); a failed or timed-out
// transfer marks the communicator broken and its destructor ends the job with
// MPI_Abort, since half a collective cannot be recovered.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "mesh/communicator_impl.h"

namespace lmhead {
namespace {

// MPI counts are int: larger messages travel as several chunks with one tag
// (non-overtaking keeps them in order).
constexpr size_t kMaxChunkBytes = size_t{1} << 30;

// Polling that stays cheap for the fast case and yields the core when a peer
// is slow (ranks may share cores): spin briefly, then sleep up to 100 us.
class Backoff {
 public:
  void Pause() {
    if (++polls_ <= 32) return;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    sleep_us_ = std::min(sleep_us_ * 2, 100);
  }

 private:
  int polls_ = 0;
  int sleep_us_ = 5;
};

class MpiCommunicator final : public CommunicatorImpl {
 public:
  MpiCommunicator(int rank, int size, double timeout_seconds)
      : CommunicatorImpl(rank, size, timeout_seconds) {}
  ~MpiCommunicator() override;

  const char* transport() const override { return "mpi"; }
  Status Check(int rc, const char* call, std::string_view what) const;

 protected:
  Status DoSend(int dest, int tag, Blob bytes, std::string_view what) override;
  Status DoRecv(int source, int tag, std::span<std::byte> out, CommClock::time_point deadline,
                std::string_view what) override;
  Status DoWaitSends(CommClock::time_point deadline, std::string_view what) override;

 private:
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    int peer = 0;
    int count = 0;  // Bytes a receive expects.
    Blob blob;      // Keeps a send's bytes alive until MPI is done with them.
  };
  // The size check of a completed receive.
  Status CheckReceived(const MPI_Status& status, const Pending& receive,
                       std::string_view what) const;
  // Polls until every request completed; IOError naming the late peer after
  // `deadline`. A failed wait on receives cancels the rest: their buffers
  // belong to a caller that is about to return.
  Status WaitAll(std::vector<Pending>& pending, CommClock::time_point deadline, bool receives,
                 std::string_view what);

  std::vector<Pending> sends_;
};

Status MpiCommunicator::Check(int rc, const char* call, std::string_view what) const {
  if (rc == MPI_SUCCESS) return Status::Ok();
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  const std::string_view reason(text, static_cast<size_t>(length));
  return Failed(fmt::format("{} failed: {}", call, reason), what);
}

Status MpiCommunicator::DoSend(int dest, int tag, Blob bytes, std::string_view what) {
  size_t offset = 0;
  do {
    const size_t count = std::min(kMaxChunkBytes, bytes->size() - offset);
    Pending send{MPI_REQUEST_NULL, dest, static_cast<int>(count), bytes};
    LMHEAD_RETURN_IF_ERROR(Check(MPI_Isend(bytes->data() + offset, static_cast<int>(count),
                                           MPI_BYTE, dest, tag, MPI_COMM_WORLD, &send.request),
                                 "MPI_Isend", what));
    sends_.push_back(std::move(send));
    offset += count;
  } while (offset < bytes->size());
  return Status::Ok();
}

Status MpiCommunicator::DoRecv(int source, int tag, std::span<std::byte> out,
                               CommClock::time_point deadline, std::string_view what) {
  std::vector<Pending> receives;
  size_t offset = 0;
  do {
    const size_t count = std::min(kMaxChunkBytes, out.size() - offset);
    Pending receive{MPI_REQUEST_NULL, source, static_cast<int>(count), nullptr};
    Status posted = Check(MPI_Irecv(out.data() + offset, static_cast<int>(count), MPI_BYTE,
                                    source, tag, MPI_COMM_WORLD, &receive.request),
                          "MPI_Irecv", what);
    if (!posted.ok()) {
      // Earlier chunks must not land in a buffer the caller is about to drop.
      (void)WaitAll(receives, CommClock::now(), /*receives=*/true, what);
      return posted;
    }
    receives.push_back(receive);
    offset += count;
  } while (offset < out.size());
  return WaitAll(receives, deadline, /*receives=*/true, what);
}

Status MpiCommunicator::DoWaitSends(CommClock::time_point deadline, std::string_view what) {
  Status status = WaitAll(sends_, deadline, /*receives=*/false, what);
  if (status.ok()) sends_.clear();
  return status;
}

Status MpiCommunicator::CheckReceived(const MPI_Status& status, const Pending& receive,
                                     std::string_view what) const {
  int count = 0;
  LMHEAD_RETURN_IF_ERROR(Check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count", what));
  if (count != receive.count) {
    return Failed(fmt::format("a message of {} bytes from rank {} where {} were expected; the "
                              "ranks are out of step",
                              count, receive.peer, receive.count),
                  what);
  }
  return Status::Ok();
}

Status MpiCommunicator::WaitAll(std::vector<Pending>& pending, CommClock::time_point deadline,
                                bool receives, std::string_view what) {
  Status status = Status::Ok();
  for (Pending& entry : pending) {
    Backoff backoff;
    for (;;) {
      int done = 0;
      MPI_Status mpi_status;
      status = Check(MPI_Test(&entry.request, &done, &mpi_status), "MPI_Test", what);
      if (!status.ok()) break;
      if (done) {
        if (receives) status = CheckReceived(mpi_status, entry, what);
        break;
      }
      if (CommClock::now() >= deadline) {
        status = TimedOut(entry.peer, what);
        break;
      }
      backoff.Pause();
    }
    if (!status.ok()) break;
  }
  if (!status.ok() && receives) {
    for (Pending& late : pending) {
      if (late.request == MPI_REQUEST_NULL) continue;
      MPI_Cancel(&late.request);
      MPI_Wait(&late.request, MPI_STATUS_IGNORE);
    }
  }
  return status;
}

MpiCommunicator::~MpiCommunicator() {
  if (!broken()) {
    // MPI_Finalize waits for every rank, so a rank that hung must be caught
    // by a bounded handshake first, or this rank would wait for it forever.
    std::byte token{1};
    std::vector<std::byte> tokens(static_cast<size_t>(size()));
    Status status = WaitSends(Deadline(), "the sends before MPI_Finalize");
    if (status.ok()) status = AllGather({&token, 1}, tokens, "the handshake before MPI_Finalize");
    if (status.ok()) {
      MPI_Finalize();
      return;
    }
    std::fprintf(stderr, "lmhead: error: %s\n", status.message().c_str());
  }
  std::fprintf(stderr,
               "lmhead: [mpi] rank %d of %d: a collective failed (see the error above); aborting "
               "every rank with MPI_Abort\n",
               rank(), size());
  std::fflush(stderr);
  std::fflush(stdout);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

}  // namespace

Result<std::shared_ptr<CommunicatorImpl>> MakeMpiCommunicator(double timeout_seconds) {
  // One per process: its destructor finalises MPI.
  static std::weak_ptr<CommunicatorImpl> live;
  if (!live.expired()) {
    return Status::InvalidArgument(
        "[mpi] this process already has an MPI communicator; share it (OpenOptions::communicator) "
        "instead of creating another");
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    return Status::NotSupported(
        "[mpi] MPI was already finalized in this process; create one MPI communicator per "
        "process and keep it for the process's lifetime");
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Only the thread that drives the communicator calls MPI (the matmul
    // workers never do), so FUNNELED is enough.
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      return Status::IOError("[mpi] MPI_Init_thread failed; check the MPI launcher's output");
    }
  }
  // Errors come back as codes (wrapped by Check) instead of killing the job
  // before a message naming the rank is printed.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  auto comm = std::make_shared<MpiCommunicator>(rank, size, timeout_seconds);
  int* tag_ub = nullptr;
  int has_tag_ub = 0;
  LMHEAD_RETURN_IF_ERROR(comm->Check(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub,
                                                       &has_tag_ub),
                                     "MPI_Comm_get_attr", "MPI_TAG_UB"));
  if (has_tag_ub && *tag_ub < kMaxTag) {
    return Status::NotSupported(fmt::format(
        "[mpi] this MPI allows tags up to {}, lmhead needs {}; use Open MPI or MPICH", *tag_ub,
        kMaxTag));
  }
  std::shared_ptr<CommunicatorImpl> shared = std::move(comm);
  live = shared;
  return shared;
}

}  // namespace lmhead
