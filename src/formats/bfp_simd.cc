// SPDX-License-Identifier: Apache-2.0
// Fast tile pack/unpack, compiled once per Highway target (foreach_target.h).
#include "formats/bfp_simd.h"

#include <algorithm>
#include <cstring>

#include "formats/bfp.h"
#include "formats/tile.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "formats/bfp_simd.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// Must come after foreach_target.h.
#include "formats/bfp-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace lmhead {
namespace HWY_NAMESPACE {

const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

#if HWY_TARGET == HWY_SCALAR

// One lane: the scalar specification is already the best this target can do.
void PackTileFp32Impl(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  PackTileFp32Ref(format, src, row_stride, valid_rows, valid_cols, dst);
}
void PackTileBf16Impl(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  PackTileBf16Ref(format, src, row_stride, valid_rows, valid_cols, dst);
}
void UnpackTileToFp32Impl(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                          int valid_rows, int valid_cols) {
  UnpackTileToFp32Ref(format, src, dst, row_stride, valid_rows, valid_cols);
}
void UnpackTileToBf16Impl(TileFormat format, const uint8_t* src, uint16_t* dst,
                          ptrdiff_t row_stride, int valid_rows, int valid_cols) {
  UnpackTileToBf16Ref(format, src, dst, row_stride, valid_rows, valid_cols);
}

template <typename T>
void DecodeGroupsScalar(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                        int64_t num_groups, T* out) {
  const int bits = BfpMagnitudeBits(format);
  const size_t group_bytes = BfpGroupDataBytes(format);
  for (int64_t group = 0; group < num_groups; ++group) {
    uint32_t values[kBfpGroupSize];
    DecodeBfpGroup(bits, exponents[group], data + group * group_bytes, values);
    for (int idx = 0; idx < kBfpGroupSize; ++idx) {
      if constexpr (sizeof(T) == 4) {
        std::memcpy(&out[group * kBfpGroupSize + idx], &values[idx], sizeof(T));
      } else {
        out[group * kBfpGroupSize + idx] = static_cast<uint16_t>(values[idx] >> 16);
      }
    }
  }
}
void DecodeGroupsToFp32Impl(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                            int64_t num_groups, float* out) {
  DecodeGroupsScalar(format, exponents, data, num_groups, out);
}
void DecodeGroupsToBf16Impl(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                            int64_t num_groups, uint16_t* out) {
  DecodeGroupsScalar(format, exponents, data, num_groups, out);
}

#else  // HWY_TARGET != HWY_SCALAR

namespace hn = hwy::HWY_NAMESPACE;

template <int kBits>
constexpr size_t kGroupBytes = kBits == 7 ? 16 : 8;

// A full 32x32 window: every group is 16 contiguous source values.
template <int kBits, typename T>
void PackFullBfpTile(const T* src, ptrdiff_t row_stride, uint8_t* dst) {
  const hn::ScalableTag<uint32_t> d;
  uint8_t* data = dst + kBfpGroupsPerTile;
  for (int group = 0; group < kBfpGroupsPerTile; ++group) {
    const T* values = src + GroupRow(group) * row_stride + GroupCol(group);
    dst[group] = PackGroup<kBits>(d, values, data + group * kGroupBytes<kBits>);
  }
}

template <typename T>
void PackBfpTile(TileFormat format, const T* src, ptrdiff_t row_stride, int valid_rows,
                 int valid_cols, uint8_t* dst) {
  alignas(64) T padded[kTileElems];
  if (valid_rows < kTileDim || valid_cols < kTileDim) {  // Edge tile: pad with 0.0 first.
    std::fill(padded, padded + kTileElems, T{0});
    for (int row = 0; row < valid_rows; ++row) {
      std::copy(src + row * row_stride, src + row * row_stride + valid_cols,
                padded + row * kTileDim);
    }
    src = padded;
    row_stride = kTileDim;
  }
  if (format == TileFormat::kBfp4b) {
    PackFullBfpTile<3>(src, row_stride, dst);
  } else {
    PackFullBfpTile<7>(src, row_stride, dst);
  }
}

void PackTileFp32Impl(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  if (!IsBfp(format)) {  // bf16/fp32 tiles are a re-layout; the reference is memory-bound.
    PackTileFp32Ref(format, src, row_stride, valid_rows, valid_cols, dst);
    return;
  }
  PackBfpTile(format, src, row_stride, valid_rows, valid_cols, dst);
}

void PackTileBf16Impl(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  if (!IsBfp(format)) {
    PackTileBf16Ref(format, src, row_stride, valid_rows, valid_cols, dst);
    return;
  }
  PackBfpTile(format, src, row_stride, valid_rows, valid_cols, dst);
}

template <class D>
HWY_INLINE void StoreGroupBits(D /*d*/, hn::Vec<D> bits, float* out) {
  const hn::RebindToFloat<D> df;
  hn::StoreU(hn::BitCast(df, bits), df, out);
}
// bfp decodes have zero low halves (bfp_formats.md), so the top half is exact.
template <class D>
HWY_INLINE void StoreGroupBits(D /*d*/, hn::Vec<D> bits, uint16_t* out) {
  const hn::Rebind<uint16_t, D> d16;
  hn::StoreU(hn::TruncateTo(d16, hn::ShiftRight<16>(bits)), d16, out);
}

// Decodes one group into 16 contiguous outputs.
template <int kBits, typename T>
HWY_INLINE void DecodeGroupTo(uint8_t exponent, const uint8_t* data, T* out) {
  const hn::ScalableTag<uint32_t> d;
  const size_t lanes = hn::Lanes(d);
  if (GroupDecodesInSimd<kBits>(exponent)) {
    for (size_t idx = 0; idx < kBfpGroupSize; idx += lanes) {
      StoreGroupBits(d, DecodeGroupBits<kBits>(d, exponent, data, idx), out + idx);
    }
    return;
  }
  alignas(64) uint32_t values[kBfpGroupSize];  // Tiny exponents (E < BITS - 1): rare.
  DecodeBfpGroup(kBits, exponent, data, values);
  for (size_t idx = 0; idx < kBfpGroupSize; idx += lanes) {
    StoreGroupBits(d, hn::Load(d, values + idx), out + idx);
  }
}

template <int kBits, typename T>
void UnpackFullBfpTile(const uint8_t* src, T* dst, ptrdiff_t row_stride) {
  const uint8_t* data = src + kBfpGroupsPerTile;
  // Row by row, left face then right face, so each destination row segment is
  // written in one go (whole cache lines) rather than in two visits 16 groups apart.
  for (int row = 0; row < kTileDim; ++row) {
    const int left = (row / kFaceDim) * 2 * kFaceDim + row % kFaceDim;  // face 0 or 2
    const int right = left + kFaceDim;                                  // face 1 or 3
    T* out = dst + row * row_stride;
    DecodeGroupTo<kBits>(src[left], data + left * kGroupBytes<kBits>, out);
    DecodeGroupTo<kBits>(src[right], data + right * kGroupBytes<kBits>, out + kFaceDim);
  }
}

template <typename T>
void UnpackBfpTile(TileFormat format, const uint8_t* src, T* dst, ptrdiff_t row_stride,
                   int valid_rows, int valid_cols) {
  const bool full = valid_rows == kTileDim && valid_cols == kTileDim;
  alignas(64) T whole[kTileElems];
  T* out = full ? dst : whole;
  const ptrdiff_t out_stride = full ? row_stride : kTileDim;
  if (format == TileFormat::kBfp4b) {
    UnpackFullBfpTile<3>(src, out, out_stride);
  } else {
    UnpackFullBfpTile<7>(src, out, out_stride);
  }
  if (full) return;
  for (int row = 0; row < valid_rows; ++row) {  // Edge tile: keep the valid window.
    std::copy(whole + row * kTileDim, whole + row * kTileDim + valid_cols, dst + row * row_stride);
  }
}

void UnpackTileToFp32Impl(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                          int valid_rows, int valid_cols) {
  if (!IsBfp(format)) {
    UnpackTileToFp32Ref(format, src, dst, row_stride, valid_rows, valid_cols);
    return;
  }
  UnpackBfpTile(format, src, dst, row_stride, valid_rows, valid_cols);
}

void UnpackTileToBf16Impl(TileFormat format, const uint8_t* src, uint16_t* dst,
                          ptrdiff_t row_stride, int valid_rows, int valid_cols) {
  if (!IsBfp(format)) {
    UnpackTileToBf16Ref(format, src, dst, row_stride, valid_rows, valid_cols);
    return;
  }
  UnpackBfpTile(format, src, dst, row_stride, valid_rows, valid_cols);
}

template <int kBits, typename T>
void DecodeGroups(const uint8_t* exponents, const uint8_t* data, int64_t num_groups, T* out) {
  for (int64_t group = 0; group < num_groups; ++group) {
    DecodeGroupTo<kBits>(exponents[group], data + group * kGroupBytes<kBits>,
                         out + group * kBfpGroupSize);
  }
}

void DecodeGroupsToFp32Impl(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                            int64_t num_groups, float* out) {
  if (format == TileFormat::kBfp4b) {
    DecodeGroups<3>(exponents, data, num_groups, out);
  } else {
    DecodeGroups<7>(exponents, data, num_groups, out);
  }
}

void DecodeGroupsToBf16Impl(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                            int64_t num_groups, uint16_t* out) {
  if (format == TileFormat::kBfp4b) {
    DecodeGroups<3>(exponents, data, num_groups, out);
  } else {
    DecodeGroups<7>(exponents, data, num_groups, out);
  }
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace lmhead
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lmhead {

HWY_EXPORT(TargetNameImpl);
HWY_EXPORT(PackTileFp32Impl);
HWY_EXPORT(PackTileBf16Impl);
HWY_EXPORT(UnpackTileToFp32Impl);
HWY_EXPORT(UnpackTileToBf16Impl);
HWY_EXPORT(DecodeGroupsToFp32Impl);
HWY_EXPORT(DecodeGroupsToBf16Impl);

void PackTileFp32Fast(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  HWY_DYNAMIC_DISPATCH(PackTileFp32Impl)(format, src, row_stride, valid_rows, valid_cols, dst);
}
void PackTileBf16Fast(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst) {
  HWY_DYNAMIC_DISPATCH(PackTileBf16Impl)(format, src, row_stride, valid_rows, valid_cols, dst);
}
void UnpackTileToFp32Fast(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                          int valid_rows, int valid_cols) {
  HWY_DYNAMIC_DISPATCH(UnpackTileToFp32Impl)(format, src, dst, row_stride, valid_rows, valid_cols);
}
void UnpackTileToBf16Fast(TileFormat format, const uint8_t* src, uint16_t* dst,
                          ptrdiff_t row_stride, int valid_rows, int valid_cols) {
  HWY_DYNAMIC_DISPATCH(UnpackTileToBf16Impl)(format, src, dst, row_stride, valid_rows, valid_cols);
}
void DecodeBfpGroupsToFp32Fast(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                               int64_t num_groups, float* out) {
  HWY_DYNAMIC_DISPATCH(DecodeGroupsToFp32Impl)(format, exponents, data, num_groups, out);
}
void DecodeBfpGroupsToBf16Fast(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                               int64_t num_groups, uint16_t* out) {
  HWY_DYNAMIC_DISPATCH(DecodeGroupsToBf16Impl)(format, exponents, data, num_groups, out);
}

const char* FastTargetName() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

std::vector<int64_t> CompiledAndSupportedTargets() { return hwy::SupportedAndGeneratedTargets(); }

}  // namespace lmhead
#endif  // HWY_ONCE
