// Autograd through one transformer block against central finite differences, in double precision.
#include <gtest/gtest.h>

#include "model/gpt.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

TEST(GradCheck, BlockGradientsMatchFiniteDifferencesInDouble) {
  torch::manual_seed(0);
  GPTConfig config = test::tiny_config();
  config.n_embd = 8;
  Block block(config);
  block->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;  // non-trivial LayerNorm parameters so their gradients are exercised
    for (auto& p : block->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  auto x = torch::randn({2, 5, 8}, torch::kDouble).requires_grad_(true);
  auto weights = torch::randn({2, 5, 8}, torch::kDouble);  // loss = sum(block(x) * weights)
  auto loss_of = [&] { return (block->forward(x, {}, nullptr, 0) * weights).sum(); };

  block->zero_grad();
  loss_of().backward();

  std::vector<std::pair<std::string, torch::Tensor>> checked = {{"x", x}};
  for (auto& item : block->named_parameters()) checked.emplace_back(item.key(), item.value());
  const double eps = 1e-6;
  double worst = 0.0;
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : checked) {
    auto flat = tensor.view(-1);
    auto grad = tensor.grad().view(-1);
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 7)) {
      double saved = flat[i].item<double>();
      flat[i] = saved + eps;
      double up = loss_of().item<double>();
      flat[i] = saved - eps;
      double down = loss_of().item<double>();
      flat[i] = saved;
      double numeric = (up - down) / (2 * eps), analytic = grad[i].item<double>();
      double err = std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric));
      worst = std::max(worst, err);
      EXPECT_LT(err, 1e-6) << name << "[" << i << "] numeric " << numeric << " autograd " << analytic;
    }
  }
  std::printf("worst relative gradient error %.3g\n", worst);
}

}  // namespace
}  // namespace rlhf
