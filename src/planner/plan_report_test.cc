// SPDX-License-Identifier: Apache-2.0
// The human-readable report and the notes: each quirk that applies is named with its values.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

LmHeadPlan MustPlan(const MeshDesc& mesh, const PlanOptions& options,
                    const ModelDims& model = kDeepSeekV3) {
  Result<LmHeadPlan> plan = Plan(model, mesh, options);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : LmHeadPlan{};
}

TEST(PlanReportTest, GalaxyReportShowsTheSeedExample) {
  const std::string report = PlanToReport(MustPlan(MakeMesh(4, 8), Options(CompatMode::kSeed)));
  EXPECT_THAT(report, AllOf(HasSubstr("Example instantiation"), HasSubstr("V/D"), HasSubstr("4040"),
                            HasSubstr("K_tiles"), HasSubstr("224"),
                            HasSubstr("find_largest_divisor(224 / 56)"),
                            HasSubstr("[32, 128] on {[(x=0,y=0) - (x=7,y=6)]}"),
                            HasSubstr("[32, 4064] on {[(x=0,y=0) - (x=0,y=0)]}"),
                            HasSubstr("[7168, 352] on 12 banks")));
  // Per-device shapes, the transfer schedule with hops, the bank layout, the L1 estimates.
  EXPECT_THAT(report,
              AllOf(HasSubstr("[1, 1, 32, 7168]"), HasSubstr("[1, 1, 1024, 4040]"),
                    HasSubstr("total: 24 transfers, 48 hops"), HasSubstr("[3872, 4224)"),
                    HasSubstr("partly padding"), HasSubstr("409,600 B"), HasSubstr("116,992 B"),
                    HasSubstr("in0_block_w=8, out_subblock_h=1, out_subblock_w=1, "
                              "per_core_M=4, per_core_N=16")));
  EXPECT_THAT(report, Not(HasSubstr(" \n")));  // No trailing blanks.
}

TEST(PlanReportTest, NotesForTheGalaxy) {
  const LmHeadPlan plan = MustPlan(MakeMesh(4, 8), Options(CompatMode::kSeed));
  const std::string notes = fmt::format("{}", fmt::join(plan.notes, "\n"));
  EXPECT_THAT(notes, AllOf(HasSubstr("quirk 5"), HasSubstr("N tiles 127"), HasSubstr("quirk 1"),
                           HasSubstr("only because output_num_cores is 1"), HasSubstr("quirk 4"),
                           HasSubstr("quirk 7"), HasSubstr("quirk 8"),
                           HasSubstr("DRAM bank 11 is partly padding: 168 real, 24 tile-padding "
                                     "and 160 bank-padding")));
  EXPECT_THAT(notes, Not(HasSubstr("quirk 3")));  // Not chunked.
}

TEST(PlanReportTest, NotesForLongPrefillAndTtModes) {
  const LmHeadPlan v3 =
      MustPlan(MakeMesh(4, 8), Options(CompatMode::kTtV3, PlanMode::kBoth, 8192, 3));
  const std::string notes = fmt::format("{}", fmt::join(v3.notes, "\n"));
  EXPECT_THAT(notes, AllOf(HasSubstr("per_core_M 32 comes from the full seq_len 8192"),
                           HasSubstr("1 of 8 core rows"), HasSubstr("quirk 3"),
                           HasSubstr("2244608 B per core"), HasSubstr("more than the 1499136 B"),
                           HasSubstr("tt-v3 decode does not call mesh_scatter")));
  const LmHeadPlan v4 =
      MustPlan(MakeMesh(4, 8), Options(CompatMode::kTtV4, PlanMode::kBoth, 4096, 3));
  EXPECT_THAT(v4.notes, Contains(HasSubstr("does not deallocate its input")));
  EXPECT_THAT(v4.notes, Not(Contains(HasSubstr("quirk 3"))));
  const LmHeadPlan padded =
      MustPlan(MakeMesh(4, 8), Options(CompatMode::kSeed, PlanMode::kPrefill, 3000));
  EXPECT_THAT(padded.notes, Contains(HasSubstr("seq_len 3000 is zero-padded by 72 rows to 3072")));
  const LmHeadPlan marginal =
      MustPlan(MakeMesh(4, 8), Options(CompatMode::kSeed, PlanMode::kPrefill, 4096));
  EXPECT_THAT(marginal.notes, Contains(HasSubstr("marginal")));
}

// In seed mode the notes say what TT's own code would do on this mesh.
TEST(PlanReportTest, SeedNotesQuoteTtFailure) {
  const LmHeadPlan plan = MustPlan(MakeMesh(1, 8, "wormhole_b0-n300"), Options(CompatMode::kSeed));
  EXPECT_THAT(plan.notes,
              Contains(AllOf(HasSubstr("TT-Metal's own decode config"), HasSubstr("896 % 5 = 1"))));
  const LmHeadPlan single_row = MustPlan(MakeMesh(1, 8), Options(CompatMode::kSeed));
  EXPECT_THAT(single_row.notes, Contains(HasSubstr("no transfers")));
  const LmHeadPlan d64 = MustPlan(MakeMesh(8, 8), Options(CompatMode::kSeed));
  EXPECT_THAT(d64.notes, Contains(HasSubstr("DRAM banks 11-11 (1 of 12) hold no real columns")));
  const LmHeadPlan bh = MustPlan(MakeMesh(4, 8, "blackhole-p150"), Options(CompatMode::kSeed));
  EXPECT_THAT(bh.notes, Contains(HasSubstr("should be 512")));
}

}  // namespace
}  // namespace lmhead
