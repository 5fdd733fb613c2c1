// SPDX-License-Identifier: Apache-2.0
// `lmhead run`: one decode or prefill call on converted weights, from .npy to .npy;
// under mpirun, the mesh's devices are spread over the ranks (docs/mpi.md).
#include <charconv>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "lmhead/communicator.h"
#include "lmhead/lm_head.h"
#include "lmhead/npy.h"

namespace lmhead::cli {
namespace {

struct RunFlags {
  std::string weights;
  std::string mode = "decode";
  std::string input;
  std::string output;
  std::string output_values;
  std::string numerics = "tt-lofi";
  std::string reduce = "logits";
  std::string compat = "seed";
  std::string per_device_output;
  std::string scatter_route = "forward";
  std::string mesh;  // Optional: the mesh the caller expects the weights to be for.
  double timeout = 60.0;
  int64_t input_row_idx = 0;
  int threads = 0;
  bool last_token_only = false;
  bool allow_nonfinite = false;
  bool verify = false;
  bool json = false;
  bool trace = false;
};

// "logits", "argmax", "topk:K" or "logsumexp".
Status ParseReduce(const std::string& text, ForwardOptions& options) {
  if (text == "logits") {
    options.reduction = Reduction::kLogits;
  } else if (text == "argmax") {
    options.reduction = Reduction::kTopK;
    options.k = 1;
  } else if (text == "logsumexp") {
    options.reduction = Reduction::kLogSumExp;
  } else if (text.rfind("topk:", 0) == 0) {
    options.reduction = Reduction::kTopK;
    const char* begin = text.data() + 5;
    const char* end = text.data() + text.size();
    auto [ptr, error] = std::from_chars(begin, end, options.k);
    if (error != std::errc() || ptr != end || begin == end) {
      return Status::InvalidArgument(fmt::format("[run] --reduce {}: K must be an integer", text));
    }
  } else {
    return Status::InvalidArgument(fmt::format(
        "[run] --reduce {} is unknown; use logits, argmax, topk:K or logsumexp", text));
  }
  return Status::Ok();
}

// X.npy: float32 or bf16-as-uint16, [M, H] or [1, 1, M, H].
Result<Activations> InputOf(const NpyArray& array, const std::string& path) {
  const auto& shape = array.shape;
  const bool rank2 = shape.size() == 2;
  const bool rank4 = shape.size() == 4 && shape[0] == 1 && shape[1] == 1;
  if (!rank2 && !rank4) {
    return Status::InvalidArgument(fmt::format(
        "[run] {} has shape {}; expected [M, H] or [1, 1, M, H]", path, fmt::join(shape, "x")));
  }
  Activations x;
  x.rows = shape[shape.size() - 2];
  x.cols = shape[shape.size() - 1];
  if (array.dtype == NpyDtype::kFloat32) {
    x.fp32 = array.Values<float>();
  } else if (array.dtype == NpyDtype::kUint16) {
    x.bf16 = array.Values<uint16_t>();
  } else {
    return Status::InvalidArgument(fmt::format(
        "[run] {} has dtype {}; expected float32, or uint16 holding bf16 bit patterns", path,
        ToString(array.dtype)));
  }
  return x;
}

Status WriteOutputs(const RunFlags& flags, const ForwardOptions& options,
                    const ForwardResult& result, const LmHeadPlan& plan) {
  namespace fs = std::filesystem;
  std::vector<std::string> written;
  auto write = [&](const std::string& path, auto values, std::vector<int64_t> shape) -> Status {
    if (path.empty()) return Status::Ok();
    Status status = WriteNpy(path, std::span<const int64_t>(shape), values);
    if (!status.ok()) {
      for (const std::string& done : written) fs::remove(done);  // Nothing half-written.
      return status;
    }
    written.push_back(path);
    return Status::Ok();
  };
  const int64_t rows = result.rows;
  // Rank 0 holds the combined outputs; every rank holds its own devices' logits.
  const bool combined = result.process_rank == 0;
  if (combined && options.reduction == Reduction::kLogits) {
    LMHEAD_RETURN_IF_ERROR(write(flags.output, std::span<const float>(result.logits),
                                 {rows, result.vocab_size}));
  } else if (combined && options.reduction == Reduction::kTopK) {
    LMHEAD_RETURN_IF_ERROR(write(flags.output, std::span<const int64_t>(result.token_ids),
                                 {rows, options.k}));
    LMHEAD_RETURN_IF_ERROR(write(flags.output_values, std::span<const float>(result.values),
                                 {rows, options.k}));
  } else if (combined) {
    std::vector<float> lse(result.logsumexp.begin(), result.logsumexp.end());
    LMHEAD_RETURN_IF_ERROR(write(flags.output, std::span<const float>(lse), {rows}));
  }
  if (!flags.per_device_output.empty()) {
    std::error_code error;
    fs::create_directories(flags.per_device_output, error);
    const int64_t cols = plan.weights.vocab_per_device;
    for (size_t local_idx = 0; local_idx < result.per_device_logits.size(); ++local_idx) {
      const int64_t device_idx = result.first_device + static_cast<int64_t>(local_idx);
      const std::string path =
          fmt::format("{}/device_{:03d}.npy", flags.per_device_output, device_idx);
      LMHEAD_RETURN_IF_ERROR(
          write(path, std::span<const float>(result.per_device_logits[local_idx]), {rows, cols}));
    }
  }
  return Status::Ok();
}

nlohmann::json TrafficJson(const NetworkTraffic& traffic) {
  return {{"bytes_sent", traffic.bytes_sent},
          {"bytes_received", traffic.bytes_received},
          {"messages_sent", traffic.messages_sent},
          {"messages_received", traffic.messages_received}};
}

// What this process did: its devices, threads, stage times and the bytes it moved.
nlohmann::json RankJson(const LmHead& head, const ForwardResult& r) {
  const double seconds = r.times.matmul > 0 ? r.times.matmul : 1e-12;
  return {
      {"rank", r.process_rank},
      {"devices", {r.first_device, r.first_device + r.num_local_devices}},
      {"threads", head.num_threads()},
      {"seconds", {{"scatter", r.times.scatter}, {"matmul", r.times.matmul},
                   {"combine", r.times.combine}, {"total", r.times.total}}},
      {"network", {{"scatter", TrafficJson(r.scatter_network)},
                   {"combine", TrafficJson(r.combine_network)}}},
      {"weight_bytes", r.weight_bytes},
      {"weight_gbps", static_cast<double>(r.weight_bytes) / seconds / 1e9},
  };
}

nlohmann::json ResultJson(const LmHead& head, const RunFlags& flags, const ForwardResult& r,
                          const Communicator& comm, nlohmann::json ranks) {
  const double seconds = r.times.matmul > 0 ? r.times.matmul : 1e-12;
  return {
      {"mode", flags.mode},
      {"numerics", flags.numerics},
      {"kernels", head.kernel_name()},
      {"threads", head.num_threads()},
      {"rows", r.rows},
      {"vocab_size", r.vocab_size},
      {"seconds", {{"scatter", r.times.scatter}, {"matmul", r.times.matmul},
                   {"combine", r.times.combine}, {"total", r.times.total}}},
      {"mesh_scatter", {{"transfers", r.num_transfers}, {"bytes", r.transfer_bytes}}},
      {"combine_bytes", r.combine_bytes},
      {"weight_bytes", r.weight_bytes},
      {"flops", r.flops},
      {"weight_gbps", static_cast<double>(r.weight_bytes) / seconds / 1e9},
      {"gflops", r.flops / seconds / 1e9},
      {"processes", comm.size()},
      {"transport", comm.transport()},
      {"scatter_route", flags.scatter_route},
      {"ranks", std::move(ranks)},
  };
}

// Rank 0 prints one JSON holding every rank's stage times and traffic.
Status PrintJson(const LmHead& head, const RunFlags& flags, const ForwardResult& result,
                 Communicator& comm) {
  LMHEAD_ASSIGN_OR_RETURN(std::vector<std::string> ranks,
                          comm.GatherToRoot(RankJson(head, result).dump()));
  if (comm.rank() != 0) return Status::Ok();
  nlohmann::json all = nlohmann::json::array();
  for (const std::string& text : ranks) all.push_back(nlohmann::json::parse(text));
  std::printf("%s\n", ResultJson(head, flags, result, comm, std::move(all)).dump(2).c_str());
  return Status::Ok();
}

void PrintSummary(const LmHead& head, const RunFlags& flags, const ForwardResult& result) {
  if (result.process_rank != 0) return;
  std::string ranks;
  if (result.num_processes > 1) {
    ranks = fmt::format(" on rank 0 of {} ({} devices each)", result.num_processes,
                        result.num_local_devices);
  }
  std::printf("%s %lld rows with %s numerics (%s, %d thread%s%s): matmul %.3f ms, total %.3f ms\n",
              flags.mode.c_str(), static_cast<long long>(result.rows), flags.numerics.c_str(),
              head.kernel_name().c_str(), head.num_threads(), head.num_threads() == 1 ? "" : "s",
              ranks.c_str(), result.times.matmul * 1e3, result.times.total * 1e3);
}

Result<OpenOptions> OpenOptionsOf(const RunFlags& flags) {
  OpenOptions open;
  open.input_row_idx = flags.input_row_idx;
  open.num_threads = flags.threads;
  open.verify_checksums = flags.verify;
  LMHEAD_ASSIGN_OR_RETURN(open.numerics, ParseNumerics(flags.numerics));
  LMHEAD_ASSIGN_OR_RETURN(open.compat, ParseCompatMode(flags.compat));
  LMHEAD_ASSIGN_OR_RETURN(open.scatter_route, ParseScatterRoute(flags.scatter_route));
  return open;
}

Result<ForwardOptions> ForwardOptionsOf(const RunFlags& flags) {
  ForwardOptions options;
  options.last_token_only = flags.last_token_only;
  options.allow_nonfinite = flags.allow_nonfinite;
  options.keep_per_device = !flags.per_device_output.empty();
  // Across ranks, full logits travel to rank 0 only when it has to write them.
  options.gather_logits = !flags.output.empty();
  LMHEAD_RETURN_IF_ERROR(ParseReduce(flags.reduce, options));
  if (options.keep_per_device && options.reduction != Reduction::kLogits) {
    return Status::InvalidArgument(
        "[run] --per-device-output needs --reduce logits (reductions never hold V/D logits)");
  }
  return options;
}

// --mesh RxC: the weights decide the mesh; the flag only guards against
// running weights converted for another one.
Status CheckExpectedMesh(const RunFlags& flags, const LmHeadPlan& plan) {
  if (flags.mesh.empty()) return Status::Ok();
  LMHEAD_ASSIGN_OR_RETURN(MeshShape expected, ParseMeshShape(flags.mesh));
  const MeshShape& have = plan.mesh.shape;
  if (have == expected) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "[run] {} was converted for a {}x{} mesh, not the --mesh {}x{} asked for; convert for "
      "{}x{} (lmhead convert --mesh {}x{}) or drop --mesh",
      flags.weights, have.rows, have.cols, expected.rows, expected.cols, expected.rows,
      expected.cols, expected.rows, expected.cols));
}

