// SPDX-License-Identifier: Apache-2.0
// `lmhead bench`: the whole DeepSeek-V3 head, timed against limits measured in the same run.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "lmhead/lm_head.h"
#include "lmhead/machine.h"
#include "onednn_baseline.h"
#include "synthetic_weights.h"

namespace lmhead::cli {
namespace {

constexpr size_t kProbeBytes = size_t{1} << 30;  // read-bandwidth probe buffer
constexpr int kDecodeInputs = 16;                // distinct decode inputs, used in turn
constexpr int kMaxRepetitions = 1000000;         // --repetitions, --prefill-repetitions

struct BenchFlags {
  std::string mode = "both";
  std::string m_list = "1,2,4,8,16,32";
  int64_t seq_len = 2048;
  std::string numerics = "fp32,tt-lofi";
  std::string compare;
  int repetitions = 5;
  int prefill_repetitions = 3;
  int threads = 0;
  bool json = false;
  std::string work_dir = "lmhead-demo";
};

struct Limits {
  BandwidthProbe bandwidth;
  // Each measured only where the kernels may use it (lmhead/machine.h).
  ComputeProbe amx;
  ComputeProbe avx512_bf16;
  ComputeProbe fp32_fma;

  // The compute limit of the kernels in use: AMX where they may use it, else
  // vdpbf16ps, else fp32 FMAs; not available for the scalar reference.
  const ComputeProbe& compute() const {
    return amx.available ? amx : avx512_bf16.available ? avx512_bf16 : fp32_fma;
  }
  const char* compute_name() const {
    const ComputeProbe& peak = compute();
    return &peak == &amx ? "AMX" : &peak == &avx512_bf16 ? "vdpbf16ps" : "fp32 FMA";
  }
};

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

Result<std::vector<int64_t>> ParseRows(const std::string& text) {
  std::vector<int64_t> rows;
  for (const std::string& item : Split(text)) {
    int64_t value = 0;
    auto [ptr, error] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (error != std::errc() || ptr != item.data() + item.size() || value < 1 || value > 32) {
      return Status::InvalidArgument(
          fmt::format("[bench] --m {}: '{}' is not a decode row count in 1..32", text, item));
    }
    rows.push_back(value);
  }
  if (rows.empty()) {
    return Status::InvalidArgument(
        fmt::format("[bench] --m '{}' names no decode row count; pass e.g. --m 1,8,32", text));
  }
  return rows;
}

struct Timing {
  double median_ms = 0;
  double min_ms = 0;
  ForwardResult last;
};

// Runs `call(rep, reuse)` for rep 0 (the warm-up) to `repetitions`; whole-call
// wall time.
template <typename Call>
Result<Timing> TimeCalls(int repetitions, Call call) {
  std::vector<double> times;
  Timing timing;
  for (int rep = 0; rep <= repetitions; ++rep) {
    // The previous call's logits storage goes back in, as a serving loop
    // would hand it back: no call faults in fresh pages for its output.
    LogitBuffer reuse = std::move(timing.last.logits);
    LMHEAD_ASSIGN_OR_RETURN(timing.last, call(rep, &reuse));
    if (rep > 0) times.push_back(timing.last.times.total * 1e3);
  }
  std::sort(times.begin(), times.end());
  timing.median_ms = times[times.size() / 2];
  timing.min_ms = times.front();
  return timing;
}

// A case against the in-run limits. The roofline is the time the case
// cannot beat on this machine: its weight bytes at the read bandwidth or its
// flops at the compute peak, whichever is longer.
nlohmann::json CaseJson(const std::string& mode, int64_t rows, const std::string& numerics,
                        const LmHead& head, const Timing& t, const Limits& limits) {
  const double seconds = t.median_ms / 1e3;
  const double gbps = static_cast<double>(t.last.weight_bytes) / seconds / 1e9;
  const double tflops = t.last.flops / seconds / 1e12;
  const auto ratio = [](double value, const ComputeProbe& peak) {
    return peak.available ? value / peak.median_tflops : 0.0;
  };
  const double compute_peak = limits.compute().median_tflops;
  const double roofline_ms =
      1e3 *
      std::max(static_cast<double>(t.last.weight_bytes) / (limits.bandwidth.median_gbps * 1e9),
               compute_peak > 0 ? t.last.flops / (compute_peak * 1e12) : 0.0);
  nlohmann::json j = {
      {"mode", mode},
      {"numerics", numerics},
      {"kernels", head.kernel_name()},
      {"threads", head.num_threads()},
      {"median_ms", t.median_ms},
      {"min_ms", t.min_ms},
      {"weight_bytes", t.last.weight_bytes},
      {"flops", t.last.flops},
      {"gbps", gbps},
      {"tflops", tflops},
      {"read_bw_gbps", limits.bandwidth.median_gbps},
      {"amx_peak_tflops", limits.amx.median_tflops},
      {"avx512_bf16_peak_tflops", limits.avx512_bf16.median_tflops},
      {"fp32_fma_peak_tflops", limits.fp32_fma.median_tflops},
      {"roofline_compute", limits.compute_name()},
      {"ratio_to_read_bw", gbps / limits.bandwidth.median_gbps},
      {"ratio_to_amx_peak", ratio(tflops, limits.amx)},
      {"ratio_to_avx512_bf16_peak", ratio(tflops, limits.avx512_bf16)},
      {"ratio_to_fp32_fma_peak", ratio(tflops, limits.fp32_fma)},
      {"ratio_to_compute_peak", ratio(tflops, limits.compute())},
      {"roofline_ms", roofline_ms},
      {"ratio_to_roofline", roofline_ms / t.median_ms},
      // Where the last timed call spent its time (lm_head.h's StageTimes).
      {"stage_ms",
       {{"scatter", 1e3 * t.last.times.scatter},
        {"matmul", 1e3 * t.last.times.matmul},
        {"combine", 1e3 * t.last.times.combine}}},
  };
  j[mode == "decode" ? "m" : "seq_len"] = rows;
  return j;
}

void PrintCase(const nlohmann::json& c, const Limits& limits, const std::string& kernels) {
  const bool decode = c["mode"] == "decode";
  const double compute_ratio = c["ratio_to_compute_peak"].get<double>();
  std::printf(
      "%-8s %-8s %6lld  %10.2f %10.2f  %8.2f GB/s (%5.1f%% of read bw)  %7.3f TFLOP/s "
      "(%5.1f%% of %s)  %5.1f%% of roofline  %s\n",
      c["mode"].get<std::string>().c_str(), c["numerics"].get<std::string>().c_str(),
      static_cast<long long>(decode ? c["m"].get<int64_t>() : c["seq_len"].get<int64_t>()),
      c["median_ms"].get<double>(), c["min_ms"].get<double>(), c["gbps"].get<double>(),
      100.0 * c["ratio_to_read_bw"].get<double>(), c["tflops"].get<double>(), 100.0 * compute_ratio,
      limits.compute_name(), 100.0 * c["ratio_to_roofline"].get<double>(), kernels.c_str());
  if (c.contains("onednn_ms")) {
    std::printf(
        "         oneDNN bf16 matmul, same shapes, %d threads: %.2f ms median (lmhead runs at "
        "%.2fx oneDNN's speed)\n",
        c["onednn_threads"].get<int>(), c["onednn_ms"].get<double>(),
        c["onednn_ms"].get<double>() / c["median_ms"].get<double>());
  }
  std::fflush(stdout);
}

Status RunBench(const BenchFlags& flags) {
  LMHEAD_ASSIGN_OR_RETURN(ModelDims model, FindModelPreset("deepseek-v3"));
  LMHEAD_ASSIGN_OR_RETURN(std::vector<int64_t> m_list, ParseRows(flags.m_list));
  for (const std::string& name : Split(flags.numerics)) {
    LMHEAD_RETURN_IF_ERROR(ParseNumerics(name).status());
  }
  if (Split(flags.numerics).empty()) {
    return Status::InvalidArgument(fmt::format(
        "[bench] --numerics '{}' names no numerics; pass fp32, tt-lofi or both", flags.numerics));
  }
  if (!flags.json) std::printf("lmhead bench: DeepSeek-V3 head, 4x8 wormhole_b0-galaxy emulated\n");
  LMHEAD_ASSIGN_OR_RETURN(
      SyntheticWeights assets,
      EnsureSyntheticWeights(flags.work_dir, model, MeshShape{4, 8},
                             std::string(kDefaultDevicePreset), 0, flags.threads));
  Limits limits;
  limits.bandwidth = MeasureReadBandwidth(kProbeBytes, flags.threads, 5);
  limits.amx = MeasureAmxBf16Peak(flags.threads, 5);
  limits.avx512_bf16 = MeasureAvx512Bf16Peak(flags.threads, 5);
  limits.fp32_fma = MeasureFp32FmaPeak(flags.threads, 5);
  if (!flags.json) {
    std::printf(
        "limits: read bandwidth %.2f GB/s (median, best %.2f, %d threads, 1 GiB; "
        "probed again before each decode case); "
        "register-resident peaks: AMX-BF16 %.2f TFLOP/s, vdpbf16ps %.2f TFLOP/s, "
        "fp32 FMA %.2f TFLOP/s (0 = not on this CPU or below the kernel cap)\n"
        "roofline: weight bytes at the read bandwidth or flops at the %s peak, "
        "whichever takes longer\n\n",
        limits.bandwidth.median_gbps, limits.bandwidth.best_gbps, limits.bandwidth.num_threads,
        limits.amx.median_tflops, limits.avx512_bf16.median_tflops, limits.fp32_fma.median_tflops,
        limits.compute_name());
    std::printf("%-8s %-8s %6s  %10s %10s\n", "mode", "numerics", "m/S", "median ms", "min ms");
  }
  nlohmann::json cases = nlohmann::json::array();
  for (const std::string& name : Split(flags.numerics)) {
    LMHEAD_ASSIGN_OR_RETURN(Numerics numerics, ParseNumerics(name));
    OpenOptions open;
    open.numerics = numerics;
    open.num_threads = flags.threads;
    LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<LmHead> head, LmHead::Open(assets.weights, open));
    if (flags.mode != "prefill") {
      for (const int64_t m : m_list) {
        // A new input per call, as each decode step brings one: on a repeated
        // input the branch predictors learn the tt-lofi checks' outcomes.
        std::vector<std::vector<float>> inputs;
        for (int input = 0; input < std::min(flags.repetitions + 1, kDecodeInputs); ++input) {
          inputs.push_back(SyntheticHiddenStates(m, model.hidden_size, 1 + input));
        }
        // This machine's bandwidth drifts (other tenants): each decode case is
        // measured against a probe taken right before it.
        limits.bandwidth = MeasureReadBandwidth(kProbeBytes, flags.threads, 3);
        LMHEAD_ASSIGN_OR_RETURN(
            Timing t, TimeCalls(flags.repetitions, [&](int rep, LogitBuffer* reuse) {
              return head->Decode(
                  Activations{
                      inputs[static_cast<size_t>(rep) % inputs.size()], {}, m, model.hidden_size},
                  ForwardOptions{.reuse_logits = reuse});
            }));
        cases.push_back(CaseJson("decode", m, name, *head, t, limits));
        if (!flags.json) PrintCase(cases.back(), limits, head->kernel_name());
      }
    }
    if (flags.mode != "decode") {
      const std::vector<float> x = SyntheticHiddenStates(flags.seq_len, model.hidden_size, 2);
      LMHEAD_ASSIGN_OR_RETURN(
          Timing t, TimeCalls(flags.prefill_repetitions, [&](int, LogitBuffer* reuse) {
            return head->Prefill(Activations{x, {}, flags.seq_len, model.hidden_size},
                                 ForwardOptions{.reuse_logits = reuse});
          }));
      nlohmann::json c = CaseJson("prefill", flags.seq_len, name, *head, t, limits);
      if (flags.compare == "onednn") {
        LMHEAD_ASSIGN_OR_RETURN(
            OnednnTiming onednn,
            TimeOnednnBf16Matmul(flags.seq_len, model.hidden_size, model.vocab_size,
                                 flags.prefill_repetitions, flags.threads));
        c["onednn_ms"] = onednn.median_ms;
        c["onednn_min_ms"] = onednn.min_ms;
        c["onednn_threads"] = onednn.num_threads;
      }
      cases.push_back(c);
      if (!flags.json) PrintCase(cases.back(), limits, head->kernel_name());
    }
  }
  if (flags.json) std::printf("%s\n", cases.dump(2).c_str());
  return Status::Ok();
}

}  // namespace

