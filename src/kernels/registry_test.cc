// SPDX-License-Identifier: Apache-2.0
// Tests of the kernel table, its lookup and the numerics names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kernels/kernels.h"

namespace lmhead {
namespace {

using testing::HasSubstr;

TEST(NumericsTest, NamesRoundTrip) {
  for (Numerics numerics : {Numerics::kFp32, Numerics::kTtLofi}) {
    Result<Numerics> parsed = ParseNumerics(ToString(numerics));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, numerics);
  }
  EXPECT_STREQ(ToString(Numerics::kTtLofi), "tt-lofi");
}

TEST(NumericsTest, UnknownNameSaysWhatIsValid) {
  Result<Numerics> parsed = ParseNumerics("lofi");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("[ParseNumerics] unknown numerics 'lofi'"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("use fp32 or tt-lofi"));
}

TEST(ValidateLofiOptionsTest, InBlockWidthMustDivideKt) {
  EXPECT_TRUE(ValidateLofiOptions(224, {.in0_block_w = 4, .packer_l1_acc = true}).ok());
  EXPECT_TRUE(ValidateLofiOptions(224, {.in0_block_w = 8, .packer_l1_acc = true}).ok());
  const Status bad = ValidateLofiOptions(224, {.in0_block_w = 5, .packer_l1_acc = true});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("in0_block_w 5 does not divide Kt 224"));
  EXPECT_FALSE(ValidateLofiOptions(224, {.in0_block_w = 0, .packer_l1_acc = false}).ok());
}

TEST(RegistryTest, EveryRowIsCompleteAndNamedUniquely) {
  std::set<std::string> names;
  for (const MatmulKernels& kernels : AllMatmulKernels()) {
    EXPECT_TRUE(names.insert(kernels.name).second) << kernels.name;
    EXPECT_NE(kernels.gemv, nullptr) << kernels.name;
    EXPECT_NE(kernels.gemm, nullptr) << kernels.name;
    EXPECT_GE(kernels.nr_tiles, 1) << kernels.name;
    EXPECT_THAT(kernels.name, HasSubstr(std::string("/") + ToString(kernels.numerics) + "/"));
    // Bit-exact with a reference that sums each row on its own.
    if (kernels.numerics == Numerics::kTtLofi) {
      EXPECT_TRUE(kernels.rows_independent) << kernels.name;
    }
    // Packed panels hold bfp4_b only, and only AVX-512 kernels read them.
    if (kernels.layout == TileLayout::kBfp4bPanels) {
      EXPECT_EQ(kernels.format, TileFormat::kBfp4b) << kernels.name;
      EXPECT_TRUE(CpuFeatures{kernels.required_cpu_features}.Has(kCpuAvx512)) << kernels.name;
    }
  }
  EXPECT_EQ(names.size(), 16u);
}

TEST(RegistryTest, EveryFormatAndNumericsEndsWithTheReference) {
  for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
    for (Numerics numerics : {Numerics::kFp32, Numerics::kTtLofi}) {
      const MatmulKernels* last = nullptr;
      for (const MatmulKernels& kernels : AllMatmulKernels()) {
        if (kernels.format == format && kernels.numerics == numerics) last = &kernels;
      }
      ASSERT_NE(last, nullptr);
      EXPECT_EQ(last->required_cpu_features, 0u) << last->name;
      EXPECT_THAT(last->name, testing::EndsWith("/ref"));
    }
  }
}

TEST(RegistryTest, PicksTheBestSetTheCpuAllows) {
  const auto name = [](TileFormat format, Numerics numerics, uint32_t bits) {
    Result<const MatmulKernels*> found = FindMatmulKernels(format, numerics, CpuFeatures{bits});
    return found.ok() ? std::string((*found)->name) : found.status().ToString();
  };
  const uint32_t avx512 = kCpuAvx2 | kCpuAvx512;
  const uint32_t bf16 = avx512 | kCpuAvx512Bf16;
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kFp32, bf16 | kCpuAmxBf16), "matmul/bfp4b/fp32/amx");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kFp32, bf16), "matmul/bfp4b/fp32/avx512bf16");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kFp32, avx512), "matmul/bfp4b/fp32/avx512");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kFp32, kCpuAvx2), "matmul/bfp4b/fp32/avx2");
  EXPECT_EQ(name(TileFormat::kBfp8b, Numerics::kFp32, kCpuAvx2), "matmul/bfp8b/fp32/avx2");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kFp32, 0), "matmul/bfp4b/fp32/ref");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kTtLofi, kCpuAvx2), "matmul/bfp4b/tt-lofi/avx2");
  EXPECT_EQ(name(TileFormat::kBfp8b, Numerics::kTtLofi, kCpuAvx2), "matmul/bfp8b/tt-lofi/avx2");
  EXPECT_EQ(name(TileFormat::kBfp8b, Numerics::kFp32, ~0u), "matmul/bfp8b/fp32/avx512");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kTtLofi, ~0u), "matmul/bfp4b/tt-lofi/amx");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kTtLofi, bf16), "matmul/bfp4b/tt-lofi/avx512bf16");
  EXPECT_EQ(name(TileFormat::kBfp4b, Numerics::kTtLofi, avx512), "matmul/bfp4b/tt-lofi/avx512");
  EXPECT_EQ(name(TileFormat::kBfp8b, Numerics::kTtLofi, ~0u), "matmul/bfp8b/tt-lofi/avx512");
  EXPECT_EQ(name(TileFormat::kBfp8b, Numerics::kTtLofi, 0), "matmul/bfp8b/tt-lofi/ref");
}

TEST(RegistryTest, FindsTheReferenceForBfpWeightsOnAnyCpu) {
  Result<const MatmulKernels*> lofi =
      FindMatmulKernels(TileFormat::kBfp4b, Numerics::kTtLofi, CpuFeatures{});
  ASSERT_TRUE(lofi.ok());
  EXPECT_STREQ((*lofi)->name, "matmul/bfp4b/tt-lofi/ref");
  Result<const MatmulKernels*> fp32 =
      FindMatmulKernels(TileFormat::kBfp8b, Numerics::kFp32, CpuFeatures{});
  ASSERT_TRUE(fp32.ok());
  EXPECT_STREQ((*fp32)->name, "matmul/bfp8b/fp32/ref");
}

TEST(RegistryTest, UnsupportedWeightFormatIsNotSupported) {
  Result<const MatmulKernels*> found =
      FindMatmulKernels(TileFormat::kBf16, Numerics::kFp32, CpuFeatures{});
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(found.status().message(), HasSubstr("no matmul kernels for bf16 weights"));
}

}  // namespace
}  // namespace lmhead
