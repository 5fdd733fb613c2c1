// SPDX-License-Identifier: Apache-2.0
// Bindings of lmhead/lm_head.h: LmHead::Open, Decode and Prefill on numpy activations.
#include "lmhead/lm_head.h"

#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>

#include "bindings.h"
#include "lmhead/plan.h"
#include "py_util.h"

namespace lmhead::python {
namespace {

// An LmHead serves one caller at a time and its calls run without the GIL, so concurrent
// Python threads take turns on this mutex instead of racing inside the engine.
struct Head {
  std::unique_ptr<LmHead> head;
  std::mutex mutex;
};

std::unique_ptr<Head> Open(const std::string& weights_dir, const std::string& numerics,
                           const std::string& compat, int64_t input_row_idx, int num_threads,
                           bool verify_checksums) {
  OpenOptions options;
  options.numerics = ValueOrThrow(ParseNumerics(numerics));
  options.compat = ValueOrThrow(ParseCompatMode(compat));
  options.input_row_idx = input_row_idx;
  options.num_threads = num_threads;
  options.verify_checksums = verify_checksums;
  auto head = std::make_unique<Head>();
  head->head = ValueOrThrow(WithoutGil([&] { return LmHead::Open(weights_dir, options); }));
  return head;
}

// x: C-contiguous [rows, cols], float32 or uint16 holding bf16 bit patterns (no copy).
Activations ActivationsOf(const py::array& x) {
  if (x.ndim() != 2) {
    throw py::value_error("activations have rank " + std::to_string(x.ndim()) +
                          "; pass [rows, hidden_size]");
  }
  Activations activations;
  activations.rows = static_cast<int64_t>(x.shape(0));
  activations.cols = static_cast<int64_t>(x.shape(1));
  if (HoldsType<uint16_t>(x)) {
    activations.bf16 = ElementsOf<uint16_t>(x, "activations");
  } else {
    activations.fp32 = ElementsOf<float>(x, "activations");
  }
  return activations;
}

py::dict ResultDict(ForwardResult&& result, const ForwardOptions& options) {
  py::dict out;
  const auto rows = static_cast<py::ssize_t>(result.rows);
  out["rows"] = result.rows;
  out["vocab_size"] = result.vocab_size;
  if (options.reduction == Reduction::kLogits) {
    out["logits"] = ToNumpy(std::move(result.logits), {rows, result.vocab_size});
  } else if (options.reduction == Reduction::kTopK) {
    out["token_ids"] = ToNumpy(std::move(result.token_ids), {rows, options.k});
    out["values"] = ToNumpy(std::move(result.values), {rows, options.k});
  } else {
    out["logsumexp"] = ToNumpy(std::move(result.logsumexp), {rows});
  }
  py::list per_device;
  for (std::vector<float>& logits : result.per_device_logits) {
    const auto cols = static_cast<py::ssize_t>(logits.size()) / (rows > 0 ? rows : 1);
    per_device.append(ToNumpy(std::move(logits), {rows, cols}));
  }
  out["per_device_logits"] = per_device;
  py::dict times;
  times["scatter"] = result.times.scatter;
  times["matmul"] = result.times.matmul;
  times["combine"] = result.times.combine;
  times["total"] = result.times.total;
  out["times"] = times;
  out["num_transfers"] = result.num_transfers;
  out["transfer_bytes"] = result.transfer_bytes;
  out["combine_bytes"] = result.combine_bytes;
  out["weight_bytes"] = result.weight_bytes;
  out["flops"] = result.flops;
  out["trace"] = result.trace;
  return out;
}

py::dict Forward(Head& head, bool prefill, const py::array& x, Reduction reduction, int k,
                 bool last_token_only, bool allow_nonfinite, bool keep_per_device) {
  const Activations activations = ActivationsOf(x);
  ForwardOptions options;
  options.reduction = reduction;
  options.k = k;
  options.last_token_only = last_token_only;
  options.allow_nonfinite = allow_nonfinite;
  options.keep_per_device = keep_per_device;
  Result<ForwardResult> result = WithoutGil([&] {
    std::lock_guard<std::mutex> lock(head.mutex);
    return prefill ? head.head->Prefill(activations, options)
                   : head.head->Decode(activations, options);
  });
  return ResultDict(ValueOrThrow(std::move(result)), options);
}

}  // namespace

void InitLmHead(py::module_& m) {
  py::enum_<Reduction>(m, "Reduction", "What a forward call returns (ForwardOptions::reduction).")
      .value("LOGITS", Reduction::kLogits)
      .value("TOPK", Reduction::kTopK)
      .value("LOGSUMEXP", Reduction::kLogSumExp);

  py::class_<Head>(m, "LmHead", "LmHead (include/lmhead/lm_head.h) on converted weights.")
      .def_static("open", &Open, py::arg("weights_dir"), py::arg("numerics"), py::arg("compat"),
                  py::arg("input_row_idx"), py::arg("num_threads"), py::arg("verify_checksums"),
                  "LmHead::Open(): validate, map every shard and choose kernels.")
      .def("forward", &Forward, py::arg("prefill"), py::arg("x"), py::arg("reduction"),
           py::arg("k"), py::arg("last_token_only"), py::arg("allow_nonfinite"),
           py::arg("keep_per_device"),
           "Decode() or Prefill() of x [rows, H] (float32, or uint16 bf16 bits; C-contiguous, "
           "not copied). Returns a dict of numpy arrays and the call's statistics.")
      .def_property_readonly(
          "plan_json", [](const Head& head) { return PlanToJson(head.head->plan()); },
          "The plan the head runs, as `lmhead plan --json` prints it.")
      .def_property_readonly(
          "kernel_name", [](const Head& head) { return head.head->kernel_name(); },
          "The kernel set, e.g. 'matmul/bfp4b/tt-lofi/ref'.")
      .def_property_readonly(
          "num_threads", [](const Head& head) { return head.head->num_threads(); },
          "Worker threads of each call.");
}

}  // namespace lmhead::python
