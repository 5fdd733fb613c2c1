// SPDX-License-Identifier: Apache-2.0
// The unquantised fp32 head and TT's comp_pcc, the references of TT's own LM-head test.
#include "lmhead/reference.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "base/thread_pool.h"
#include "formats/half.h"
#include "lmhead/formats.h"
#include "lmhead/safetensors.h"

namespace lmhead {
namespace {

// Vocabulary rows per work item: 64 rows of DeepSeek-V3 are 0.9 MB of bf16.
constexpr int64_t kVocabBlock = 64;

// Row `v` of the head widened to fp32.
void WidenRow(const TensorView& view, int64_t v, int64_t hidden, float* out) {
  const size_t at = static_cast<size_t>(v * hidden);
  const std::byte* base = view.data;
  switch (view.info->dtype) {
    case SafetensorsDtype::kBF16:
      for (int64_t k = 0; k < hidden; ++k) {
        uint16_t bits;
        std::memcpy(&bits, base + (at + static_cast<size_t>(k)) * 2, 2);
        out[k] = Bf16ToFp32(bits);
      }
      break;
    case SafetensorsDtype::kF16:
      for (int64_t k = 0; k < hidden; ++k) {
        uint16_t bits;
        std::memcpy(&bits, base + (at + static_cast<size_t>(k)) * 2, 2);
        out[k] = F16ToFp32(bits);
      }
      break;
    default:  // kF32, checked by the caller.
      std::memcpy(out, base + at * 4, static_cast<size_t>(hidden) * 4);
      break;
  }
}

// fp32 dot product with eight interleaved partial sums (vectorisable).
float Dot(const float* a, const float* b, int64_t n) {
  float partial[8] = {};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int lane = 0; lane < 8; ++lane) partial[lane] += a[k + lane] * b[k + lane];
  }
  for (; k < n; ++k) partial[0] += a[k] * b[k];
  return ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
         ((partial[2] + partial[6]) + (partial[3] + partial[7]));
}

}  // namespace

Result<std::vector<float>> UnquantizedLogits(const std::string& checkpoint,
                                             const std::string& tensor, std::span<const float> x,
                                             int64_t rows, int num_threads) {
  LMHEAD_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::Open(checkpoint));
  std::string name = tensor;
  if (name.empty()) {
    name = ckpt.Contains("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
  }
  LMHEAD_ASSIGN_OR_RETURN(CheckpointTensor head, ckpt.Load(name));
  const SafetensorsTensorInfo& info = *head.view.info;
  if (info.shape.size() != 2 ||
      (info.dtype != SafetensorsDtype::kBF16 && info.dtype != SafetensorsDtype::kF16 &&
       info.dtype != SafetensorsDtype::kF32)) {
    return Status::InvalidArgument(fmt::format(
        "[UnquantizedLogits] {} must be a 2-D BF16/F16/F32 tensor [V, H] (dtype {}, rank {})", name,
        ToString(info.dtype), info.shape.size()));
  }
  const int64_t vocab = info.shape[0];
  const int64_t hidden = info.shape[1];
  if (rows < 1 || x.size() != static_cast<size_t>(rows * hidden)) {
    return Status::InvalidArgument(fmt::format(
        "[UnquantizedLogits] x holds {} values; expected [rows={}, H={}]", x.size(), rows, hidden));
  }
  std::vector<float> logits(static_cast<size_t>(rows * vocab));
  ThreadPool pool(num_threads);
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.num_threads()),
                                          std::vector<float>(static_cast<size_t>(hidden)));
  const int64_t num_blocks = (vocab + kVocabBlock - 1) / kVocabBlock;
  pool.Run(num_blocks, [&](int thread_idx, int64_t block_idx) {
    float* w = scratch[static_cast<size_t>(thread_idx)].data();
    const int64_t end = std::min(vocab, (block_idx + 1) * kVocabBlock);
    for (int64_t v = block_idx * kVocabBlock; v < end; ++v) {
      WidenRow(head.view, v, hidden, w);
      for (int64_t row = 0; row < rows; ++row) {
        logits[static_cast<size_t>(row * vocab + v)] = Dot(x.data() + row * hidden, w, hidden);
      }
    }
  });
  return logits;
}

double CompPcc(std::span<const float> golden, std::span<const float> calculated,
               bool golden_is_bf16) {
  const size_t n = std::min(golden.size(), calculated.size());
  auto all = [n](std::span<const float> values, auto predicate) {
    for (size_t i = 0; i < n; ++i) {
      if (!predicate(values[i])) return false;
    }
    return true;
  };
  auto is_nan = [](float v) { return std::isnan(v); };
  auto is_zero = [](float v) { return v == 0.0f; };
  const bool golden_nan = all(golden, is_nan);
  const bool calculated_nan = all(calculated, is_nan);
  if (golden_nan && calculated_nan) return 1.0;
  if (golden_nan != calculated_nan) return 0.0;
  if (all(golden, is_zero) != all(calculated, is_zero)) return 0.0;
  // Cast to the golden's dtype, then NaN/Inf -> 0 (steps 1 and 4).
  auto clean = [](float v) { return std::isfinite(v) ? static_cast<double>(v) : 0.0; };
  double mean_g = 0, mean_c = 0;
  bool equal = true;
  std::vector<double> g(n), c(n);
  for (size_t i = 0; i < n; ++i) {
    g[i] = clean(golden[i]);
    c[i] = clean(golden_is_bf16 ? Bf16ToFp32(Fp32ToBf16(calculated[i])) : calculated[i]);
    equal = equal && g[i] == c[i];
    mean_g += g[i];
    mean_c += c[i];
  }
  if (equal) return 1.0;
  mean_g /= static_cast<double>(n);
  mean_c /= static_cast<double>(n);
  double cov = 0, var_g = 0, var_c = 0;
  for (size_t i = 0; i < n; ++i) {
    cov += (g[i] - mean_g) * (c[i] - mean_c);
    var_g += (g[i] - mean_g) * (g[i] - mean_g);
    var_c += (c[i] - mean_c) * (c[i] - mean_c);
  }
  const double pcc = cov / std::sqrt(var_g * var_c);
  // numpy's masked corrcoef yields a masked value for a zero variance; TT counts it as 1.0.
  return std::isfinite(pcc) ? pcc : 1.0;
}

}  // namespace lmhead
