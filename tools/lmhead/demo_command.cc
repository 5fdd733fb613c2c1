// SPDX-License-Identifier: Apache-2.0
// `lmhead demo`: the project's main job. DeepSeek-V3's LM head on an emulated
// 4x8 Wormhole Galaxy, from a synthetic checkpoint to sampled tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>

#include <fmt/format.h>

#include "command.h"
#include "lmhead/lm_head.h"
#include "lmhead/machine.h"
#include "lmhead/reference.h"
#include "synthetic_weights.h"

namespace lmhead::cli {
namespace {


struct DemoFlags {
  std::string work_dir = "lmhead-demo";
  std::string model = "deepseek-v3";
  std::string mesh = "4x8";
  std::string device = std::string(kDefaultDevicePreset);
  int64_t users = 32;
  int64_t prefill_len = 1024;
  int64_t pcc_rows = 32;
  int threads = 0;
  uint64_t seed = 0;
};

void Step(int idx, const std::string& text) {
  std::printf("[%d/5] %s\n", idx, text.c_str());
  std::fflush(stdout);
}

void PrintTimes(const char* label, const ForwardResult& r) {
  std::printf("      %-8s scatter %8.2f ms | matmul %9.2f ms | combine %7.2f ms | total %9.2f ms\n",
              label, r.times.scatter * 1e3, r.times.matmul * 1e3, r.times.combine * 1e3,
              r.times.total * 1e3);
}

// Rows `picks` of a [rows, vocab] matrix, side by side.
std::vector<float> PickRows(std::span<const float> all, int64_t vocab,
                            const std::vector<int64_t>& picks) {
  std::vector<float> out;
  for (int64_t row : picks) {
    out.insert(out.end(), all.begin() + row * vocab, all.begin() + (row + 1) * vocab);
  }
  return out;
}

// TT's acceptance check: comp_pcc(tt-lofi logits as bf16 golden, fp32 reference) >= 0.98.
Status ReportPcc(const DemoFlags& flags, const std::string& checkpoint,
                 const std::vector<float>& x, int64_t hidden, const ForwardResult& lofi,
                 const std::vector<int64_t>& picks) {
  std::vector<float> x_rows;
  for (int64_t row : picks) {
    x_rows.insert(x_rows.end(), x.begin() + row * hidden, x.begin() + (row + 1) * hidden);
  }
  LMHEAD_ASSIGN_OR_RETURN(std::vector<float> reference,
                          UnquantizedLogits(checkpoint, "", x_rows,
                                            static_cast<int64_t>(picks.size()), flags.threads));
  const double pcc = CompPcc(PickRows(lofi.logits, lofi.vocab_size, picks), reference, true);
  std::printf("      PCC tt-lofi vs fp32 on the unquantised weights (%zu rows, TT's bar 0.98): "
              "%.5f %s\n",
              picks.size(), pcc, pcc >= 0.98 ? "PASS" : "FAIL");
  return Status::Ok();
}

Status RunDemo(const DemoFlags& flags) {
  LMHEAD_ASSIGN_OR_RETURN(ModelDims model, FindModelPreset(flags.model));
  LMHEAD_ASSIGN_OR_RETURN(MeshShape mesh, ParseMeshShape(flags.mesh));
  LMHEAD_ASSIGN_OR_RETURN(DeviceSpec device, FindDevicePreset(flags.device));
  PlanOptions plan_options;
  plan_options.seq_len = flags.prefill_len;
  LMHEAD_ASSIGN_OR_RETURN(LmHeadPlan plan, Plan(model, MeshDesc{mesh, device}, plan_options));
  std::printf("lmhead demo: %s LM head (H=%lld, V=%lld) on an emulated %lldx%lld %s\n\n",
              model.name.c_str(), static_cast<long long>(model.hidden_size),
              static_cast<long long>(model.vocab_size), static_cast<long long>(mesh.rows),
              static_cast<long long>(mesh.cols), device.name.c_str());
  Step(1, "plan (lmhead plan prints it all)");
  std::printf("      per device: weight [%lld, %lld] bfloat4_b, DRAM width-sharded %s\n",
              static_cast<long long>(plan.weights.per_device_shape[0]),
              static_cast<long long>(plan.weights.per_device_shape[1]),
              ToString(plan.weights.memory_config).c_str());
  std::printf("      decode:  %s\n      prefill: %s\n",
              ToString(plan.decode->linear.program_config).c_str(),
              ToString(plan.prefill->linear.program_config).c_str());

  Step(2, "synthetic checkpoint (trained-like lm_head.weight, bf16) and per-device bfloat4_b "
          "shards (lmhead synth, lmhead convert)");
  LMHEAD_ASSIGN_OR_RETURN(SyntheticWeights assets,
                          EnsureSyntheticWeights(flags.work_dir, model, mesh, flags.device,
                                                 flags.seed, flags.threads));
  const std::string& checkpoint = assets.checkpoint;
  const std::string& weights = assets.weights;

  OpenOptions open;
  open.num_threads = flags.threads;
  open.numerics = Numerics::kTtLofi;
  LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<LmHead> lofi_head, LmHead::Open(weights, open));
  open.numerics = Numerics::kFp32;
  LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<LmHead> fp32_head, LmHead::Open(weights, open));
  const int64_t hidden = model.hidden_size;

