// SPDX-License-Identifier: Apache-2.0
// DescribeMachine: CPU features and the kernels the engine would choose, for `lmhead info`.
#include <fmt/format.h>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "lmhead/formats.h"
#include "lmhead/machine.h"

namespace lmhead {

MachineInfo DescribeMachine() {
  MachineInfo info;
  info.formats_simd_target = FormatsSimdTargetName();
  info.allowed_cpus = AllowedCpus();
  info.default_threads = DefaultThreadCount();
  Result<CpuFeatures> cpu = CpuFeaturesForKernels();
  if (!cpu.ok()) {
    info.cpu_features = cpu.status().message();
    return info;
  }
  info.cpu_features = ToString(*cpu);
  for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
    for (Numerics numerics : {Numerics::kTtLofi, Numerics::kFp32}) {
      Result<const MatmulKernels*> kernels = FindMatmulKernels(format, numerics, *cpu);
      if (!kernels.ok()) {
        info.kernel_choices.push_back(fmt::format("{} {} -> {}", ToString(format),
                                                  ToString(numerics), kernels.status().message()));
        continue;
      }
      info.kernel_choices.push_back(fmt::format(
          "{} {} -> {}{}", ToString(format), ToString(numerics), (*kernels)->name,
          (*kernels)->rows_independent ? " (a row's logits do not depend on the batch)" : ""));
    }
  }
  return info;
}

}  // namespace lmhead
