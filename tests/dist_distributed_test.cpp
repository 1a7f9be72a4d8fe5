// dist/distributed: the env:// variables, row shards, gradient buckets, and the collectives on a real
// two-rank Gloo group (two threads of this process on loopback, each with its own Distributed).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "dist/distributed.h"
#include "dist/launcher.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

using test::max_abs_diff;

DistributedEnv env_of(const std::map<std::string, std::string>& vars) {
  return distributed_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistributedEnv, WithoutWorldSizeTheProcessIsAlone) {
  auto env = env_of({});
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.rank, 0);
  EXPECT_FALSE(env.in_job);
  EXPECT_TRUE(env_of({{"WORLD_SIZE", "1"}}).in_job);  // a job of one still gets a process group
}

TEST(DistributedEnv, ReadsTorchrunVariables) {
  auto env = env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                     {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29555"}, {"RLHF_DIST_TIMEOUT_S", "42"}});
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.master_addr, "10.0.0.7");
  EXPECT_EQ(env.master_port, 29555);
  EXPECT_EQ(env.timeout, std::chrono::seconds(42));
}

TEST(DistributedEnv, MalformedValuesNameTheVariable) {
  try {
    env_of({{"WORLD_SIZE", "2"}, {"RANK", "2"}});
    FAIL() << "RANK out of range accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK=\"2\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(env_of({{"WORLD_SIZE", "two"}}), std::runtime_error);
  EXPECT_THROW(env_of({{"WORLD_SIZE", "2"}}), std::runtime_error);  // no RANK
  EXPECT_THROW(env_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}), std::runtime_error);
}

