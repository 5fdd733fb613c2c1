// SPDX-License-Identifier: Apache-2.0
// Decode, activation and K-block steps of the AVX-512 tt-lofi kernel (see lofi_avx512.cc).
#include "kernels/avx512/lofi_avx512_blocks.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead::avx512_lofi {
namespace {

constexpr int kBfp4GroupBytes = 8;
constexpr int kBfp8GroupBytes = 16;
constexpr size_t kBfp4TileBytes = 576;
constexpr size_t kBfp8TileBytes = 1088;

// 2^(e - bias) as a double; e - bias stays far inside the double range.
__m512d PowerOfTwo(int e, int bias) {
  return _mm512_castsi512_pd(_mm512_set1_epi64(static_cast<int64_t>(e - bias + 1023) << 52));
}

// The reference's path for groups whose values may be fp32 denormals, inf or
// NaN after decoding (tiny or all-ones exponent bytes): TT's host decode, then
// LofiSrcA (flush the denormal, keep 5 significant bits).
void DecodeGroupSlow(TileFormat format, const uint8_t* exponent, const uint8_t* data, double* out) {
  float values[kFaceDim];
  DecodeBfpGroupsToFp32(format, exponent, data, 1, values);
  for (int i = 0; i < kFaceDim; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], sizeof(bits));
    if ((bits & 0x7F800000u) == 0) bits &= 0x80000000u;
    bits &= kLofiSrcAMask;
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    out[i] = value;
  }
}

// bfp4_b: nibble codes -> +-mag through a 16-entry table, times 2^(E - 129).
// Exact, and already LoFi SrcA values (3 significant bits); E in [3, 254].
void DecodeGroupBfp4(const uint8_t* data, int exponent, double* out) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(data));
  const __m128i twice = _mm_unpacklo_epi8(bytes, bytes);  // b0 b0 b1 b1 ...
  // Element 2i is the low nibble of byte i, 2i + 1 the high one; the table
  // lookup reads only the low 4 bits of each index.
  const __m512i shifts = _mm512_set_epi64(4, 0, 4, 0, 4, 0, 4, 0);
  const __m512i idx_lo = _mm512_srlv_epi64(_mm512_cvtepu8_epi64(twice), shifts);
  const __m512i idx_hi = _mm512_srlv_epi64(_mm512_cvtepu8_epi64(_mm_srli_si128(twice, 8)), shifts);
  const __m512d positive = _mm512_set_pd(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512d negative = _mm512_set_pd(-7, -6, -5, -4, -3, -2, -1, -0.0);
  const __m512d scale = PowerOfTwo(exponent, 129);
  _mm512_store_pd(out, _mm512_mul_pd(_mm512_permutex2var_pd(positive, idx_lo, negative), scale));
  _mm512_store_pd(out + 8,
                  _mm512_mul_pd(_mm512_permutex2var_pd(positive, idx_hi, negative), scale));
}

// bfp8_b: sign-magnitude bytes -> fp32 magnitude cut to 5 significant bits (the
// LoFi SrcA mask works on the significand, which scaling by 2^(E - 133) keeps).
void DecodeGroupBfp8(const uint8_t* data, int exponent, double* out) {
  const __m512i codes =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data)));
  const __m512i mag = _mm512_and_si512(codes, _mm512_set1_epi32(0x7F));
  const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(codes, _mm512_set1_epi32(0x80)), 24);
  const __m512i cut = _mm512_and_si512(_mm512_castps_si512(_mm512_cvtepi32_ps(mag)),
                                       _mm512_set1_epi32(static_cast<int>(kLofiSrcAMask)));
  const __m512 values = _mm512_castsi512_ps(_mm512_or_si512(cut, sign));
  const __m512d scale = PowerOfTwo(exponent, 133);
  _mm512_store_pd(out, _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(values)), scale));
  _mm512_store_pd(out + 8,
                  _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(values, 1)), scale));
}