// Every step that can fail on one rank alone (a file it cannot read or
// write) is followed by Agree, so all ranks stop together with its reason.
Status RunOn(const std::shared_ptr<Communicator>& communicator, const RunFlags& flags) {
  Communicator& comm = *communicator;
  LMHEAD_ASSIGN_OR_RETURN(ForwardOptions options, ForwardOptionsOf(flags));
  LMHEAD_ASSIGN_OR_RETURN(OpenOptions open, OpenOptionsOf(flags));
  Result<NpyArray> array = ReadNpy(flags.input);
  Result<Activations> x = array.ok() ? InputOf(*array, flags.input) : array.status();
  LMHEAD_RETURN_IF_ERROR(comm.Agree(x.status(), "run"));
  open.communicator = communicator;
  LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<LmHead> head, LmHead::Open(flags.weights, open));
  LMHEAD_RETURN_IF_ERROR(CheckExpectedMesh(flags, head->plan()));
  LMHEAD_ASSIGN_OR_RETURN(ForwardResult result, flags.mode == "decode"
                                                    ? head->Decode(*x, options)
                                                    : head->Prefill(*x, options));
  LMHEAD_RETURN_IF_ERROR(comm.Agree(WriteOutputs(flags, options, result, head->plan()), "run"));
  if (flags.trace) {
    const std::string prefix =
        comm.size() > 1 ? fmt::format("[rank {}] ", comm.rank()) : std::string();
    for (const std::string& line : result.trace) {
      std::fprintf(stderr, "%s%s\n", prefix.c_str(), line.c_str());
    }
  }
  if (flags.json) return PrintJson(*head, flags, result, comm);
  PrintSummary(*head, flags, result);
  return Status::Ok();
}

