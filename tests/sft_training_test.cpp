// The SFT loss and the shared training loop: masking, padding, accumulation and exact resume.
#include <gtest/gtest.h>

#include <fstream>

#include "io/atomic_file.h"
#include "model/checkpoint.h"
#include "model/precision.h"
#include "model/state_dict.h"
#include "sft/sft.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<TokenizedExample> examples() {
  std::vector<Demonstration> demos = {{format_prompt("What is the Senate?"), " A chamber of Congress."},
                                      {format_prompt("Who may vote?"), " The People of the several States, at least."},
                                      {format_prompt("Hi"), " Hello."}};
  return tokenize_demonstrations(demos, test::constitution_tokenizer(), 64, nullptr);
}

GPT tiny_lm() {
  GPTConfig config = test::tiny_config();
  config.vocab_size = test::constitution_tokenizer().vocab_size();
  config.block_size = 64;
  return test::tiny_model(3, config);
}

TEST(SftLoss, PromptTargetsContributeNothingToLossOrGradient) {
  auto model = tiny_lm();
  auto ex = examples();
  auto batch = make_sft_batch({&ex[0], &ex[1]});
  auto grads_of = [&](const SftBatch& b, double lm_coef, double* loss) {
    model->zero_grad();
    auto l = sft_loss(model, b, 10.0, 10.0, lm_coef);
    l.backward();
    *loss = l.item<double>();
    return model->transformer->h[0]->as<Block>()->attn->c_attn->weight.grad().clone();
  };
  double loss_a, loss_b;
  auto grad_a = grads_of(batch, 0.0, &loss_a);
  auto scrambled = batch;
  scrambled.target = batch.target.clone();
  scrambled.target.masked_fill_(batch.prompt_mask.to(torch::kBool), 7);  // change every prompt target
  auto grad_b = grads_of(scrambled, 0.0, &loss_b);
  EXPECT_EQ(loss_a, loss_b);
  EXPECT_TRUE(torch::equal(grad_a, grad_b));
  // ...whereas with the auxiliary LM loss they do count.
  double loss_c, loss_d;
  grads_of(batch, 0.5, &loss_c);
  grads_of(scrambled, 0.5, &loss_d);
  EXPECT_NE(loss_c, loss_d);
}

TEST(SftLoss, MasksCoverResponseAndEosOnly) {
  auto ex = examples();
  auto batch = make_sft_batch({&ex[2]});
  const int64_t n = static_cast<int64_t>(ex[2].ids.size());
  EXPECT_EQ(batch.response_tokens, n - ex[2].prompt_length);            // response tokens + EOS
  EXPECT_EQ(batch.prompt_tokens, ex[2].prompt_length - 1);
  EXPECT_EQ(batch.target[0][n - 2].item<int64_t>(), test::constitution_tokenizer().eot_id());
}

TEST(SftLoss, PaddingInABatchDoesNotChangeTheLoss) {
  auto model = tiny_lm();
  torch::NoGradGuard no_grad;
  auto ex = examples();
  auto together = make_sft_batch({&ex[0], &ex[1], &ex[2]});
  double sum = 0.0;
  for (auto& e : ex) sum += sft_loss(model, make_sft_batch({&e}), 1.0, 1.0, 0.0).item<double>();
  EXPECT_NEAR(sft_loss(model, together, 1.0, 1.0, 0.0).item<double>(), sum, 1e-4);
}

class SftRunTest : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tiny_checkpoint(tmp / "base"); }
  SftConfig config(const std::string& out, int64_t batch, int64_t accum) {
    SftConfig c;
    c.init_from = (tmp / "base").string();
    c.data.files = {test::project_file("data/sft/self-instruct/seed_tasks.jsonl").string()};
    c.data.eval_fraction = 0.1;
    c.train.max_steps = 6;
    c.train.batch_size = batch;
    c.train.grad_accum = accum;
    c.train.lr = 1e-3;
    c.train.warmup_steps = 2;
    c.train.eval_every = 3;
    c.train.log_every = 1;
    c.out_dir = (tmp / out).string();
    c.runtime.device = "cpu";
    return c;
  }
  std::vector<double> losses(const std::string& out) { return test::logged_losses(tmp / out / "metrics.jsonl"); }
  safetensors::TensorMap weights(const std::string& out) { return load_checkpoint(tmp / out / "last").weights; }
  test::TempDir tmp;
};

