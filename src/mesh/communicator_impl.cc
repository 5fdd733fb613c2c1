// SPDX-License-Identifier: Apache-2.0
// CommunicatorImpl: error tracking around the primitives, and the collectives built on them.
#include "mesh/communicator_impl.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "base/check.h"

namespace lmhead {
namespace {

// What each rank says in Agree's first round: its code, and enough of its
// message to tell whether every rank failed the same way. Messages travel in a
// second round only when something failed, so the OK path moves 16 bytes.
struct AgreeRecord {
  int32_t code = 0;
  int32_t length = 0;
  uint64_t message_hash = 0;
};

Status MakeStatus(StatusCode code, std::string_view message) {
  switch (code) {
    case StatusCode::kOk: return Status::Ok();
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(message);
    case StatusCode::kNotFound: return Status::NotFound(message);
    case StatusCode::kCorruption: return Status::Corruption(message);
    case StatusCode::kIOError: return Status::IOError(message);
    case StatusCode::kNotSupported: return Status::NotSupported(message);
    case StatusCode::kInternal: break;
  }
  return Status::Internal(message);
}

StatusCode CodeOf(int32_t code) {
  const bool known = code >= 0 && code <= static_cast<int32_t>(StatusCode::kInternal);
  return known ? static_cast<StatusCode>(code) : StatusCode::kInternal;
}

}  // namespace

CommunicatorImpl::CommunicatorImpl(int rank, int size, double timeout_seconds)
    : rank_(rank), size_(size), timeout_seconds_(timeout_seconds) {
  LMHEAD_CHECK(size >= 1 && rank >= 0 && rank < size, "rank {} of {}", rank, size);
  LMHEAD_CHECK(timeout_seconds > 0, "timeout {} s", timeout_seconds);
}

CommClock::time_point CommunicatorImpl::Deadline() const {
  return CommClock::now() + std::chrono::duration_cast<CommClock::duration>(
                                std::chrono::duration<double>(timeout_seconds_));
}

Status CommunicatorImpl::Track(Status status) {
  if (!status.ok()) broken_ = true;
  return status;
}

Status CommunicatorImpl::Send(int dest, int tag, Blob bytes, std::string_view what) {
  if (dest < 0 || dest >= size_ || dest == rank_) {
    return Track(Failed(fmt::format("cannot send to rank {}", dest), what));
  }
  return Track(DoSend(dest, tag, std::move(bytes), what));
}

Status CommunicatorImpl::Recv(int source, int tag, std::span<std::byte> out,
                              CommClock::time_point deadline, std::string_view what) {
  if (source < 0 || source >= size_ || source == rank_) {
    return Track(Failed(fmt::format("cannot receive from rank {}", source), what));
  }
  return Track(DoRecv(source, tag, out, deadline, what));
}

Status CommunicatorImpl::WaitSends(CommClock::time_point deadline, std::string_view what) {
  return Track(DoWaitSends(deadline, what));
}

Status CommunicatorImpl::TimedOut(int peer, std::string_view what) const {
  return Status::IOError(fmt::format(
      "[{}] rank {} of {}: nothing from rank {} within {} s ({}); rank {} hung, died or stopped "
      "on an earlier error (see its output); raise --timeout if it is only slow",
      transport(), rank_, size_, peer, timeout_seconds_, what, peer));
}

Status CommunicatorImpl::Failed(std::string_view detail, std::string_view what) const {
  return Status::IOError(
      fmt::format("[{}] rank {} of {}: {} ({})", transport(), rank_, size_, detail, what));
}

Status CommunicatorImpl::AllGather(std::span<const std::byte> local, std::span<std::byte> all,
                                   std::string_view what) {
  const size_t bytes = local.size();
  LMHEAD_CHECK(all.size() == bytes * static_cast<size_t>(size_), "{} != {} x {}", all.size(),
               bytes, size_);
  std::copy(local.begin(), local.end(), all.begin() + static_cast<std::ptrdiff_t>(bytes * rank_));
  if (size_ == 1) return Status::Ok();
  const auto blob = std::make_shared<const std::vector<std::byte>>(local.begin(), local.end());
  for (int peer = 0; peer < size_; ++peer) {
    if (peer != rank_) LMHEAD_RETURN_IF_ERROR(Send(peer, kTagAllGather, blob, what));
  }
  const auto deadline = Deadline();
  for (int peer = 0; peer < size_; ++peer) {
    if (peer == rank_) continue;
    LMHEAD_RETURN_IF_ERROR(
        Recv(peer, kTagAllGather, all.subspan(bytes * static_cast<size_t>(peer), bytes), deadline,
             what));
  }
  return WaitSends(deadline, what);
}

Status CommunicatorImpl::Agree(const Status& local, std::string_view what) {
  if (size_ == 1) return local;
  // After a failed collective the ranks are out of step: nothing more is sent.
  if (broken_) return local.ok() ? Failed("an earlier collective failed", what) : local;
  const std::string message = local.ok() ? std::string() : local.message();
  const AgreeRecord mine{static_cast<int32_t>(local.code()), static_cast<int32_t>(message.size()),
                         std::hash<std::string>{}(message)};
  std::vector<AgreeRecord> all(static_cast<size_t>(size_));
  LMHEAD_RETURN_IF_ERROR(AllGather(std::as_bytes(std::span<const AgreeRecord>(&mine, 1)),
                                   std::as_writable_bytes(std::span<AgreeRecord>(all)), what));
  std::vector<int> failed;
  for (int peer = 0; peer < size_; ++peer) {
    if (all[static_cast<size_t>(peer)].code != 0) failed.push_back(peer);
  }
  if (failed.empty()) return Status::Ok();
  // The first failing rank tells the others its message.
  const int first = failed[0];
  const AgreeRecord& theirs = all[static_cast<size_t>(first)];
  std::string text = message;
  if (first == rank_) {
    const auto blob = std::make_shared<const std::vector<std::byte>>(
        std::as_bytes(std::span<const char>(message)).begin(),
        std::as_bytes(std::span<const char>(message)).end());
    for (int peer = 0; peer < size_; ++peer) {
      if (peer != rank_) LMHEAD_RETURN_IF_ERROR(Send(peer, kTagAgreeMessage, blob, what));
    }
    LMHEAD_RETURN_IF_ERROR(WaitSends(Deadline(), what));
  } else {
    text.assign(static_cast<size_t>(std::max(theirs.length, 0)), '\0');
    LMHEAD_RETURN_IF_ERROR(Recv(first, kTagAgreeMessage,
                                std::as_writable_bytes(std::span<char>(text)), Deadline(), what));
  }
  const StatusCode code = CodeOf(theirs.code);
  // The same failure everywhere (a bad flag, a bad input) needs no rank named.
  const bool everyone_alike =
      static_cast<int>(failed.size()) == size_ &&
      std::all_of(all.begin(), all.end(), [&](const AgreeRecord& record) {
        return record.code == theirs.code && record.length == theirs.length &&
               record.message_hash == theirs.message_hash;
      });
  if (everyone_alike) return MakeStatus(code, text);
  std::string also;
  if (failed.size() > 1) {
    also = fmt::format(" (ranks {} failed too)",
                       fmt::join(std::span<const int>(failed).subspan(1), ", "));
  }
  return MakeStatus(code,
                    fmt::format("[{}] rank {} of {} failed{}: {}", what, first, size_, also, text));
}

Result<std::vector<std::vector<std::byte>>> CommunicatorImpl::GatherToRoot(
    std::span<const std::byte> local, std::string_view what) {
  std::vector<std::vector<std::byte>> gathered;
  if (size_ == 1) {
    gathered.emplace_back(local.begin(), local.end());
    return gathered;
  }
  // Sizes first, so rank 0 knows what each message holds.
  const int64_t my_bytes = static_cast<int64_t>(local.size());
  std::vector<int64_t> sizes(static_cast<size_t>(size_));
  LMHEAD_RETURN_IF_ERROR(AllGather(std::as_bytes(std::span<const int64_t>(&my_bytes, 1)),
                                   std::as_writable_bytes(std::span<int64_t>(sizes)), what));
  const auto deadline = Deadline();
  if (rank_ != 0) {
    auto blob = std::make_shared<const std::vector<std::byte>>(local.begin(), local.end());
    LMHEAD_RETURN_IF_ERROR(Send(0, kTagGatherToRoot, std::move(blob), what));
    LMHEAD_RETURN_IF_ERROR(WaitSends(deadline, what));
    return gathered;
  }
  gathered.resize(static_cast<size_t>(size_));
  gathered[0].assign(local.begin(), local.end());
  for (int peer = 1; peer < size_; ++peer) {
    std::vector<std::byte>& bytes = gathered[static_cast<size_t>(peer)];
    bytes.resize(static_cast<size_t>(sizes[static_cast<size_t>(peer)]));
    LMHEAD_RETURN_IF_ERROR(Recv(peer, kTagGatherToRoot, bytes, deadline, what));
  }
  return gathered;
}

}  // namespace lmhead
