// SPDX-License-Identifier: Apache-2.0
// Tests for Status, Result<T> and the propagation macros.
#include "lmhead/status.h"

#include <gtest/gtest.h>

namespace lmhead {
namespace {

Result<int> ParsePositive(int x) {
  if (x <= 0) return Status::InvalidArgument("[ParsePositive] x must be > 0 (x=" + std::to_string(x) + ")");
  return x;
}

Result<int> Doubled(int x) {
  LMHEAD_ASSIGN_OR_RETURN(int v, ParsePositive(x));
  return 2 * v;
}

Status CheckBoth(int a, int b) {
  LMHEAD_RETURN_IF_ERROR(ParsePositive(a).status());
  LMHEAD_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::NotFound("[Open] no such file (path=x); check the path");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: [Open] no such file (path=x); check the path");
  EXPECT_TRUE(s.IsUserError());
  EXPECT_FALSE(Status::Internal("bug").IsUserError());
}

TEST(ResultTest, PropagatesValueAndError) {
  Result<int> good = Doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("x=-1"), std::string::npos);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  Status s = CheckBoth(1, -5);
  EXPECT_NE(s.message().find("x=-5"), std::string::npos);
}

}  // namespace
}  // namespace lmhead
