// SPDX-License-Identifier: Apache-2.0
// PackBank: 32x32 transposes of W into W^T tiles, packed with the formats API.
#include "convert/bank_packer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/half.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

inline uint16_t Load16(const std::byte* p) {
  uint16_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

inline float LoadF32(const std::byte* p) {
  float value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

inline bool IsNonFinite(SafetensorsDtype dtype, const std::byte* p) {
  switch (dtype) {
    case SafetensorsDtype::kBF16:
      return (Load16(p) & 0x7FFFu) >= 0x7F80u;
    case SafetensorsDtype::kF16:
      return (Load16(p) & 0x7FFFu) >= 0x7C00u;
    default: {
      uint32_t bits;
      std::memcpy(&bits, p, sizeof(bits));
      return (bits & 0x7FFFFFFFu) >= 0x7F800000u;
    }
  }
}

// Transposes the block W[v0 .. v0+num_v, h0 .. h0+num_h) into tile[h][v]
// (row stride 32) and packs it. Returns false on a NaN/Inf.
bool PackBlock(const HeadSource& src, int64_t v0, int num_v, int64_t h0, int num_h,
               TileFormat format, BankScratch* s, uint8_t* dst) {
  const size_t elem_bytes = static_cast<size_t>(DtypeBytes(src.dtype));
  bool bad = false;
  for (int v = 0; v < num_v; ++v) {
    const std::byte* row = src.data + (static_cast<size_t>((v0 + v) * src.cols + h0)) * elem_bytes;
    if (src.dtype == SafetensorsDtype::kBF16) {
      for (int h = 0; h < num_h; ++h) {
        const uint16_t bits = Load16(row + 2 * h);
        bad |= (bits & 0x7FFFu) >= 0x7F80u;
        s->tile_bf16[h * 32 + v] = bits;
      }
    } else if (src.dtype == SafetensorsDtype::kF16) {
      for (int h = 0; h < num_h; ++h) {
        const uint16_t bits = Load16(row + 2 * h);
        bad |= (bits & 0x7FFFu) >= 0x7C00u;
        s->tile_fp32[h * 32 + v] = F16ToFp32(bits);
      }
    } else {
      for (int h = 0; h < num_h; ++h) {
        const float value = LoadF32(row + 4 * h);
        bad |= !std::isfinite(value);
        s->tile_fp32[h * 32 + v] = value;
      }
    }
  }
  if (src.dtype == SafetensorsDtype::kBF16) {
    PackTileBf16(format, s->tile_bf16, 32, num_h, num_v, dst);
  } else {
    PackTileFp32(format, s->tile_fp32, 32, num_h, num_v, dst);
  }
  return !bad;
}

}  // namespace

void BankSourceRows(const ShardGeometry& g, int64_t device_idx, int64_t bank_idx, int64_t* first,
                    int64_t* last) {
  *first = device_idx * g.cols() + bank_idx * g.shard_w;
  *last = *first + g.BankValidCols(device_idx, bank_idx);
}

bool PackBank(const HeadSource& source, const ShardGeometry& g, int64_t device_idx,
              int64_t bank_idx, BankScratch* scratch) {
  const size_t tile_bytes = TileBytes(g.format);
  scratch->blob.assign(g.bank_bytes(), 0);  // Zero bytes are zero tiles in every format.
  int64_t first_row = 0;
  int64_t last_row = 0;
  BankSourceRows(g, device_idx, bank_idx, &first_row, &last_row);
  const int64_t bank_n_tiles = g.bank_n_tiles();
  const int64_t k_tiles = g.k_tiles();
  bool finite = true;
  for (int64_t nt = 0; first_row + nt * kTileDim < last_row; ++nt) {
    const int64_t v0 = first_row + nt * kTileDim;
    const int num_v = static_cast<int>(std::min<int64_t>(kTileDim, last_row - v0));
    for (int64_t kt = 0; kt < k_tiles; ++kt) {
      const int num_h =
          static_cast<int>(std::min<int64_t>(kTileDim, g.hidden_size - kt * kTileDim));
      uint8_t* dst =
          scratch->blob.data() + static_cast<size_t>(kt * bank_n_tiles + nt) * tile_bytes;
      finite &= PackBlock(source, v0, num_v, kt * kTileDim, num_h, g.format, scratch, dst);
    }
    if (!finite) return false;
  }
  return true;
}

bool FindNonFinite(const HeadSource& source, int64_t row_begin, int64_t row_end, int64_t* row,
                   int64_t* col, float* value) {
  const size_t elem_bytes = static_cast<size_t>(DtypeBytes(source.dtype));
  for (int64_t r = row_begin; r < row_end; ++r) {
    const std::byte* p = source.data + static_cast<size_t>(r * source.cols) * elem_bytes;
    for (int64_t c = 0; c < source.cols; ++c, p += elem_bytes) {
      if (!IsNonFinite(source.dtype, p)) continue;
      *row = r;
      *col = c;
      *value = source.dtype == SafetensorsDtype::kBF16  ? Bf16ToFp32(Load16(p))
               : source.dtype == SafetensorsDtype::kF16 ? F16ToFp32(Load16(p))
                                                        : LoadF32(p);
      return true;
    }
  }
  return false;
}

}  // namespace lmhead