// fp32 lanes = bits(l1 + dst) rounded RNA to bf16, denormals flushed: the
// packer's L1 add for 16 elements. `checked` redoes inf/NaN sums in scalar.
__m512 PackerAdd(__m512 l1, __m512 dst, bool checked) {
  const __m512 sum = _mm512_add_ps(l1, dst);
  const __m512i exp_mask = _mm512_set1_epi32(0x7F800000);
  __m512i bits =
      _mm512_and_si512(_mm512_add_epi32(_mm512_castps_si512(sum), _mm512_set1_epi32(0x8000)),
                       _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __mmask16 denormal =
      _mm512_cmpeq_epi32_mask(_mm512_and_si512(bits, exp_mask), _mm512_setzero_si512());
  bits =
      _mm512_mask_and_epi32(bits, denormal, bits, _mm512_set1_epi32(static_cast<int>(0x80000000u)));
  if (checked) {
    const __mmask16 special =
        _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(sum), exp_mask), exp_mask);
    if (special != 0) {
      alignas(64) float l1_v[16], dst_v[16], out_v[16];
      _mm512_store_ps(l1_v, l1);
      _mm512_store_ps(dst_v, dst);
      _mm512_store_si512(out_v, bits);
      for (int lane = 0; lane < 16; ++lane) {
        if ((special >> lane) & 1) out_v[lane] = PackerL1Accumulate(l1_v[lane], dst_v[lane]);
      }
      return _mm512_load_ps(out_v);
    }
  }
  return _mm512_castsi512_ps(bits);
}

// 16 Dst doubles (exact bf16 values) as fp32.
__m512 DstToFloat(const double* dst) {
  const __m256 lo = _mm512_cvtpd_ps(_mm512_load_pd(dst));
  const __m256 hi = _mm512_cvtpd_ps(_mm512_load_pd(dst + 8));
  return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

}  // namespace

// Largest exponent sum ahi + ehi (biased fp32 exponents of the largest
// activation and weight group) for which no Dst or L1 value can reach 2^127:
// |product| < 2^(ahi + ehi - 252), a chunk adds 16 of them, and `steps`
// roundings (chunks plus L1 adds) each grow a magnitude by at most 2^-8
// relative, i.e. by at most log2(steps) + steps * log2(1 + 2^-8) bits overall.
int MaxExponentSum(int64_t steps) {
  const double growth =
      std::ceil(std::log2(static_cast<double>(steps))) +
      std::ceil(static_cast<double>(steps) * std::log2(1.0 + std::ldexp(1.0, -8)));
  return 252 + 127 - 4 - static_cast<int>(growth);
}

// True when no value of this chunk can leave the normal range: every product
// is a multiple of 2^(alo - 133 + elo - 127 - wq) >= 2^-126, so every nonzero
// sum is normal, and the sizes stay below max_sum (MaxExponentSum).
bool InRange(const ExponentRange& act, const ExponentRange& wgt, int weight_quantum_bits,
             int max_sum) {
  if (act.hi < act.lo || wgt.hi < wgt.lo) return true;  // all zero: sums stay +-0 or dst
  return act.lo + wgt.lo - 133 - 127 - weight_quantum_bits >= -126 && act.hi + wgt.hi <= max_sum;
}

ExponentRange DecodeWeightChunk(const TileMatrixView& w, int64_t kt, int64_t nt0, int tiles,
                                int half, Workspace& ws) {
  const bool bfp8 = w.format == TileFormat::kBfp8b;
  const size_t tile_bytes = bfp8 ? kBfp8TileBytes : kBfp4TileBytes;
  const int group_bytes = bfp8 ? kBfp8GroupBytes : kBfp4GroupBytes;
  // Below this exponent byte some values are under 2^-126 (flushed by SrcA).
  const int min_normal_exponent = bfp8 ? 7 : 3;
  ExponentRange range;
  for (int t = 0; t < tiles; ++t) {
    const uint8_t* tile = w.tiles + static_cast<size_t>(kt * w.n_tiles + nt0 + t) * tile_bytes;
    for (int side = 0; side < 2; ++side) {
      // Face 2 * half + side holds tile rows [16 * half, 16 * half + 16) and
      // columns [16 * side, 16 * side + 16) (spec §1.2).
      const int first_group = (2 * half + side) * kFaceDim;
      const int col0 = t * kTileDim + side * kFaceDim;
      for (int j = 0; j < kChunk; ++j) {
        const int group = first_group + j;
        const int exponent = tile[group];
        const uint8_t* data = tile + kBfpGroupsPerTile + group * group_bytes;
        double* out = &ws.w[j][col0];
        if (exponent != 0) {
          range.lo = exponent < range.lo ? exponent : range.lo;
          range.hi = exponent > range.hi ? exponent : range.hi;
        }
        if (exponent < min_normal_exponent || exponent == 255) {
          DecodeGroupSlow(w.format, tile + group, data, out);
        } else if (bfp8) {
          DecodeGroupBfp8(data, exponent, out);
        } else {
          DecodeGroupBfp4(data, exponent, out);
        }
      }
    }
  }
  return range;
}

