// Data parallelism end to end through the real binary: `rlhf launch --nproc 2` (Gloo on loopback)
// against one process with the same config and seed. Pretrain, SFT and reward training end with the
// same weights within 1e-5 and the same metrics, written once; PPO's figures cover both ranks'
// rollouts; a killed rank ends the job with an error naming it, and the last checkpoint stays intact.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "io/config.h"
#include "model/checkpoint.h"
#include "reward/reward_stage.h"
#include "sft/sft.h"
#include "ppo_test_util.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::project_file;
using test::TempDir;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command with stdout and stderr in `log`; returns its exit status.
int run(const std::string& command, const fs::path& log) {
  const int status = std::system((command + " >'" + log.string() + "' 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string rlhf_command(const std::string& stage, const fs::path& config, const fs::path& out, int nproc) {
  std::string cmd = std::string(RLHF_BINARY) + " ";
  if (nproc > 1) cmd += "launch --nproc " + std::to_string(nproc) + " --timeout 60 -- rlhf ";
  return cmd + stage + " --config '" + config.string() + "' --out '" + out.string() + "'";
}

void write_json(const fs::path& path, const json& j) { std::ofstream(path) << j.dump(2); }

// The key third of c_attn.bias has no gradient in exact arithmetic (it adds the same q . b_k to every
// score of a row, which softmax ignores): what it gets is rounding noise, which AdamW scales up to
// full-size steps, so it follows the summation order and is left out. Its query and value thirds count.
torch::Tensor comparable_part(const std::string& name, const torch::Tensor& w) {
  const std::string key_bias = "attn.c_attn.bias";
  if (name.size() < key_bias.size() || name.compare(name.size() - key_bias.size(), key_bias.size(), key_bias) != 0) return w;
  const int64_t C = w.size(0) / 3;
  return torch::cat({w.narrow(0, 0, C), w.narrow(0, 2 * C, C)});
}

double max_weight_difference(const fs::path& a, const fs::path& b) {
  auto wa = load_checkpoint(a).weights, wb = load_checkpoint(b).weights;
  EXPECT_EQ(wa.size(), wb.size());
  double diff = 0.0;
  for (const auto& [name, tensor] : wa) {
    EXPECT_TRUE(wb.count(name)) << name;
    if (wb.count(name))
      diff = std::max(diff, test::max_abs_diff(comparable_part(name, tensor), comparable_part(name, wb.at(name))));
  }
  return diff;
}

std::vector<json> metrics_lines(const fs::path& out) {
  std::vector<json> lines;
  std::ifstream in(out / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// Same number of lines (one writer), same steps, losses within tol.
void expect_same_metrics(const fs::path& one, const fs::path& two, const std::string& key, double tol) {
  auto a = metrics_lines(one), b = metrics_lines(two);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    if (a[i].contains(key)) {
      EXPECT_NEAR(a[i][key].get<double>(), b[i][key].get<double>(), tol) << "line " << i;
    }
  }
}

// A small pretraining run: 6 steps of 2 micro-batches of 4 windows, no dropout. Every stage here
// runs in fp32: the equivalences are of arithmetic, and under bf16 autocast a rank's rows round
// differently from the whole batch's (oneDNN picks its blocking by the matrix shape).
json pretrain_config(const fs::path& dir, int64_t max_steps = 6) {
  return {{"model", {{"n_layer", 2}, {"n_head", 2}, {"n_embd", 32}, {"block_size", 64}, {"dropout", 0.0}}},
          {"tokenizer", {{"train_vocab_size", 300}, {"train_files", {project_file("data/corpus/us_constitution.txt").string()}}}},
          {"data", {{"files", {project_file("data/corpus/us_constitution.txt").string()}}, {"cache_dir", (dir / "cache").string()}}},
          {"train", {{"max_steps", max_steps}, {"batch_size", 4}, {"grad_accum", 2}, {"lr", 1e-3}, {"warmup_steps", 2},
                     {"eval_every", 3}, {"log_every", 1}, {"precision", "fp32"}}},
          {"eval_batches", 2},
          {"runtime", {{"device", "cpu"}, {"threads", 1}}}};
}

class DataParallel : public ::testing::Test {
 protected:
  // One pretraining run by one process, shared by the tests as their starting checkpoint.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_json(*dir_ / "pretrain.json", pretrain_config(dir_->path()));
    ASSERT_EQ(run(rlhf_command("pretrain", *dir_ / "pretrain.json", *dir_ / "one", 1), *dir_ / "one.log"), 0)
        << read_text(*dir_ / "one.log");
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
};
TempDir* DataParallel::dir_ = nullptr;

TEST_F(DataParallel, PretrainOnTwoProcessesEqualsOneProcess) {
  const fs::path out = *dir_ / "two";
  ASSERT_EQ(run(rlhf_command("pretrain", *dir_ / "pretrain.json", out, 2), *dir_ / "two.log"), 0)
      << read_text(*dir_ / "two.log");
  EXPECT_LT(max_weight_difference(*dir_ / "one" / "last", out / "last"), 1e-5);
  EXPECT_LT(max_weight_difference(*dir_ / "one" / "best", out / "best"), 1e-5);
  expect_same_metrics(*dir_ / "one", out, "loss", 1e-5);
  expect_same_metrics(*dir_ / "one", out, "val_loss", 1e-5);
  EXPECT_EQ(load_checkpoint(out / "last").trainer_state["world_size"], 2);
  // The same tokens per step in all: each rank counted its own rows.
  EXPECT_EQ(metrics_lines(out).front()["tokens_seen"], metrics_lines(*dir_ / "one").front()["tokens_seen"]);
  const std::string log = read_text(*dir_ / "two.log");
  EXPECT_NE(log.find("data parallel on 2 processes"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "summary.json"));
}

TEST_F(DataParallel, SftOnTwoProcessesEqualsOneProcess) {
  json config = {{"init_from", (*dir_ / "one" / "last").string()},
                 {"data", {{"files", {project_file("data/sft/self-instruct/seed_tasks.jsonl").string()}}, {"eval_fraction", 0.1},
                           {"max_examples", 120}}},
                 {"train", {{"max_steps", 4}, {"batch_size", 6}, {"grad_accum", 2}, {"lr", 1e-3}, {"warmup_steps", 1},
                            {"eval_every", 2}, {"log_every", 1}, {"precision", "fp32"}}},
                 {"runtime", {{"device", "cpu"}, {"threads", 1}}}};
  write_json(*dir_ / "sft.json", config);
  ASSERT_EQ(run(rlhf_command("sft", *dir_ / "sft.json", *dir_ / "sft1", 1), *dir_ / "sft1.log"), 0) << read_text(*dir_ / "sft1.log");
  ASSERT_EQ(run(rlhf_command("sft", *dir_ / "sft.json", *dir_ / "sft2", 2), *dir_ / "sft2.log"), 0) << read_text(*dir_ / "sft2.log");
  EXPECT_LT(max_weight_difference(*dir_ / "sft1" / "last", *dir_ / "sft2" / "last"), 1e-5);
  expect_same_metrics(*dir_ / "sft1", *dir_ / "sft2", "loss", 1e-5);
  expect_same_metrics(*dir_ / "sft1", *dir_ / "sft2", "eval_loss", 1e-5);
}

TEST_F(DataParallel, RewardOnTwoProcessesEqualsOneProcess) {
  json config = {{"init_from", (*dir_ / "one" / "last").string()},
                 {"data", {{"train_files", {project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz").string()}},
                           {"eval_files", {project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz").string()}},
                           {"max_train_groups", 200}}},
                 {"normalize", {{"mode", "bias"}, {"reference_files", {project_file("data/sft/self-instruct/seed_tasks.jsonl").string()}},
                                {"max_reference", 20}}},
                 {"train", {{"max_steps", 4}, {"batch_size", 4}, {"grad_accum", 2}, {"lr", 1e-3}, {"warmup_steps", 1},
                            {"eval_every", 2}, {"log_every", 1}, {"precision", "fp32"}}},
                 {"runtime", {{"device", "cpu"}, {"threads", 1}}}};
  write_json(*dir_ / "reward.json", config);
  ASSERT_EQ(run(rlhf_command("reward", *dir_ / "reward.json", *dir_ / "rm1", 1), *dir_ / "rm1.log"), 0) << read_text(*dir_ / "rm1.log");
  ASSERT_EQ(run(rlhf_command("reward", *dir_ / "reward.json", *dir_ / "rm2", 2), *dir_ / "rm2.log"), 0) << read_text(*dir_ / "rm2.log");
  EXPECT_LT(max_weight_difference(*dir_ / "rm1" / "best", *dir_ / "rm2" / "best"), 1e-5);
  expect_same_metrics(*dir_ / "rm1", *dir_ / "rm2", "loss", 1e-5);
  auto s1 = json::parse(read_text(*dir_ / "rm1" / "summary.json")), s2 = json::parse(read_text(*dir_ / "rm2" / "summary.json"));
  EXPECT_NEAR(s1["eval_accuracy"].get<double>(), s2["eval_accuracy"].get<double>(), 1e-9);
}

TEST_F(DataParallel, PpoFiguresCoverEveryRanksRollouts) {
  TempDir dir;
  PpoConfig config = test::tiny_ppo_config(dir.path());
  config.iterations = 2;
  config.rollout_size = 8;
  config.minibatch_size = 4;
  config.runtime.threads = 1;
  write_json(dir / "ppo.json", json(config));
  ASSERT_EQ(run(rlhf_command("ppo", dir / "ppo.json", dir / "ppo2", 2), dir / "ppo2.log"), 0) << read_text(dir / "ppo2.log");
  auto lines = metrics_lines(dir / "ppo2");
  ASSERT_EQ(lines.size(), 2u);  // rank 0 alone writes
  EXPECT_EQ(lines[0]["first_ratio"].get<double>(), 1.0);  // both ranks' first minibatch is on-policy
  EXPECT_EQ(lines[0]["kl"].get<double>(), 0.0);
  EXPECT_TRUE(lines[0].contains("allreduce_s"));
  auto summary = json::parse(read_text(dir / "ppo2" / "summary.json"));
  EXPECT_EQ(summary["held_out_last"]["prompts"], 6);  // 3 held-out prompts per rank, counted together
  EXPECT_EQ(summary["samples"], 16);
  EXPECT_EQ(load_checkpoint(dir / "ppo2" / "last").trainer_state["next_iteration"], 2);
}

TEST_F(DataParallel, SettingsThatDoNotSplitOverTheRanksAreRefused) {
  TempDir dir;
  PpoConfig config = test::tiny_ppo_config(dir.path());
  config.rollout_size = 7;
  write_json(dir / "ppo.json", json(config));
  EXPECT_NE(run(rlhf_command("ppo", dir / "ppo.json", dir / "ppo", 2), dir / "ppo.log"), 0);
  EXPECT_NE(read_text(dir / "ppo.log").find("multiples of WORLD_SIZE 2"), std::string::npos) << read_text(dir / "ppo.log");

  json pretrain = pretrain_config(dir.path());
  pretrain["train"]["batch_size"] = 1;
  write_json(dir / "pretrain.json", pretrain);
  EXPECT_NE(run(rlhf_command("pretrain", dir / "pretrain.json", dir / "pre", 2), dir / "pre.log"), 0);
  EXPECT_NE(read_text(dir / "pre.log").find("train.batch_size 1 is smaller than WORLD_SIZE 2"), std::string::npos)
      << read_text(dir / "pre.log");
}

TEST_F(DataParallel, KillingOneRankEndsTheOtherWithAnErrorNamingItAndKeepsTheCheckpoint) {
  TempDir dir;
  json config = pretrain_config(dir.path(), /*max_steps=*/100000);
  config["train"]["eval_every"] = 5;
  write_json(dir / "pretrain.json", config);
  const fs::path out = dir / "out", log = dir / "launch.log";
  const std::string command = std::string(RLHF_BINARY) + " launch --nproc 2 --timeout 20 -- rlhf pretrain --config '" +
                              (dir / "pretrain.json").string() + "' --out '" + out.string() + "'";
  const pid_t launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    execl("/bin/sh", "sh", "-c", (command + " >'" + log.string() + "' 2>&1").c_str(), nullptr);
    _exit(127);
  }
  // Wait for a checkpoint, then kill rank 1 (its pid is in the launcher's log).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(out / "last" / "trainer_state.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(fs::exists(out / "last" / "trainer_state.json")) << read_text(log);
  std::smatch match;
  const std::string started = read_text(log);
  ASSERT_TRUE(std::regex_search(started, match, std::regex("rank 1 is pid ([0-9]+)"))) << started;
  const pid_t rank1 = std::stoi(match[1]);
  ASSERT_EQ(kill(rank1, SIGKILL), 0);
  const auto killed_at = std::chrono::steady_clock::now();

  int status = 0;
  waitpid(launcher, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  const std::string text = read_text(log);
  EXPECT_LT(seconds, 20.0) << text;  // the collective timeout
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(text.find("distributed: rank 0 of 2"), std::string::npos) << text;
  EXPECT_NE(text.find("lost peer rank 1 (pid " + std::to_string(rank1)), std::string::npos) << text;
  EXPECT_NE(text.find("launch: rank 1 (pid " + std::to_string(rank1) + ") was killed by signal"), std::string::npos) << text;
  // The last checkpoint is whole: it loads and can be resumed from.
  auto last = load_checkpoint(out / "last");
  EXPECT_GE(last.trainer_state["next_step"].get<int64_t>(), 5);
}

}  // namespace
}  // namespace rlhf
