// SPDX-License-Identifier: Apache-2.0
// In-process transports: this process alone, and N ranks as threads sharing mailboxes.
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>

#include <fmt/format.h>

#include "mesh/communicator_impl.h"

namespace lmhead {
namespace {

// Messages in flight between the ranks of one group, by (source, dest, tag),
// each queue in the order sent (MPI's non-overtaking rule).
struct Mailboxes {
  std::mutex mutex;
  std::condition_variable arrived;
  std::map<std::tuple<int, int, int>, std::deque<Blob>> queues;
};

class InProcessCommunicator final : public CommunicatorImpl {
 public:
  InProcessCommunicator(int rank, int size, double timeout_seconds,
                        std::shared_ptr<Mailboxes> mailboxes)
      : CommunicatorImpl(rank, size, timeout_seconds), mailboxes_(std::move(mailboxes)) {}

  const char* transport() const override { return size() == 1 ? "single" : "in-process"; }

 protected:
  // Delivery is a pointer handed over: zero-copy, complete at once.
  Status DoSend(int dest, int tag, Blob bytes, std::string_view) override {
    {
      std::lock_guard<std::mutex> lock(mailboxes_->mutex);
      mailboxes_->queues[{rank(), dest, tag}].push_back(std::move(bytes));
    }
    mailboxes_->arrived.notify_all();
    return Status::Ok();
  }

  Status DoRecv(int source, int tag, std::span<std::byte> out, CommClock::time_point deadline,
                std::string_view what) override {
    std::unique_lock<std::mutex> lock(mailboxes_->mutex);
    std::deque<Blob>& queue = mailboxes_->queues[{source, rank(), tag}];
    if (!mailboxes_->arrived.wait_until(lock, deadline, [&] { return !queue.empty(); })) {
      return TimedOut(source, what);
    }
    const Blob blob = std::move(queue.front());
    queue.pop_front();
    if (blob->size() != out.size()) {
      return Failed(fmt::format("a message of {} bytes from rank {} where {} were expected; the "
                                "ranks are out of step",
                                blob->size(), source, out.size()),
                    what);
    }
    if (!out.empty()) std::memcpy(out.data(), blob->data(), out.size());
    return Status::Ok();
  }

  Status DoWaitSends(CommClock::time_point, std::string_view) override { return Status::Ok(); }

 private:
  std::shared_ptr<Mailboxes> mailboxes_;
};

}  // namespace

std::shared_ptr<CommunicatorImpl> MakeSingleCommunicator(double timeout_seconds) {
  return std::make_shared<InProcessCommunicator>(0, 1, timeout_seconds,
                                                 std::make_shared<Mailboxes>());
}

std::vector<std::shared_ptr<CommunicatorImpl>> MakeInProcessGroup(int size,
                                                                  double timeout_seconds) {
  auto mailboxes = std::make_shared<Mailboxes>();
  std::vector<std::shared_ptr<CommunicatorImpl>> group;
  for (int rank = 0; rank < size; ++rank) {
    group.push_back(
        std::make_shared<InProcessCommunicator>(rank, size, timeout_seconds, mailboxes));
  }
  return group;
}

}  // namespace lmhead
