// RLOO data parallel through the real binary (`rlhf launch --nproc 2`): each process owns whole
// groups of one prompt's samples, the figures cover both ranks' groups, and a split that would cut
// a group is refused by name.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "ppo_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `rlhf launch --nproc 2 -- rlhf ppo ...`, output in `log`; returns its exit status.
int launch_ppo(const fs::path& config, const fs::path& out, const fs::path& log) {
  const std::string command = std::string(RLHF_BINARY) + " launch --nproc 2 --timeout 60 -- rlhf ppo --config '" +
                              config.string() + "' --out '" + out.string() + "' >'" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

PpoConfig two_rank_rloo(const fs::path& dir) {
  auto c = test::tiny_ppo_config(dir);
  c.algorithm = "rloo";
  c.samples_per_prompt = 4;  // rollout_size 8: one group per rank
  c.whiten_advantages = true;  // across both ranks' tokens
  c.iterations = 2;
  c.runtime.threads = 1;
  return c;
}

TEST(PpoGroupDistributed, EachRankOwnsWholeGroupsAndTheFiguresCoverBoth) {
  test::TempDir dir;
  auto config = two_rank_rloo(dir.path());
  std::ofstream(dir / "rloo.json") << json(config).dump(2);
  ASSERT_EQ(launch_ppo(dir / "rloo.json", dir / "out", dir / "rloo.log"), 0) << read_text(dir / "rloo.log");
  std::vector<json> lines;
  std::ifstream in(dir / "out" / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 2u);  // rank 0 alone writes
  EXPECT_EQ(lines[0]["first_ratio"].get<double>(), 1.0);
  EXPECT_EQ(lines[0]["kl"].get<double>(), 0.0);
  EXPECT_TRUE(lines[0].contains("reward_group_std"));
  EXPECT_FALSE(lines[0].contains("value_loss"));
  // Rank 0's sample table is its own rows: one whole group of four samples of one prompt.
  auto samples = json::parse(read_text(dir / "out" / "samples" / "iteration-00002.json"));
  ASSERT_EQ(samples.size(), 4u);
  for (const auto& s : samples) EXPECT_EQ(s["prompt"], samples[0]["prompt"]);
  auto summary = json::parse(read_text(dir / "out" / "summary.json"));
  EXPECT_EQ(summary["samples"], 16);
  EXPECT_EQ(summary["held_out_last"]["prompts"], 6);
}

TEST(PpoGroupDistributed, ASplitThatWouldCutAGroupIsRefused) {
  test::TempDir dir;
  auto config = two_rank_rloo(dir.path());
  config.rollout_size = 4;  // 2 rows per rank, a group is 4
  config.minibatch_size = 2;
  std::ofstream(dir / "rloo.json") << json(config).dump(2);
  EXPECT_NE(launch_ppo(dir / "rloo.json", dir / "out", dir / "rloo.log"), 0);
  EXPECT_NE(read_text(dir / "rloo.log").find("rollout_size / WORLD_SIZE 2 must be a multiple of samples_per_prompt 4"),
            std::string::npos)
      << read_text(dir / "rloo.log");
}

}  // namespace
}  // namespace rlhf