// In fp32: under bf16 autocast one row and eight round differently (oneDNN's blocking follows the shape).
TEST_F(SftRunTest, GradientAccumulationOneByEightEqualsEightByOne) {
  auto big = config("big", 8, 1), accum = config("accum", 1, 8);
  big.train.precision = accum.train.precision = "fp32";
  run_sft(big, false);
  run_sft(accum, false);
  auto a = weights("big"), b = weights("accum");
  double worst = 0.0;
  for (const auto& [name, t] : a) worst = std::max(worst, test::max_abs_diff(t, b.at(name)));
  std::printf("max |w(8x1) - w(1x8)| after 6 steps = %.3g\n", worst);
  EXPECT_LT(worst, 1e-5);
  auto la = losses("big"), lb = losses("accum");
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lb[i], 1e-5);
}

TEST_F(SftRunTest, StoppingAndResumingGivesTheSameLossesAsAnUninterruptedRun) {
  auto summary = run_sft(config("straight", 4, 1), false);
  auto interrupted = config("resumed", 4, 1);
  interrupted.train.stop_at = 4;
  run_sft(interrupted, false);
  EXPECT_EQ(load_checkpoint(tmp / "resumed" / "last").trainer_state["next_step"], 4);
  interrupted.train.stop_at = 0;
  auto resumed = run_sft(interrupted, true);
  EXPECT_EQ(losses("straight"), losses("resumed"));  // metrics.jsonl holds each step once
  auto a = weights("straight"), b = weights("resumed");
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  EXPECT_DOUBLE_EQ(summary["eval_loss"].get<double>(), resumed["eval_loss"].get<double>());
}

TEST_F(SftRunTest, OutputsHaveSummaryConfigAndCheckpoints) {
  auto summary = run_sft(config("out", 4, 1), false);
  for (const char* key : {"base_eval_loss", "eval_loss", "train_loss_first", "train_loss_last", "steps", "tokens_per_s"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_TRUE(fs::exists(tmp / "out" / "summary.json"));
  EXPECT_TRUE(fs::exists(tmp / "out" / "config.json"));
  EXPECT_TRUE(is_native_checkpoint(tmp / "out" / "best"));
  EXPECT_TRUE(has_optimizer_state(tmp / "out" / "last"));
  EXPECT_EQ(summary["steps"], 6);
  const Precision chosen = choose_precision("auto", torch::kCPU, "train.precision");
  EXPECT_EQ(summary["precision"], chosen.to_json());
}

// bf16 autocast is forced, so that every CPU runs it (emulated where it has no bf16 units).
TEST_F(SftRunTest, Bf16AutocastTrainsToTheFp32LossAndKeepsFloatWeights) {
  auto fp32 = config("fp32", 4, 1), bf16 = config("bf16", 4, 1);
  fp32.train.precision = "fp32", bf16.train.precision = "bf16";
  auto a = run_sft(fp32, false), b = run_sft(bf16, false);
  EXPECT_EQ(b["precision"]["autocast"], "bf16");
  EXPECT_EQ(a["precision"]["autocast"], "off");
  EXPECT_LT(b["eval_loss"].get<double>(), b["base_eval_loss"].get<double>());
  EXPECT_NEAR(a["eval_loss"].get<double>(), b["eval_loss"].get<double>(), 0.05);
  EXPECT_NE(a["eval_loss"].get<double>(), b["eval_loss"].get<double>());  // it did run in bf16
  for (const auto& [name, t] : weights("bf16")) EXPECT_EQ(t.scalar_type(), torch::kFloat) << name;
}

TEST_F(SftRunTest, ResumeWithoutACheckpointIsAClearError) {
  try {
    run_sft(config("none", 4, 1), true);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint"), std::string::npos) << e.what();
  }
}

TEST_F(SftRunTest, DivergingLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  auto c = config("nan", 4, 1);
  c.train.stop_at = 3;
  run_sft(c, false);
  c.train.stop_at = 0;
  c.train.lr = 1e30;  // blows up on the first resumed step
  c.train.grad_clip = 0.0;
  try {
    run_sft(c, true);
    FAIL() << "expected the run to stop";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step "), std::string::npos) << e.what();
  }
  EXPECT_EQ(load_checkpoint(tmp / "nan" / "last").trainer_state["next_step"], 3);
}

}  // namespace
}  // namespace rlhf
