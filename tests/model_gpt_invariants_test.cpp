// Properties the backbone must keep whatever its weights: causality, padding invariance, cached
// decoding equal to full recomputation, GPT-2 initialisation and sizes, dropout only in training.
#include <gtest/gtest.h>

#include <cmath>

#include "model/gpt.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

TEST(GptInvariants, LogitsAtEarlierPositionsIgnoreLaterTokens) {
  auto model = test::tiny_model();
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {2, 10}, torch::kLong);
  auto changed = ids.clone();
  changed.narrow(1, 6, 4).random_(0, 50);                                     // only positions 6..9 differ
  auto a = model->forward(ids).logits, b = model->forward(changed).logits;   // (2, 10, 50)
  EXPECT_LT(test::max_abs_diff(a.narrow(1, 0, 6), b.narrow(1, 0, 6)), 1e-6);
  EXPECT_GT(test::max_abs_diff(a.narrow(1, 6, 4), b.narrow(1, 6, 4)), 1e-4);  // and later ones do change
}

TEST(GptInvariants, LeftPaddingDoesNotChangeLogitsOfRealTokens) {
  auto model = test::tiny_model(1);
  torch::NoGradGuard no_grad;
  auto short_ids = torch::randint(0, 50, {1, 5}, torch::kLong);
  auto long_ids = torch::randint(0, 50, {1, 9}, torch::kLong);
  // Batch them with the short one left-padded by 4 arbitrary tokens.
  auto padded = torch::cat({torch::full({1, 4}, 7, torch::kLong), short_ids}, 1);  // (1, 9)
  auto batch = torch::cat({padded, long_ids}, 0);                                  // (2, 9)
  auto mask = torch::ones({2, 9}, torch::kLong);
  mask[0].narrow(0, 0, 4).zero_();
  ForwardOptions options;
  options.attention_mask = mask;
  auto batched = model->forward(batch, options).logits;                            // (2, 9, 50)
  auto alone_short = model->forward(short_ids).logits;                             // (1, 5, 50)
  auto alone_long = model->forward(long_ids).logits;                               // (1, 9, 50)
  EXPECT_LT(test::max_abs_diff(batched[0].narrow(0, 4, 5), alone_short[0]), 1e-5);
  EXPECT_LT(test::max_abs_diff(batched[1], alone_long[0]), 1e-5);
  EXPECT_FALSE(batched.isnan().any().item<bool>());                                // padded rows stay finite
}

TEST(GptInvariants, IncrementalForwardWithCacheEqualsFullForward) {
  auto model = test::tiny_model(2);
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {3, 12}, torch::kLong);
  auto full = model->forward(ids).logits;                                          // (3, 12, 50)
  auto cache = model->make_cache(3, 12);
  ForwardOptions options;
  options.cache = &cache;
  auto first = model->forward(ids.narrow(1, 0, 7), options).logits;                // prompt of 7
  EXPECT_LT(test::max_abs_diff(first, full.narrow(1, 0, 7)), 1e-5);
  auto chunk = model->forward(ids.narrow(1, 7, 3), options).logits;                // then 3 at once
  EXPECT_LT(test::max_abs_diff(chunk, full.narrow(1, 7, 3)), 1e-5);
  for (int64_t t = 10; t < 12; ++t) {                                              // then one by one
    auto step = model->forward(ids.narrow(1, t, 1), options).logits;
    EXPECT_LT(test::max_abs_diff(step, full.narrow(1, t, 1)), 1e-5) << "position " << t;
  }
  EXPECT_EQ(cache.length, 12);
}

// One token at batch 1 goes through matrix-vector products (model/gpt.cpp `linear_forward`); its logits and
// gradients must be those of the matrix-matrix path that two identical rows take.
TEST(GptInvariants, SingleTokenForwardAndBackwardEqualTheBatchedPath) {
  auto one = test::tiny_model(3), two = test::tiny_model(3);
  auto id = torch::tensor({{11}}, torch::kLong);                                   // (1, 1)
  auto target = torch::tensor({{4}}, torch::kLong);
  auto logits_one = one->forward(id).logits;                                       // (1, 1, 50)
  auto logits_two = two->forward(id.repeat({2, 1})).logits;                        // (2, 1, 50)
  EXPECT_LT(test::max_abs_diff(logits_one[0], logits_two[0]), 1e-5);
  one->loss(logits_one, target).backward();
  two->loss(logits_two, target.repeat({2, 1})).backward();                         // mean of two equal rows
  auto grads_two = two->named_parameters();
  for (const auto& p : one->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_LT(test::max_abs_diff(p.value().grad(), grads_two[p.key()].grad()), 1e-5) << p.key();
  }
}

TEST(GptInvariants, LogitsFromGivesTheTailOfTheFullLogits) {
  auto model = test::tiny_model(4);
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {2, 10}, torch::kLong);
  auto full = model->forward(ids).logits;                                          // (2, 10, 50)
  ForwardOptions options;
  options.logits_from = 4;
  auto tail = model->forward(ids, options).logits;                                 // (2, 6, 50)
  ASSERT_EQ(tail.size(1), 6);
  EXPECT_LT(test::max_abs_diff(tail, full.narrow(1, 4, 6)), 1e-5);
  options.logits_from = 10;
  EXPECT_THROW(model->forward(ids, options), std::exception);
}

