// SPDX-License-Identifier: Apache-2.0
// Tests: HugePageBuffer gives zeroed, writable, 2 MiB-aligned memory and moves ownership.
#include "io/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace lmhead {
namespace {

TEST(HugePageBufferTest, IsZeroedWritableAndAligned) {
  const size_t bytes = (size_t{5} << 20) + 123;  // not a multiple of the huge page
  Result<HugePageBuffer> buffer = HugePageBuffer::Allocate(bytes);
  ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
  ASSERT_EQ(buffer->size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % (size_t{2} << 20), 0u);
  for (size_t i = 0; i < bytes; i += 4093) EXPECT_EQ(buffer->data()[i], 0) << i;
  buffer->data()[0] = 1;
  buffer->data()[bytes - 1] = 2;
  EXPECT_EQ(buffer->data()[bytes - 1], 2);
}

TEST(HugePageBufferTest, MovesOwnership) {
  Result<HugePageBuffer> first = HugePageBuffer::Allocate(4096);
  ASSERT_TRUE(first.ok());
  uint8_t* data = first->data();
  HugePageBuffer moved = std::move(*first);
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(first->data(), nullptr);
  EXPECT_EQ(first->size(), 0u);
  HugePageBuffer assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data(), data);
  EXPECT_EQ(assigned.size(), 4096u);
}

TEST(HugePageBufferTest, EmptyBufferHasNoMemory) {
  Result<HugePageBuffer> empty = HugePageBuffer::Allocate(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->data(), nullptr);
  EXPECT_EQ(empty->size(), 0u);
}

}  // namespace
}  // namespace lmhead