ExponentRange LoadActivationChunk(const MatmulArgs& args, int64_t row0, int rows, int64_t k0,
                                  Workspace& ws) {
  const int64_t valid = args.k - k0;
  const __mmask16 load_mask = valid >= kChunk
                                  ? __mmask16{0xFFFF}
                                  : static_cast<__mmask16>(valid <= 0 ? 0 : (1u << valid) - 1);
  const __m512i exp_mask = _mm512_set1_epi32(0x7F800000);
  __m512i lo = _mm512_set1_epi32(255);
  __m512i hi = _mm512_setzero_si512();
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride + k0;
    const __m256i bf16 = _mm256_maskz_loadu_epi16(load_mask, x);
    __m512i bits = _mm512_slli_epi32(_mm512_cvtepu16_epi32(bf16), 16);
    // LofiSrcB: flush denormals (keep the sign), drop the last mantissa bit.
    const __mmask16 denormal =
        _mm512_cmpeq_epi32_mask(_mm512_and_si512(bits, exp_mask), _mm512_setzero_si512());
    bits = _mm512_mask_and_epi32(bits, denormal, bits,
                                 _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    bits = _mm512_and_si512(bits, _mm512_set1_epi32(static_cast<int>(kLofiSrcBMask)));
    const __mmask16 nonzero = _mm512_test_epi32_mask(bits, _mm512_set1_epi32(0x7FFFFFFF));
    const __m512i exponent = _mm512_srli_epi32(_mm512_and_si512(bits, exp_mask), 23);
    lo = _mm512_mask_min_epu32(lo, nonzero, lo, exponent);
    hi = _mm512_mask_max_epu32(hi, nonzero, hi, exponent);
    const __m512 values = _mm512_castsi512_ps(bits);
    _mm512_store_pd(&ws.a[r][0], _mm512_cvtps_pd(_mm512_castps512_ps256(values)));
    _mm512_store_pd(&ws.a[r][8], _mm512_cvtps_pd(_mm512_extractf32x8_ps(values, 1)));
  }
  return ExponentRange{static_cast<int>(_mm512_reduce_min_epu32(lo)),
                       static_cast<int>(_mm512_reduce_max_epu32(hi))};
}

void BeginBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, Workspace& ws) {
  if (block_idx == 0) {
    std::memset(ws.dst, 0, sizeof(double) * rows * kPassCols);
    std::memset(ws.l1, 0, sizeof(float) * rows * kPassCols);
  } else if (blocking.packer_l1_acc_en) {
    // The last block reloads the L1 partial into Dst; the others start at zero.
    const bool last = block_idx == blocking.num_blocks - 1;
    for (int r = 0; r < rows; ++r) {
      for (int c = r * kPassCols; c < (r + 1) * kPassCols; c += 8) {
        const __m512d start =
            last ? _mm512_cvtps_pd(_mm256_load_ps(&ws.l1[c])) : _mm512_setzero_pd();
        _mm512_store_pd(&ws.dst[c], start);
      }
    }
  }
}

void EndBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, bool checked,
              Workspace& ws) {
  if (!blocking.packer_l1_acc_en || block_idx == blocking.num_blocks - 1) return;
  for (int r = 0; r < rows; ++r) {
    for (int c = r * kPassCols; c < (r + 1) * kPassCols; c += 16) {
      const __m512 dst = DstToFloat(&ws.dst[c]);
      const __m512 l1 = block_idx == 0 ? dst : PackerAdd(_mm512_load_ps(&ws.l1[c]), dst, checked);
      _mm512_store_ps(&ws.l1[c], l1);
    }
  }
}

void StoreRows(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
               const Workspace& ws) {
  for (int t = 0; t < tiles; ++t) {
    const int64_t n0 = (nt0 + t) * kTileDim;
    for (int q = 0; q < kTileDim; q += 8) {
      const int64_t cols = args.n_cols - (n0 + q);
      if (cols <= 0) break;
      const __mmask8 mask = cols >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << cols) - 1);
      for (int r = 0; r < rows; ++r) {
        float* y = args.y + (row0 + r) * args.y_stride + n0 + q;
        const double* dst = &ws.dst[r * kPassCols + t * kTileDim + q];
        _mm256_mask_storeu_ps(y, mask, _mm512_cvtpd_ps(_mm512_load_pd(dst)));
      }
    }
  }
}

}  // namespace lmhead::avx512_lofi
