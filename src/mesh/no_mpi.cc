// SPDX-License-Identifier: Apache-2.0
// The MPI transport in a build without MPI (LMHEAD_ENABLE_MPI=OFF): NotSupported.
#include "mesh/communicator_impl.h"

namespace lmhead {

Result<std::shared_ptr<CommunicatorImpl>> MakeMpiCommunicator(double) {
  return Status::NotSupported(
      "[mpi] this lmhead was built without MPI (LMHEAD_ENABLE_MPI=OFF); install openmpi-bin and "
      "libopenmpi-dev (scripts/install_deps.sh) and rebuild with cmake --preset mpi");
}

}  // namespace lmhead