  Step(3, fmt::format("decode, {} users ({} and {})", flags.users, lofi_head->kernel_name(),
                      fp32_head->kernel_name()));
  const std::vector<float> x = SyntheticHiddenStates(flags.users, hidden, flags.seed + 1);
  const Activations decode_in{x, {}, flags.users, hidden};
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult lofi, lofi_head->Decode(decode_in, {}));
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult fp32, fp32_head->Decode(decode_in, {}));
  PrintTimes("tt-lofi", lofi);
  PrintTimes("fp32", fp32);
  std::printf("      mesh_scatter: %lld point_to_point transfers, %.2f MB\n",
              static_cast<long long>(lofi.num_transfers), static_cast<double>(lofi.transfer_bytes) / 1e6);
  std::vector<int64_t> all_users(static_cast<size_t>(flags.users));
  for (int64_t user = 0; user < flags.users; ++user) all_users[static_cast<size_t>(user)] = user;
  LMHEAD_RETURN_IF_ERROR(ReportPcc(flags, checkpoint, x, hidden, lofi, all_users));
  ForwardOptions top5;
  top5.reduction = Reduction::kTopK;
  top5.k = 5;
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult best, fp32_head->Decode(decode_in, top5));
  for (int64_t user = 0; user < std::min<int64_t>(flags.users, 4); ++user) {
    std::printf("      user %lld top-5 token ids: %s (fused top-k: %lld B left the devices)\n",
                static_cast<long long>(user),
                fmt::format("{}", fmt::join(best.token_ids.begin() + user * 5,
                                            best.token_ids.begin() + user * 5 + 5, ", "))
                    .c_str(),
                static_cast<long long>(best.combine_bytes));
  }

  Step(4, fmt::format("prefill, {} tokens", flags.prefill_len));
  const std::vector<float> prompt = SyntheticHiddenStates(flags.prefill_len, hidden, flags.seed + 2);
  const Activations prefill_in{prompt, {}, flags.prefill_len, hidden};
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult lofi_prefill, lofi_head->Prefill(prefill_in, {}));
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult fp32_prefill, fp32_head->Prefill(prefill_in, {}));
  PrintTimes("tt-lofi", lofi_prefill);
  PrintTimes("fp32", fp32_prefill);
  std::vector<int64_t> picks;  // Evenly spaced rows keep the fp32 reference quick.
  const int64_t count = std::min(flags.pcc_rows, flags.prefill_len);
  for (int64_t idx = 0; idx < count; ++idx) picks.push_back(idx * flags.prefill_len / count);
  LMHEAD_RETURN_IF_ERROR(ReportPcc(flags, checkpoint, prompt, hidden, lofi_prefill, picks));
  std::printf("      fp32 prefill: %.1f GFLOP/s\n",
              fp32_prefill.flops / fp32_prefill.times.matmul / 1e9);

  Step(5, "one decode token (1 user) against this machine's memory-bandwidth limit");
  const BandwidthProbe probe = MeasureReadBandwidth(size_t{1} << 30, flags.threads, 5);
  const Activations one_user{std::span<const float>(x).first(static_cast<size_t>(hidden)), {}, 1,
                             hidden};
  for (LmHead* head : {lofi_head.get(), fp32_head.get()}) {
    // Median of 5 calls after a warm-up: these machines are noisy.
    std::vector<double> seconds;
    int64_t weight_bytes = 0;
    for (int rep = 0; rep <= 5; ++rep) {
      LMHEAD_ASSIGN_OR_RETURN(ForwardResult r, head->Decode(one_user, {}));
      if (rep > 0) seconds.push_back(r.times.total);
      weight_bytes = r.weight_bytes;
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double gbps = static_cast<double>(weight_bytes) / median / 1e9;
    std::printf("      %-28s %.1f MB of weights in %7.2f ms = %6.2f GB/s = %3.0f%% of the "
                "measured read bandwidth (%.2f GB/s, %d threads)\n",
                head->kernel_name().c_str(), static_cast<double>(weight_bytes) / 1e6,
                median * 1e3, gbps, 100.0 * gbps / probe.median_gbps, probe.median_gbps,
                probe.num_threads);
  }
  return Status::Ok();
}

}  // namespace

CommandMain RegisterDemoCommand(CLI::App& sub) {
  auto flags = std::make_shared<DemoFlags>();
  sub.add_option("--work-dir", flags->work_dir,
                 "Where the synthetic checkpoint and converted shards are cached")
      ->capture_default_str();
  sub.add_option("--model", flags->model, "Built-in model")->capture_default_str();
  sub.add_option("--mesh", flags->mesh, "Mesh RxC")->capture_default_str();
  sub.add_option("--device", flags->device, "Device preset")->capture_default_str();
  // Checked here, before the demo writes its checkpoint and shards.
  sub.add_option("--users", flags->users, "Decode rows (1..32)")
      ->check(CLI::Range(int64_t{1}, int64_t{32}))
      ->capture_default_str();
  sub.add_option("--prefill-len", flags->prefill_len, "Prefill tokens")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31))
      ->capture_default_str();
  sub.add_option("--pcc-rows", flags->pcc_rows, "Prefill rows checked against fp32")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31))
      ->capture_default_str();
  AddThreadsOption(sub, flags->threads);
  sub.add_option("--seed", flags->seed, "Seed of the checkpoint and inputs")
      ->capture_default_str();
  return [flags] { return ReportStatus(RunDemo(*flags)); };
}

}  // namespace lmhead::cli