TEST(ShardRows, ContiguousDisjointAndCoverTheBatch) {
  for (int world : {1, 2, 3, 5}) {
    for (int64_t n : {5, 8, 16, 17}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        auto rows = shard_rows(n, r, world);
        EXPECT_EQ(rows.begin, next);
        EXPECT_LE(std::abs(rows.size() - n / world), 1);
        next = rows.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(MakeBuckets, KeepOrderRespectTheSizeAndSplitOnDtype) {
  std::vector<torch::Tensor> t = {torch::zeros({10}), torch::zeros({10}), torch::zeros({30}),
                                  torch::zeros({5}, torch::kDouble), torch::zeros({5}, torch::kDouble)};
  auto buckets = make_buckets(t, /*bucket_bytes=*/80);  // 20 floats
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0], (std::vector<size_t>{0, 1}));  // 80 bytes of floats
  EXPECT_EQ(buckets[1], (std::vector<size_t>{2}));     // larger than a bucket: alone
  EXPECT_EQ(buckets[2], (std::vector<size_t>{3, 4}));  // doubles never share a bucket with floats
}

// Runs fn(rank, dist) on two ranks joined in one Gloo group on loopback, one thread each.
template <class Fn>
void on_two_ranks(Fn fn, int timeout_s = 30) {
  const int port = find_free_port();
  auto rank_main = [&](int rank) {
    DistributedEnv env;
    env.rank = rank;
    env.world_size = 2;
    env.local_world_size = 2;
    env.master_port = port;
    env.timeout = std::chrono::seconds(timeout_s);
    env.in_job = true;
    Distributed dist(env, torch::kCPU);
    fn(rank, dist);
  };
  auto other = std::async(std::launch::async, rank_main, 1);
  rank_main(0);
  other.get();
}

TEST(DistributedGloo, BroadcastCopiesRankZerosParameters) {
  // Built before the threads: seeding is global.
  std::vector<GPT> models = {test::tiny_model(/*seed=*/10), test::tiny_model(/*seed=*/11)};
  std::vector<torch::Tensor> after(2);
  on_two_ranks([&](int rank, Distributed& dist) {
    dist.broadcast_parameters(*models[rank]);
    after[rank] = torch::cat({models[rank]->parameters()[0].flatten(), models[rank]->parameters().back().flatten()});
  });
  auto rank0_start = test::tiny_model(10);
  auto expected = torch::cat({rank0_start->parameters()[0].flatten(), rank0_start->parameters().back().flatten()});
  EXPECT_TRUE(torch::equal(after[0], expected));
  EXPECT_TRUE(torch::equal(after[1], expected));
}

TEST(DistributedGloo, GradientsAreSummedAcrossBucketsAndMissingOnesCountAsZero) {
  std::vector<std::vector<torch::Tensor>> grads(2);
  on_two_ranks([&](int rank, Distributed& dist) {
    std::vector<torch::Tensor> params = {torch::zeros({3, 4}, torch::requires_grad()), torch::zeros({7}, torch::requires_grad()),
                                         torch::zeros({2}, torch::requires_grad())};
    params[0].mutable_grad() = torch::full({3, 4}, rank + 1.0);
    params[1].mutable_grad() = torch::arange(7, torch::kFloat) * (rank + 1);
    if (rank == 1) params[2].mutable_grad() = torch::ones({2});  // rank 0 has no gradient for it
    dist.all_reduce_gradients(params, /*bucket_bytes=*/32);  // several buckets
    for (auto& p : params) grads[rank].push_back(p.grad().clone());
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_TRUE(torch::equal(grads[rank][0], torch::full({3, 4}, 3.0f)));
    EXPECT_TRUE(torch::equal(grads[rank][1], torch::arange(7, torch::kFloat) * 3));
    EXPECT_TRUE(torch::equal(grads[rank][2], torch::ones({2})));
  }
}

TEST(DistributedGloo, SumsMinimaMaximaAndTheReplicaCheck) {
  std::vector<std::vector<double>> sums(2), lows(2), highs(2);
  std::vector<std::string> diverged(2);
  std::vector<GPT> same = {test::tiny_model(3), test::tiny_model(3)}, different = {test::tiny_model(3), test::tiny_model(4)};
  on_two_ranks([&](int rank, Distributed& dist) {
    sums[rank] = dist.sum({1.5 * (rank + 1), 10.0}, "test");
    lows[rank] = dist.min({static_cast<double>(rank)}, "test");
    highs[rank] = dist.max({static_cast<double>(rank)}, "test");
    dist.verify_replicas(*same[rank]);  // identical: no throw
    try {
      dist.verify_replicas(*different[rank]);
    } catch (const std::runtime_error& e) {
      diverged[rank] = e.what();
    }
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(sums[rank], (std::vector<double>{4.5, 20.0}));
    EXPECT_EQ(lows[rank][0], 0.0);
    EXPECT_EQ(highs[rank][0], 1.0);
    EXPECT_NE(diverged[rank].find("parameters differ"), std::string::npos) << diverged[rank];
  }
}

TEST(DistributedGloo, APeerThatLeavesMakesTheNextCollectiveFailWithinTheTimeout) {
  std::string error;
  double seconds = 0;
  on_two_ranks(
      [&](int rank, Distributed& dist) {
        dist.barrier("start");
        if (rank == 1) return;  // rank 1's group is destroyed: its connections close
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const auto start = std::chrono::steady_clock::now();
        try {
          torch::Tensor t = torch::ones({4});
          dist.all_reduce_sum(t, "all-reducing a test tensor");
        } catch (const std::runtime_error& e) {
          error = e.what();
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      },
      /*timeout_s=*/5);
  EXPECT_NE(error.find("rank 0 of 2: all-reducing a test tensor failed"), std::string::npos) << error;
  EXPECT_LT(seconds, 10.0);
}

TEST(DistributedGloo, MainFirstRunsRankZeroFirstEvenPastTheCollectiveTimeout) {
  std::vector<std::string> order;
  std::mutex mutex;
  on_two_ranks(
      [&](int rank, Distributed& dist) {
        dist.main_first("test preparation", [&] {
          if (rank == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // longer than the timeout
          std::lock_guard<std::mutex> lock(mutex);
          order.push_back("rank " + std::to_string(rank));
        });
        dist.barrier("after");
      },
      /*timeout_s=*/1);
  EXPECT_EQ(order, (std::vector<std::string>{"rank 0", "rank 1"}));
}

TEST(DistributedGloo, WorldSizeOneIsANoOp) {
  Distributed alone;
  EXPECT_FALSE(alone.active());
  auto model = test::tiny_model(1);
  auto before = model->parameters()[0].clone();
  alone.broadcast_parameters(*model);
  EXPECT_TRUE(torch::equal(model->parameters()[0], before));
  EXPECT_EQ(alone.sum(2.5, "test"), 2.5);
  EXPECT_EQ(alone.sum(std::vector<double>{1.0, 2.0}, "test"), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(alone.rows(10).size(), 10);
}

}  // namespace
}  // namespace rlhf