TEST(GptInvariants, SequenceLongerThanBlockSizeIsRejected) {
  auto model = test::tiny_model();
  auto ids = torch::zeros({1, 33}, torch::kLong);
  EXPECT_THROW(model->forward(ids), std::runtime_error);
}

// GPT-2's parameter count: wte V*C + wpe T*C + per layer (12 C^2 + 13 C) + ln_f 2C. The formula gives
// GPT-2 small's published 124,439,808; the model must have exactly as many parameters.
int64_t gpt2_parameter_count(const GPTConfig& c) {
  return c.vocab_size * c.n_embd + c.block_size * c.n_embd + c.n_layer * (12 * c.n_embd * c.n_embd + 13 * c.n_embd) +
         2 * c.n_embd;
}

TEST(GptInvariants, ParameterCountIsGpt2s) {
  GPTConfig small;
  small.n_layer = 12, small.n_head = 12, small.n_embd = 768, small.block_size = 1024, small.vocab_size = 50257;
  ASSERT_EQ(gpt2_parameter_count(small), 124439808);
  GPTConfig config;
  config.n_layer = 3, config.n_head = 6, config.n_embd = 192, config.block_size = 256, config.vocab_size = 4096;
  GPT model(config);
  EXPECT_EQ(model->num_parameters(/*exclude_position_embeddings=*/false), gpt2_parameter_count(config));
}

TEST(GptInvariants, InitialisationFollowsGpt2) {
  GPTConfig config = test::tiny_config();
  config.n_layer = 8, config.n_embd = 64, config.n_head = 4;
  torch::manual_seed(0);
  GPT model(config);
  auto p = model->named_parameters();
  EXPECT_NEAR(p["transformer.wte.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(p["transformer.h.0.mlp.c_fc.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(p["transformer.h.0.mlp.c_proj.weight"].std().item<double>(), 0.02 / std::sqrt(16.0), 0.0007);
  EXPECT_NEAR(p["transformer.h.3.attn.c_proj.weight"].std().item<double>(), 0.02 / std::sqrt(16.0), 0.0007);
  EXPECT_EQ(p["transformer.h.0.attn.c_attn.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(p["transformer.ln_f.weight"].min().item<double>(), 1.0);
}

TEST(GptInvariants, LmHeadIsTiedToTokenEmbedding) {
  auto model = test::tiny_model();
  for (const auto& item : model->named_parameters()) EXPECT_EQ(item.key().find("lm_head"), std::string::npos);
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {1, 4}, torch::kLong);
  auto out = model->forward(ids);
  auto expected = torch::matmul(out.hidden, model->transformer->wte->weight.t());  // (1, 4, 50)
  EXPECT_LT(test::max_abs_diff(out.logits, expected), 1e-6);
}

TEST(GptInvariants, DropoutActsOnlyInTrainingMode) {
  GPTConfig config = test::tiny_config();
  config.dropout = 0.5;
  auto model = test::tiny_model(3, config);
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {2, 8}, torch::kLong);
  EXPECT_EQ(test::max_abs_diff(model->forward(ids).logits, model->forward(ids).logits), 0.0);
  model->train();
  EXPECT_GT(test::max_abs_diff(model->forward(ids).logits, model->forward(ids).logits), 1e-3);
}

TEST(GptInvariants, ModelWithoutBiasesHasNone) {
  GPTConfig config = test::tiny_config();
  config.bias = false;
  GPT model(config);
  for (const auto& item : model->named_parameters()) EXPECT_EQ(item.key().find("bias"), std::string::npos) << item.key();
  auto out = model->forward(torch::zeros({1, 3}, torch::kLong));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{1, 3, 50}));
}

TEST(GptInvariants, InvalidConfigNamesTheField) {
  GPTConfig config = test::tiny_config();
  config.n_embd = 15;
  try {
    GPT model(config);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("n_embd"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlhf

namespace rlhf {
namespace {

TEST(GptFreeze, FreezingKeepsOnlyTheTopBlocksAndTheFinalNormTrainable) {
  auto model = test::tiny_model();
  const int64_t n_layer = model->config().n_layer;
  const int64_t frozen = freeze_lower_layers(*model, 1);
  int64_t expected_frozen = 0;
  for (const auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    const bool top = name.find("h." + std::to_string(n_layer - 1) + ".") != std::string::npos;
    const bool trainable = top || name.find("ln_f") != std::string::npos;
    EXPECT_EQ(p.value().requires_grad(), trainable) << name;
    if (!trainable) expected_frozen += p.value().numel();
  }
  EXPECT_EQ(frozen, expected_frozen);
  EXPECT_EQ(freeze_lower_layers(*test::tiny_model(), -1), 0);
}

}  // namespace
}  // namespace rlhf
