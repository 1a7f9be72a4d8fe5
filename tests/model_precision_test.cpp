// model/precision: which precision a stage runs in on which device, bad settings named, and what a
// BF16Autocast scope does to the model's computations on the CPU.
#include <gtest/gtest.h>

#include "model/gpt.h"
#include "model/precision.h"

namespace rlhf {
namespace {

const torch::Device kCuda(torch::kCUDA, 0);

TEST(Precision, AutoIsBf16OnCudaAndOnACpuWithBf16Units) {
  EXPECT_TRUE(choose_precision("auto", kCuda, "train.precision", "").bf16);
  const Precision amx = choose_precision("auto", torch::kCPU, "train.precision", "AMX");
  EXPECT_TRUE(amx.bf16);
  EXPECT_EQ(amx.reason, "CPU with AMX");
  const Precision avx = choose_precision("auto", torch::kCPU, "train.precision", "AVX512-BF16");
  EXPECT_TRUE(avx.bf16);
  EXPECT_EQ(avx.describe(), "precision auto: bf16 autocast (CPU with AVX512-BF16)");
}

TEST(Precision, AutoIsFp32OnACpuWithoutBf16Units) {
  const Precision p = choose_precision("auto", torch::kCPU, "train.precision", "");
  EXPECT_FALSE(p.bf16);
  EXPECT_EQ(p.to_json(), (nlohmann::json{{"setting", "auto"}, {"autocast", "off"}, {"reason", "CPU without bf16 units"}}));
}

TEST(Precision, ExplicitSettingsWinOverTheDevice) {
  EXPECT_FALSE(choose_precision("fp32", kCuda, "precision", "").bf16);
  EXPECT_FALSE(choose_precision("fp32", torch::kCPU, "precision", "AMX").bf16);
  const Precision emulated = choose_precision("bf16", torch::kCPU, "precision", "");
  EXPECT_TRUE(emulated.bf16);
  EXPECT_NE(emulated.reason.find("emulated"), std::string::npos) << emulated.reason;
}

TEST(Precision, BadSettingsNameTheField) {
  try {
    choose_precision("fp16", torch::kCPU, "ppo: precision");
    FAIL() << "fp16 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "ppo: precision \"fp16\": expected auto, bf16 or fp32");
  }
}

TEST(BF16Autocast, ScopesNestAndRestoreTheThreadState) {
  ASSERT_FALSE(bf16_autocast_enabled(torch::kCPU));
  {
    BF16Autocast on(true, torch::kCPU);
    EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU));
    EXPECT_FALSE(bf16_autocast_enabled(kCuda));  // one device type at a time
    {
      BF16Autocast off(false, torch::kCPU);  // a disabled scope leaves the state alone
      EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU));
      BF16Autocast inner(true, torch::kCPU);
    }
    EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU));
  }
  EXPECT_FALSE(bf16_autocast_enabled(torch::kCPU));
}

GPTConfig tiny_config() {
  GPTConfig c;
  c.n_layer = 2, c.n_head = 2, c.n_embd = 32, c.block_size = 16, c.vocab_size = 50, c.dropout = 0.0;
  return c;
}

TEST(BF16Autocast, MatmulsRunInBf16WhileWeightsAndGradientsStayFloat) {
  torch::manual_seed(0);
  GPT model(tiny_config());
  auto ids = torch::randint(0, 50, {2, 8}, torch::kLong);
  torch::Tensor logits, loss;
  {
    BF16Autocast autocast(true, torch::kCPU);
    logits = model->forward(ids).logits;
    loss = model->loss(logits, ids);
  }
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);  // the loss's softmax is taken in float
  loss.backward();
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), torch::kFloat);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
  }
  torch::NoGradGuard no_grad;
  auto fp32 = model->forward(ids).logits;
  EXPECT_EQ(fp32.scalar_type(), torch::kFloat);
  EXPECT_FALSE(torch::equal(fp32, logits.to(torch::kFloat)));         // really computed in bf16
  EXPECT_TRUE(torch::allclose(fp32, logits.to(torch::kFloat), 0.05, 0.05));  // and close to fp32
}

TEST(BF16Autocast, TheKvCacheIsBf16AndDecodingMatchesTheFullForward) {
  torch::manual_seed(0);
  GPT model(tiny_config());
  model->eval();
  torch::NoGradGuard no_grad;
  BF16Autocast autocast(true, torch::kCPU);
  auto ids = torch::randint(0, 50, {1, 6}, torch::kLong);                 // (1, 6)
  auto full = model->forward(ids).logits.to(torch::kFloat);              // (1, 6, V)
  KVCache cache = model->make_cache(1, 6);
  EXPECT_EQ(cache.k[0].scalar_type(), torch::kBFloat16);
  ForwardOptions options;
  options.cache = &cache;
  model->forward(ids.narrow(1, 0, 5), options);                          // the prompt, then one step
  auto step = model->forward(ids.narrow(1, 5, 1), options).logits.to(torch::kFloat);  // (1, 1, V): one row (mv path)
  EXPECT_TRUE(torch::allclose(step.select(1, 0), full.select(1, 5), 0.05, 0.05));
}

}  // namespace
}  // namespace rlhf