int Run(const RunFlags& flags) {
  // Under an MPI launcher this initialises MPI; the communicator's end (after
  // RunOn's last collective) finalises it, or aborts every rank when a
  // collective failed.
  auto comm = Communicator::FromEnvironment(CommunicatorOptions{flags.timeout});
  if (!comm.ok()) return ReportStatus(comm.status());
  return ReportStatus(RunOn(*comm, flags));
}

}  // namespace

CommandMain RegisterRunCommand(CLI::App& sub) {
  auto flags = std::make_shared<RunFlags>();
  sub.add_option("--weights", flags->weights, "Converted weights directory (lmhead convert)")
      ->required();
  sub.add_option("--mode", flags->mode, "decode (<= 32 rows) or prefill")
      ->check(CLI::IsMember({"decode", "prefill"}));
  sub.add_option("--input", flags->input,
                 "X.npy: float32 or bf16-as-uint16, [M, H] or [1, 1, M, H]")
      ->required();
  sub.add_option("--output", flags->output,
                 "Y.npy: logits float32 [M, V]; token ids int64 [M, K]; or logsumexp float32 [M]"
                 " (written by rank 0)");
  sub.add_option("--output-values", flags->output_values,
                 "With topk/argmax: the chosen logits, float32 [M, K]");
  sub.add_option("--numerics", flags->numerics, "tt-lofi (TT LoFi emulation) or fp32")
      ->capture_default_str();
  sub.add_option("--reduce", flags->reduce, "logits, argmax, topk:K (K <= 1024) or logsumexp")
      ->capture_default_str();
  sub.add_option("--compat", flags->compat, "seed, tt-v3 or tt-v4")->capture_default_str();
  sub.add_option("--input-row-idx", flags->input_row_idx,
                 "Mesh row holding the input (mesh_scatter source)")
      ->capture_default_str();
  sub.add_option("--per-device-output", flags->per_device_output,
                 "Directory for each device's [M, V/D] logits (device_KKK.npy; each rank writes "
                 "its own devices')");
  sub.add_option("--mesh", flags->mesh,
                 "Expected mesh RxC: fail unless the weights were converted for it");
  AddThreadsOption(sub, flags->threads,
                   "Worker threads per process (0: one per CPU it may run on; ranks of a host on "
                   "the same CPUs split them)");
  sub.add_option("--timeout", flags->timeout,
                 "Under mpirun: seconds any collective may wait for a rank before every rank "
                 "stops")
      ->capture_default_str();
  sub.add_option("--scatter-route", flags->scatter_route,
                 "Under mpirun: mesh_scatter transfers between ranks go hop by hop through the "
                 "intermediate rows' ranks (forward, as TT's Linear fabric) or direct")
      ->check(CLI::IsMember({"forward", "direct"}))
      ->capture_default_str();
  sub.add_flag("--last-token-only", flags->last_token_only,
               "Prefill: logits for the final position only");
  sub.add_flag("--allow-nonfinite", flags->allow_nonfinite,
               "Let NaN/Inf in the input through instead of failing");
  sub.add_flag("--verify", flags->verify, "Hash every shard byte before running");
  sub.add_flag("--json", flags->json,
               "Print timings, bytes moved, GB/s and GFLOP/s as JSON (every rank's, by rank 0)");
  sub.add_flag("--trace", flags->trace, "Print the TTNN ops run, one per line, to stderr");
  return [flags] { return Run(*flags); };
}

}  // namespace lmhead::cli
