// SPDX-License-Identifier: Apache-2.0
// Communicator: the public face of a CommunicatorImpl, and choosing the transport.
#include "lmhead/communicator.h"

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "mesh/communicator_impl.h"

namespace lmhead {
namespace {

Status CheckTimeout(const CommunicatorOptions& options) {
  if (!(options.timeout_seconds > 0)) {
    return Status::InvalidArgument(fmt::format(
        "[Communicator] timeout must be > 0 seconds (got {}); pass e.g. --timeout 60",
        options.timeout_seconds));
  }
  return Status::Ok();
}

}  // namespace

const char* ToString(ScatterRoute route) {
  return route == ScatterRoute::kForward ? "forward" : "direct";
}

Result<ScatterRoute> ParseScatterRoute(std::string_view text) {
  if (text == "forward") return ScatterRoute::kForward;
  if (text == "direct") return ScatterRoute::kDirect;
  return Status::InvalidArgument(
      fmt::format("[ParseScatterRoute] '{}' is not a route; use forward or direct", text));
}

Communicator::Communicator(std::shared_ptr<CommunicatorImpl> impl) : impl_(std::move(impl)) {}
Communicator::~Communicator() = default;

std::shared_ptr<Communicator> Communicator::Single(const CommunicatorOptions& options) {
  const double timeout = options.timeout_seconds > 0 ? options.timeout_seconds : 60.0;
  return std::make_shared<Communicator>(MakeSingleCommunicator(timeout));
}

Result<std::vector<std::shared_ptr<Communicator>>> Communicator::InProcessGroup(
    int size, const CommunicatorOptions& options) {
  LMHEAD_RETURN_IF_ERROR(CheckTimeout(options));
  if (size < 1) {
    return Status::InvalidArgument(
        fmt::format("[Communicator] an in-process group needs >= 1 rank (got {})", size));
  }
  std::vector<std::shared_ptr<Communicator>> group;
  for (auto& impl : MakeInProcessGroup(size, options.timeout_seconds)) {
    group.push_back(std::make_shared<Communicator>(std::move(impl)));
  }
  return group;
}

Result<std::shared_ptr<Communicator>> Communicator::Mpi(const CommunicatorOptions& options) {
  LMHEAD_RETURN_IF_ERROR(CheckTimeout(options));
  LMHEAD_ASSIGN_OR_RETURN(std::shared_ptr<CommunicatorImpl> impl,
                          MakeMpiCommunicator(options.timeout_seconds));
  return std::make_shared<Communicator>(std::move(impl));
}

int Communicator::LauncherWorldSize() {
  // Open MPI's mpirun, MPICH's Hydra and Slurm's PMI, MVAPICH.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"}) {
    if (const char* value = std::getenv(name)) return std::max(std::atoi(value), 0);
  }
  return 0;
}

Result<std::shared_ptr<Communicator>> Communicator::FromEnvironment(
    const CommunicatorOptions& options) {
  LMHEAD_RETURN_IF_ERROR(CheckTimeout(options));
  const int world = LauncherWorldSize();
  if (world == 0) return Single(options);
  Result<std::shared_ptr<Communicator>> mpi = Mpi(options);
  // Under `mpirun -n 1` a build without MPI still runs correctly alone; with
  // more ranks each would compute the whole mesh and race on the outputs.
  if (!mpi.ok() && mpi.status().code() == StatusCode::kNotSupported && world == 1) {
    return Single(options);
  }
  if (!mpi.ok() && mpi.status().code() == StatusCode::kNotSupported) {
    return Status::NotSupported(fmt::format("{} (an MPI launcher started {} ranks)",
                                            mpi.status().message(), world));
  }
  return mpi;
}

int Communicator::rank() const { return impl_->rank(); }
int Communicator::size() const { return impl_->size(); }
const char* Communicator::transport() const { return impl_->transport(); }
double Communicator::timeout_seconds() const { return impl_->timeout_seconds(); }

Status Communicator::Agree(const Status& local, std::string_view what) {
  return impl_->Agree(local, what);
}

Result<std::vector<std::string>> Communicator::GatherToRoot(std::string_view local) {
  LMHEAD_ASSIGN_OR_RETURN(
      auto gathered,
      impl_->GatherToRoot(std::as_bytes(std::span<const char>(local.data(), local.size())),
                          "Communicator::GatherToRoot"));
  std::vector<std::string> texts;
  for (const std::vector<std::byte>& bytes : gathered) {
    texts.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return texts;
}

}  // namespace lmhead
