// SPDX-License-Identifier: Apache-2.0
// Packs one DRAM bank of one device's [H, V/D] slice of W^T into TT tiles.
#ifndef LMHEAD_CONVERT_BANK_PACKER_H_
#define LMHEAD_CONVERT_BANK_PACKER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lmhead/safetensors.h"
#include "lmhead/weights.h"

namespace lmhead {

// The checkpoint head W: [rows, cols] = [valid vocab, H], row-major, little-endian
// BF16, F16 or F32, possibly unaligned (safetensors does not align tensors).
struct HeadSource {
  const std::byte* data = nullptr;
  SafetensorsDtype dtype = SafetensorsDtype::kBF16;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Per-thread buffers, reused across banks.
struct BankScratch {
  std::vector<uint8_t> blob;  // geometry.bank_bytes() after PackBank.
  uint16_t tile_bf16[32 * 32];
  float tile_fp32[32 * 32];
};

// Fills scratch->blob with bank `bank_idx` of device `device_idx`: Kt x
// bank_n_tiles tiles in row-major tile order, tile (kt, nt) holding
// W^T[32 kt .., col] for the bank's columns; padding packs as zero tiles.
// BF16 sources pack from bf16, F16/F32 from fp32 (exact widening), so the
// bytes equal TT's from_torch of the same tensor. Returns false if the bank
// reads a NaN or Inf (its bytes are then incomplete).
bool PackBank(const HeadSource& source, const ShardGeometry& geometry, int64_t device_idx,
              int64_t bank_idx, BankScratch* scratch);

// The source rows [first, last) bank `bank_idx` of device `device_idx` reads.
void BankSourceRows(const ShardGeometry& geometry, int64_t device_idx, int64_t bank_idx,
                    int64_t* first, int64_t* last);

// Finds the first (row-major) NaN/Inf of rows [row_begin, row_end); false if none.
bool FindNonFinite(const HeadSource& source, int64_t row_begin, int64_t row_end, int64_t* row,
                   int64_t* col, float* value);

}  // namespace lmhead

#endif  // LMHEAD_CONVERT_BANK_PACKER_H_
