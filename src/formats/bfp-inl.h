// SPDX-License-Identifier: Apache-2.0
// Highway SIMD primitives for bfloat4_b/bfloat8_b groups, compiled once per target.
//
// Include after "hwy/highway.h" inside a translation unit that uses
// foreach_target.h (see bfp_simd.cc); kernels may include it the same way to
// decode weights in registers. Every function matches formats/bfp.cc bit for bit.
// A group is 16 values; vectors hold N = Lanes(d) u32 lanes with N in {8, 16},
// so a group is 16 / N vectors. HWY_SCALAR (N = 1) gets none of this: its
// callers use the scalar specification directly.

// Per-target include guard (Highway's toggle idiom).
#if defined(LMHEAD_FORMATS_BFP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LMHEAD_FORMATS_BFP_INL_H_
#undef LMHEAD_FORMATS_BFP_INL_H_
#else
#define LMHEAD_FORMATS_BFP_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"
#include "lmhead/formats.h"

HWY_BEFORE_NAMESPACE();
namespace lmhead {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR

namespace hn = hwy::HWY_NAMESPACE;

// fp32 bit patterns of lanes [idx, idx + N) of a group, from fp32 or bf16 values
// (bf16 is widened exactly, spec 2.1).
template <class D>
HWY_INLINE hn::Vec<D> LoadGroupBits(D d, const float* group, size_t idx) {
  return hn::BitCast(d, hn::LoadU(hn::RebindToFloat<D>(), group + idx));
}
template <class D>
HWY_INLINE hn::Vec<D> LoadGroupBits(D d, const uint16_t* group, size_t idx) {
  const hn::Rebind<uint16_t, D> d16;
  return hn::ShiftLeft<16>(hn::PromoteTo(d, hn::LoadU(d16, group + idx)));
}

// Spec 1.3: writes the codes of lanes [idx, idx + N) to the group's data bytes.
template <int kBits, class D>
HWY_INLINE void StoreGroupCodes(D d, hn::Vec<D> codes, uint8_t* data, size_t idx) {
  if constexpr (kBits == 7) {
    // Codes are <= 0xFF, so the saturating DemoteTo is exact. Not TruncateTo:
    // Highway 1.0.3's AVX3_DL u32->u8 TruncateTo permutes dwords, not bytes.
    const hn::Rebind<uint8_t, D> d8;
    hn::StoreU(hn::DemoteTo(d8, hn::BitCast(hn::RebindToSigned<D>(), codes)), d8, data + idx);
  } else {
    // Element 2k goes to the low nibble, 2k+1 to the high nibble: in a u64 view
    // the pair is (lo32, hi32), so the byte is lo | (hi << 4) = lo | (x >> 28).
    const hn::Repartition<uint64_t, D> d64;
    const hn::Rebind<uint8_t, decltype(d64)> d8;
    const auto pairs = hn::BitCast(d64, codes);
    const auto bytes = hn::Or(hn::And(pairs, hn::Set(d64, 0xF)),
                              hn::And(hn::ShiftRight<28>(pairs), hn::Set(d64, 0xF0)));
    hn::StoreU(hn::TruncateTo(d8, bytes), d8, data + idx / 2);
  }
  (void)d;
}

// Spec 2.2 for one group of 16 values starting at `group` (fp32 or bf16);
// writes the data bytes and returns the shared exponent byte.
template <int kBits, class D, typename T>
HWY_INLINE uint8_t PackGroup(D d, const T* group, uint8_t* data) {
  using V = hn::Vec<D>;
  const size_t lanes = hn::Lanes(d);
  const V exp_mask = hn::Set(d, 0xFF);
  V max_exp = hn::Zero(d);
  for (size_t idx = 0; idx < kBfpGroupSize; idx += lanes) {
    max_exp = hn::Max(max_exp, hn::And(hn::ShiftRight<23>(LoadGroupBits(d, group, idx)), exp_mask));
  }
  max_exp = hn::MaxOfLanes(d, max_exp);  // Point 1: E = max raw exponent, in every lane.

  constexpr int kShift = 24 - kBits;
  // (sig + half - 1 + lsb(sig >> S)) >> S is RNE of sig / 2^S (spec 2.3).
  const V round_bias = hn::Set(d, (1u << (kShift - 1)) - 1);
  const V one = hn::Set(d, 1);
  const V max_mag = hn::Set(d, (1u << kBits) - 1);
  const V max_align = hn::Set(d, 31);  // A 24-bit significand >> 24..31 is 0, like >= 32.
  for (size_t idx = 0; idx < kBfpGroupSize; idx += lanes) {
    const V value = LoadGroupBits(d, group, idx);
    const V exp = hn::And(hn::ShiftRight<23>(value), exp_mask);
    V sig = hn::Or(hn::And(value, hn::Set(d, 0x7FFFFF)), hn::Set(d, 0x800000));
    sig = sig >> hn::Min(hn::Sub(max_exp, exp), max_align);  // Point 2: truncating shift.
    const V lsb = hn::And(hn::ShiftRight<kShift>(sig), one);
    V mag = hn::ShiftRight<kShift>(hn::Add(hn::Add(sig, round_bias), lsb));
    mag = hn::Min(mag, max_mag);                              // Point 3: saturate.
    mag = hn::IfThenZeroElse(hn::Eq(exp, hn::Zero(d)), mag);  // Point 4: zero/denormal.
    const V sign = hn::IfThenZeroElse(hn::Eq(mag, hn::Zero(d)), hn::ShiftRight<31>(value));
    StoreGroupCodes<kBits>(d, hn::Or(hn::ShiftLeft<kBits>(sign), mag), data, idx);
  }
  return static_cast<uint8_t>(hn::GetLane(max_exp));
}

// Codes of lanes [idx, idx + N) of a group's data bytes, one per u32 lane.
template <int kBits, class D>
HWY_INLINE hn::Vec<D> LoadGroupCodes(D d, const uint8_t* data, size_t idx) {
  if constexpr (kBits == 7) {
    return hn::PromoteTo(d, hn::LoadU(hn::Rebind<uint8_t, D>(), data + idx));
  } else {
    // N/2 bytes -> N/2 u16 lanes holding (byte & 0xF) | (byte >> 4) << 8, which
    // read as N bytes are the nibbles in element order.
    const hn::Half<D> dh;
    const hn::Rebind<uint8_t, decltype(dh)> d8h;
    const hn::Rebind<uint16_t, decltype(dh)> d16;
    const auto bytes = hn::PromoteTo(d16, hn::LoadU(d8h, data + idx / 2));
    const auto nibbles = hn::Or(hn::And(bytes, hn::Set(d16, 0xF)),
                                hn::And(hn::ShiftLeft<4>(bytes), hn::Set(d16, 0xF00)));
    return hn::PromoteTo(d, hn::BitCast(hn::Rebind<uint8_t, D>(), nibbles));
  }
}

// True when DecodeGroupBits is exact for every code under `exponent`: no lane
// can underflow (lz <= BITS - 1 <= E). Other groups use the scalar DecodeBfpCode.
template <int kBits>
HWY_INLINE bool GroupDecodesInSimd(uint8_t exponent) {
  return exponent >= kBits - 1;
}

// Spec 3.2, TT host decode of lanes [idx, idx + N), as fp32 bits. float(mag)
// is mag normalised (exponent 127 + floor(log2 mag), fraction = mag without its
// top bit, left-aligned); adding (E - 126 - BITS) << 23 moves its exponent to
// E - lz, which is what the host computes. Precondition: GroupDecodesInSimd(E).
template <int kBits, class D>
HWY_INLINE hn::Vec<D> DecodeGroupBits(D d, uint8_t exponent, const uint8_t* data, size_t idx) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToFloat<D> df;
  const auto codes = LoadGroupCodes<kBits>(d, data, idx);
  const auto mag = hn::And(codes, hn::Set(d, (1u << kBits) - 1));
  const auto normalised = hn::BitCast(d, hn::ConvertTo(df, hn::BitCast(di, mag)));
  const uint32_t exp_shift = (static_cast<uint32_t>(exponent) - 126u - kBits) << 23;  // Wraps.
  const auto bits =
      hn::IfThenZeroElse(hn::Eq(mag, hn::Zero(d)), hn::Add(normalised, hn::Set(d, exp_shift)));
  const auto sign = hn::ShiftLeft<31 - kBits>(hn::And(codes, hn::Set(d, 1u << kBits)));
  return hn::Or(bits, sign);
}

#endif  // HWY_TARGET != HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace lmhead
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
