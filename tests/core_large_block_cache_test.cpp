// The CPU allocator's cache of large blocks: a freed large block serves the next request of its
// size without a new mapping; small blocks, blocks of more than twice the request and blocks over
// the cap are not kept; tensors in it hold their values like any other.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/large_block_cache.h"

namespace rlhf {
namespace {

constexpr int64_t kFloats = (int64_t{40} << 20) / 4;  // a 40 MiB tensor: above glibc's 32 MiB

class LargeBlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install_large_block_cache(0);                  // empty: what earlier tests freed is not kept
    install_large_block_cache(size_t{256} << 20);
  }
};

TEST_F(LargeBlockCacheTest, AFreedLargeBlockServesTheNextRequestOfItsSize) {
  void* first = nullptr;
  {
    auto t = torch::empty({kFloats});
    first = t.data_ptr();
  }
  const auto before = large_block_cache_stats();
  EXPECT_GE(before.cached_bytes, kFloats * 4);
  auto again = torch::empty({kFloats - 1000});  // a little smaller still fits the kept block
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(large_block_cache_stats().hits, before.hits + 1);
}

TEST_F(LargeBlockCacheTest, LiveBlocksAreNeverHandedOutTwice) {
  auto a = torch::full({kFloats}, 1.0f);
  auto b = torch::full({kFloats}, 2.0f);
  EXPECT_NE(a.data_ptr(), b.data_ptr());
  EXPECT_EQ(a.sum().item<double>(), static_cast<double>(kFloats));
  EXPECT_EQ(b.sum().item<double>(), 2.0 * static_cast<double>(kFloats));
}

TEST_F(LargeBlockCacheTest, SmallRequestsAndMuchSmallerLargeOnesDoNotTakeAKeptBlock) {
  { auto big = torch::empty({kFloats * 3}); }  // 120 MiB kept
  const auto before = large_block_cache_stats();
  auto small = torch::empty({1024});
  auto quarter = torch::empty({kFloats});       // 40 MiB: less than half of the kept block
  EXPECT_EQ(large_block_cache_stats().hits, before.hits);
  EXPECT_EQ(large_block_cache_stats().misses, before.misses + 1);
}

TEST_F(LargeBlockCacheTest, BlocksBeyondTheCapAreReturnedToTheSystem) {
  install_large_block_cache(size_t{64} << 20);
  { auto a = torch::empty({kFloats}), b = torch::empty({kFloats}); }  // 80 MiB freed, cap 64 MiB
  EXPECT_LE(large_block_cache_stats().cached_bytes, int64_t{64} << 20);
  install_large_block_cache(0);
  EXPECT_EQ(large_block_cache_stats().cached_bytes, 0);
}

TEST_F(LargeBlockCacheTest, TrainingThroughTheCacheComputesWhatItComputesWithout) {
  torch::manual_seed(0);
  auto w = torch::randn({kFloats / 1024, 1024}, torch::requires_grad());  // 40 MiB weight and gradient
  for (int step = 0; step < 2; ++step) {
    w.mutable_grad() = torch::Tensor();
    (w * w).sum().backward();
    EXPECT_TRUE(torch::allclose(w.grad(), 2 * w.detach()));
  }
}

}  // namespace
}  // namespace rlhf
