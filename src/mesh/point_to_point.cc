// SPDX-License-Identifier: Apache-2.0
// ttnn.point_to_point on a MeshDevice: a shared blob inside one process,
// messages between processes (forwarded hop by hop or sent directly).
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "base/check.h"
#include "mesh/mesh_device.h"

namespace lmhead {
namespace {

int64_t Sign(int64_t value) { return (value > 0) - (value < 0); }

// The processes a transfer's bytes pass through, in order. Forwarded, they
// follow the Linear fabric: every device between sender and receiver along
// their shared row or column, so each intermediate row's process relays the
// bytes. Devices are split over processes in row-major order, so the owners
// along a row or a column never go back: each process appears once.
std::vector<int> RankChain(const RankDevices& ranks, const MeshShape& shape, int64_t sender_idx,
                           int64_t receiver_idx, ScatterRoute route) {
  std::vector<int> chain{ranks.OwnerOf(sender_idx)};
  auto visit = [&](int64_t device_idx) {
    const int owner = ranks.OwnerOf(device_idx);
    if (owner != chain.back()) chain.push_back(owner);
  };
  if (route == ScatterRoute::kForward) {
    const MeshCoord from = DeviceMeshCoord(shape, sender_idx);
    const MeshCoord to = DeviceMeshCoord(shape, receiver_idx);
    const int64_t d_row = Sign(to.row - from.row);
    const int64_t d_col = Sign(to.col - from.col);
    const int64_t steps = std::max(std::abs(to.row - from.row), std::abs(to.col - from.col));
    for (int64_t step = 1; step <= steps; ++step) {
      visit((from.row + d_row * step) * shape.cols + from.col + d_col * step);
    }
  } else {
    visit(receiver_idx);
  }
  return chain;
}

std::string DescribeChain(const std::vector<int>& chain, ScatterRoute route) {
  if (chain.size() == 1) return fmt::format("local: rank {} holds both devices", chain[0]);
  const size_t messages = chain.size() - 1;
  return fmt::format("{}: rank {} ({} message{})", ToString(route), fmt::join(chain, " -> rank "),
                     messages, messages == 1 ? "" : "s");
}

}  // namespace

Status MeshDevice::PointToPoint(const MeshTensor& tensor, const PointToPointTransfer& transfer) {
  const char* op = "ttnn.point_to_point";
  const MeshCoord& sender = transfer.sender;
  const MeshCoord& receiver = transfer.receiver;
  LMHEAD_ASSIGN_OR_RETURN(int64_t sender_idx, DeviceIndex(sender, op));
  LMHEAD_ASSIGN_OR_RETURN(int64_t receiver_idx, DeviceIndex(receiver, op));
  if (sender.row != receiver.row && sender.col != receiver.col) {
    return Status::InvalidArgument(fmt::format(
        "[{}] sender {} and receiver {} share neither a row nor a column; 1D fabric routing "
        "cannot reach it",
        op, ToString(sender), ToString(receiver)));
  }
  LMHEAD_ASSIGN_OR_RETURN(Buffer * from, Find(tensor, sender_idx, op));
  LMHEAD_ASSIGN_OR_RETURN(Buffer * to, Find(tensor, receiver_idx, op));
  std::string detail =
      fmt::format("sender={}, receiver={}, topology=Linear ({} hop{} along mesh dim {})",
                  ToString(sender), ToString(receiver), transfer.hops,
                  transfer.hops == 1 ? "" : "s", transfer.mesh_dim);
  if (transport_.ranks.distributed()) {
    std::string route;
    LMHEAD_RETURN_IF_ERROR(RoutePointToPoint(*from, *to, sender_idx, receiver_idx,
                                             tensor.spec.num_bytes(), route));
    detail += "; " + route;
  } else {
    to->blob = from->blob;
  }
  RecordOp({op, std::move(detail), static_cast<int64_t>(tensor.spec.num_bytes()), transfer.hops});
  return Status::Ok();
}

Status MeshDevice::RoutePointToPoint(Buffer& from, Buffer& to, int64_t sender_idx,
                                     int64_t receiver_idx, size_t bytes, std::string& route) {
  const RankDevices& ranks = transport_.ranks;
  const std::vector<int> chain =
      RankChain(ranks, shape_, sender_idx, receiver_idx, transport_.route);
  route = DescribeChain(chain, transport_.route);
  const auto mine = std::find(chain.begin(), chain.end(), ranks.process_rank);
  if (mine == chain.end()) return Status::Ok();  // Not on this transfer's path.
  if (chain.size() == 1) {
    to.blob = from.blob;
    return Status::Ok();
  }
  const size_t pos = static_cast<size_t>(mine - chain.begin());
  CommunicatorImpl& comm = *transport_.comm;
  // Unique per transfer: a transfer's messages all have one tag, each between
  // a different pair of processes.
  const int tag = kTagPointToPoint + static_cast<int>(sender_idx * num_devices() + receiver_idx);
  const std::string what = fmt::format(
      "mesh_scatter point_to_point {} -> {}", ToString(DeviceMeshCoord(shape_, sender_idx)),
      ToString(DeviceMeshCoord(shape_, receiver_idx)));
  Blob data = from.blob;
  if (pos > 0) {
    auto received = std::make_shared<std::vector<std::byte>>(bytes);
    LMHEAD_RETURN_IF_ERROR(comm.Recv(chain[pos - 1], tag, *received, comm.Deadline(), what));
    network_.bytes_received += static_cast<int64_t>(bytes);
    network_.messages_received += 1;
    data = std::move(received);
  }
  if (pos + 1 < chain.size()) {
    LMHEAD_DCHECK(data != nullptr);
    LMHEAD_RETURN_IF_ERROR(comm.Send(chain[pos + 1], tag, data, what));
    network_.bytes_sent += static_cast<int64_t>(bytes);
    network_.messages_sent += 1;
  } else {
    to.blob = std::move(data);
  }
  return Status::Ok();
}

Status MeshDevice::Synchronize() {
  if (!transport_.ranks.distributed()) return Status::Ok();
  return transport_.comm->WaitSends(transport_.comm->Deadline(), "mesh_scatter sends");
}

}  // namespace lmhead
