// The backbone and importer against golden outputs of HF transformers (tests/data/hf-gpt2-tiny):
// logits, loss, gradients and a greedy continuation, compared value by value.
#include <gtest/gtest.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "model/generate.h"
#include "model/model_io.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

using nlohmann::json;

class HfParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    golden = json::parse(read_file(test::test_data("hf-gpt2-tiny/golden.json")));
    checkpoint = load_any_checkpoint(test::test_data("hf-gpt2-tiny"));
    model = build_gpt(checkpoint, torch::kCPU, "hf-gpt2-tiny");
    auto rows = golden["input_ids"].get<std::vector<std::vector<int64_t>>>();
    ids = torch::stack({torch::tensor(rows[0]), torch::tensor(rows[1])});  // (2, 12)
  }
  torch::Tensor next_token_loss() {
    auto logits = model->forward(ids).logits;                            // (2, 12, 1000)
    const int64_t T = ids.size(1);
    return model->loss(logits.narrow(1, 0, T - 1), ids.narrow(1, 1, T - 1));
  }
  json golden;
  Checkpoint checkpoint;
  GPT model{nullptr};
  torch::Tensor ids;
};

TEST_F(HfParityTest, ConfigIsReadFromTheHfDirectory) {
  EXPECT_EQ(checkpoint.model.n_layer, 2);
  EXPECT_EQ(checkpoint.model.n_head, 4);
  EXPECT_EQ(checkpoint.model.n_embd, 64);
  EXPECT_EQ(checkpoint.model.block_size, 64);
  EXPECT_EQ(checkpoint.model.vocab_size, 1000);
}

TEST_F(HfParityTest, LogitsOfFirstPositionsMatchWithin1e4) {
  torch::NoGradGuard no_grad;
  auto logits = model->forward(ids).logits;                              // (2, 12, 1000)
  double worst = 0.0;
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 3; ++t) {
      auto want = torch::tensor(golden["logits_first_positions"][b][t].get<std::vector<float>>());
      worst = std::max(worst, test::max_abs_diff(logits[b][t].narrow(0, 0, 16), want));
    }
  std::printf("max |logit - golden| = %.3g\n", worst);
  EXPECT_LT(worst, 1e-4);
  EXPECT_NEAR(logits.sum().item<double>(), golden["logits_sum"].get<double>(), 1e-2);
  auto argmax = logits.select(1, 11).argmax(-1);
  EXPECT_EQ(argmax[0].item<int64_t>(), golden["logits_last_position_argmax"][0].get<int64_t>());
  EXPECT_EQ(argmax[1].item<int64_t>(), golden["logits_last_position_argmax"][1].get<int64_t>());
}

TEST_F(HfParityTest, LossMatchesWithin1e5) {
  torch::NoGradGuard no_grad;
  double loss = next_token_loss().item<double>();
  std::printf("loss %.8f golden %.8f\n", loss, golden["loss"].get<double>());
  EXPECT_NEAR(loss, golden["loss"].get<double>(), 1e-5);
}

TEST_F(HfParityTest, GradientsMatchWithin1e4) {
  model->train();
  model->zero_grad();
  next_token_loss().backward();
  auto params = model->named_parameters();
  // HF's Conv1D stores (in, out): its flat order is our weight transposed.
  std::map<std::string, torch::Tensor> grads = {
      {"transformer.wte.weight", params["transformer.wte.weight"].grad()},
      {"transformer.h.0.attn.c_attn.weight", params["transformer.h.0.attn.c_attn.weight"].grad().t().contiguous()},
      {"transformer.ln_f.bias", params["transformer.ln_f.bias"].grad()},
  };
  for (const auto& [name, grad] : grads) {
    auto want = torch::tensor(golden["grad_first8"][name].get<std::vector<float>>());
    double diff = test::max_abs_diff(grad.flatten().narrow(0, 0, 8), want);
    std::printf("%s max |grad - golden| = %.3g\n", name.c_str(), diff);
    EXPECT_LT(diff, 1e-4) << name;
  }
}

TEST_F(HfParityTest, GreedyContinuationMatchesExactly) {
  SamplingConfig sampling;
  sampling.greedy = true;
  sampling.max_new_tokens = 20;
  auto prompt = golden["greedy_prompt"][0].get<std::vector<TokenId>>();
  auto out = generate(model, {prompt}, sampling, /*eos_id=*/-1);
  EXPECT_EQ(out.row_tokens(0), golden["greedy_continuation"].get<std::vector<TokenId>>());
}

}  // namespace
}  // namespace rlhf