CommandMain RegisterBenchCommand(CLI::App& sub) {
  auto flags = std::make_shared<BenchFlags>();
  sub.add_option("--mode", flags->mode, "decode, prefill or both")
      ->check(CLI::IsMember({"decode", "prefill", "both"}))
      ->capture_default_str();
  sub.add_option("--m", flags->m_list, "Decode rows, comma-separated")->capture_default_str();
  sub.add_option("--seq-len", flags->seq_len, "Prefill rows")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31))
      ->capture_default_str();
  sub.add_option("--numerics", flags->numerics, "fp32 and/or tt-lofi, comma-separated")
      ->capture_default_str();
  sub.add_option("--compare", flags->compare, "onednn: also time oneDNN's bf16 matmul (prefill)")
      ->check(CLI::IsMember({"", "onednn"}));
  sub.add_option("--repetitions", flags->repetitions, "Timed decode calls per case")
      ->check(CLI::Range(1, kMaxRepetitions))
      ->capture_default_str();
  sub.add_option("--prefill-repetitions", flags->prefill_repetitions,
                 "Timed prefill calls per case")
      ->check(CLI::Range(1, kMaxRepetitions))
      ->capture_default_str();
  AddThreadsOption(sub, flags->threads);
  sub.add_option("--work-dir", flags->work_dir, "Cache of the synthetic checkpoint and shards")
      ->capture_default_str();
  sub.add_flag("--json", flags->json, "One JSON object per case");
  return [flags] { return ReportStatus(RunBench(*flags)); };
}

}  // namespace lmhead::cli
