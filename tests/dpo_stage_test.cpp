// `rlhf dpo` end to end on a tiny model: it learns held-out preferences from pairs, starts at the
// loss of a policy equal to its reference, resumes exactly with the reference log-probs cached,
// recomputes a stale cache, and refuses bad settings by name.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "dpo/dpo_stage.h"
#include "model/checkpoint.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Pairs whose chosen response names the legislature and whose rejected one the other branches:
// different random sentences in every file, so held-out pairs can only be ranked by what was learnt.
void write_pairs(const fs::path& file, int n, uint32_t seed) {
  const std::vector<std::string> good = {"Congress", "Senate", "House", "Representatives"};
  const std::vector<std::string> bad = {"President", "Judges", "Court", "Officers"};
  std::mt19937 rng(seed);
  auto sentence = [&](const std::vector<std::string>& words) {
    std::string s = "The";
    const int length = 2 + static_cast<int>(rng() % 3);
    for (int i = 0; i < length; ++i) s += " " + words[rng() % words.size()];
    return s + ".";
  };
  std::ofstream out(file);
  for (int i = 0; i < n; ++i)
    out << json{{"prompt", "Who makes the law number " + std::to_string(i) + "?"},
                {"chosen", sentence(good)},
                {"rejected", sentence(bad)}}
               .dump()
        << "\n";
}

class DpoStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_tiny_checkpoint(tmp / "sft");
    write_pairs(tmp / "train.jsonl", 160, 1);
    write_pairs(tmp / "eval.jsonl", 48, 2);
  }
  DpoConfig config(const std::string& out, int64_t steps) const {
    DpoConfig c;
    c.init_from = (tmp / "sft").string();
    c.data.train_files = {(tmp / "train.jsonl").string()};
    c.data.eval_files = {(tmp / "eval.jsonl").string()};
    c.data.valid_percent = 15;
    c.train.max_steps = steps;
    c.train.batch_size = 8;
    c.train.lr = 3e-3;
    c.train.min_lr = 3e-4;
    c.train.warmup_steps = 2;
    c.train.eval_every = 10;
    c.train.log_every = 1;
    c.train.precision = "fp32";
    c.out_dir = (tmp / out).string();
    c.runtime.device = "cpu";
    return c;
  }
  std::vector<double> losses(const std::string& out) const { return test::logged_losses(tmp / out / "metrics.jsonl"); }
  test::TempDir tmp;
};

TEST_F(DpoStageTest, LearnsHeldOutPreferencesStartingFromTheReferenceLoss) {
  auto s = run_dpo(config("learn", 40), false);
  std::printf("dpo: held-out implicit-reward accuracy %.3f, margin %.3f, loss %.3f -> %.3f\n",
              s["eval_accuracy"].get<double>(), s["eval_margin"].get<double>(), s["train_loss_first"].get<double>(),
              s["train_loss_last"].get<double>());
  EXPECT_NEAR(s["train_loss_first"].get<double>(), std::log(2.0), 1e-5);  // the policy starts as its reference
  EXPECT_EQ(s["eval_pairs"], 48);
  EXPECT_GT(s["eval_accuracy"].get<double>(), 0.85);
  EXPECT_GT(s["eval_margin"].get<double>(), 0.0);
  EXPECT_GT(s["eval_chosen_reward"].get<double>(), s["eval_rejected_reward"].get<double>());
  EXPECT_LT(s["eval_loss"].get<double>(), std::log(2.0));
  // The policy alone now finds the chosen replies more likely than its reference did.
  EXPECT_GT(s["policy_likelihood_accuracy"].get<double>(), s["reference_likelihood_accuracy"].get<double>());
  // The bars, on the same held-out pairs.
  EXPECT_TRUE(s.contains("bag_of_words_accuracy"));
  EXPECT_TRUE(s.contains("length_baseline_accuracy"));
  auto checkpoint = load_checkpoint(tmp / "learn" / "best");
  EXPECT_EQ(checkpoint.info["kind"], "gpt");
  EXPECT_EQ(checkpoint.info["stage"], "dpo");
}

TEST_F(DpoStageTest, IpoStartsAtTheSquaredTargetMargin) {
  auto c = config("ipo", 3);
  c.loss = "ipo";
  c.beta = 0.1;
  auto s = run_dpo(c, false);
  EXPECT_NEAR(s["train_loss_first"].get<double>(), 25.0, 1e-4);  // (0 - 1 / (2 * 0.1))^2
}

TEST_F(DpoStageTest, StoppingAndResumingGivesTheSameRunAndReusesTheCachedReference) {
  auto straight = run_dpo(config("straight", 8), false);
  auto interrupted = config("resumed", 8);
  interrupted.train.stop_at = 4;
  run_dpo(interrupted, false);
  const fs::path cache = tmp / "resumed" / "reference_logprobs.json";
  ASSERT_TRUE(fs::exists(cache));
  const auto written = fs::last_write_time(cache);
  interrupted.train.stop_at = 0;
  auto resumed = run_dpo(interrupted, true);
  EXPECT_EQ(fs::last_write_time(cache), written);  // read, not recomputed
  EXPECT_EQ(losses("straight"), losses("resumed"));
  auto a = load_checkpoint(tmp / "straight" / "last").weights, b = load_checkpoint(tmp / "resumed" / "last").weights;
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  EXPECT_DOUBLE_EQ(straight["eval_loss"].get<double>(), resumed["eval_loss"].get<double>());
}

TEST_F(DpoStageTest, AStaleReferenceCacheIsRecomputed) {
  auto fresh = run_dpo(config("fresh", 2), false);
  fs::create_directories(tmp / "stale");
  std::ofstream(tmp / "stale" / "reference_logprobs.json") << R"({"fingerprint": "0", "logprobs": [1, 2, 3]})";
  auto stale = run_dpo(config("stale", 2), false);
  EXPECT_EQ(losses("fresh"), losses("stale"));
  EXPECT_DOUBLE_EQ(fresh["eval_loss"].get<double>(), stale["eval_loss"].get<double>());
}

TEST_F(DpoStageTest, BadSettingsAreRefusedByName) {
  auto expect_error = [&](DpoConfig c, const std::string& field) {
    try {
      run_dpo(c, false);
      FAIL() << "expected an error naming " << field;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  auto c = config("bad", 2);
  c.loss = "hinge";
  expect_error(c, "loss");
  c = config("bad", 2);
  c.beta = 0.0;
  expect_error(c, "beta");
  c = config("bad", 2);
  c.label_smoothing = 0.5;
  expect_error(c, "label_smoothing");
  c = config("bad", 2);
  c.loss = "ipo";
  c.label_smoothing = 0.1;
  expect_error(c, "label_smoothing");
  c = config("bad", 2);
  c.data.eval_files = c.data.train_files;  // a file used whole cannot also be held out
  expect_error(c, "data.eval_files");
  EXPECT_FALSE(fs::exists(tmp / "bad" / "last"));
}

}  // namespace
}  // namespace rlhf
