// model/attention: the matmul path computes what scaled_dot_product_attention computes (causal, with
// a padding mask, with cached keys), and attention() takes it only for bf16 on the CPU with several
// queries over a short context.
#include <gtest/gtest.h>

#include <limits>

#include "model/attention.h"

namespace rlhf {
namespace {

struct Qkv {
  torch::Tensor q, k, v;  // (B, nh, T, hs), (B, nh, S, hs), (B, nh, S, hs)
};

// Drawn in fp32 and rounded to `dtype`, so that both dtypes hold the same values where they can.
Qkv random_qkv(int64_t B, int64_t nh, int64_t T, int64_t S, int64_t hs, torch::Dtype dtype = torch::kFloat) {
  torch::manual_seed(0);
  auto draw = [dtype](std::vector<int64_t> shape) { return torch::randn(shape).to(dtype).requires_grad_(); };
  return {draw({B, nh, T, hs}), draw({B, nh, S, hs}), draw({B, nh, S, hs})};
}

Qkv to_fp32(const Qkv& x) {
  auto up = [](const torch::Tensor& t) { return t.detach().to(torch::kFloat).requires_grad_(); };
  return {up(x.q), up(x.k), up(x.v)};
}

torch::Tensor sdpa(const Qkv& x, const torch::Tensor& mask, bool causal) {
  auto attn_mask = mask.defined() ? c10::optional<at::Tensor>(mask) : c10::nullopt;
  return at::scaled_dot_product_attention(x.q, x.k, x.v, attn_mask, 0.0, causal);
}

// (B, 1, T, T): causal, and the first `pad[b]` keys of row b are padding (each query still sees itself).
torch::Tensor padding_mask(const std::vector<int64_t>& pad, int64_t T) {
  auto allowed = torch::ones({T, T}, torch::kBool).tril();                   // (T, T)
  std::vector<torch::Tensor> rows;
  for (int64_t p : pad) {
    auto real = torch::arange(T) >= p;                                       // (T) keys
    rows.push_back(allowed & (real.view({1, T}) | torch::eye(T, torch::kBool)));
  }
  return torch::stack(rows).unsqueeze(1);                                    // (B, 1, T, T)
}

// Output and the gradients of q, k and v for a fixed upstream gradient.
std::vector<torch::Tensor> output_and_grads(const Qkv& x, const torch::Tensor& y) {
  torch::manual_seed(1);
  auto upstream = torch::randn(y.sizes()).to(y.scalar_type());  // the same values in either dtype
  auto grads = torch::autograd::grad({y}, {x.q, x.k, x.v}, {upstream});
  return {y.detach(), grads[0], grads[1], grads[2]};
}

void expect_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, double tolerance) {
  const char* names[] = {"output", "grad q", "grad k", "grad v"};
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = (a[i].to(torch::kFloat) - b[i].to(torch::kFloat)).abs().max().item<double>();
    EXPECT_LT(diff, tolerance) << names[i];
  }
}

TEST(MathAttention, MatchesScaledDotProductAttentionWhenCausal) {
  Qkv x = random_qkv(2, 3, 16, 16, 8);
  expect_close(output_and_grads(x, math_attention(x.q, x.k, x.v, {}, 0.0, true)),
               output_and_grads(x, sdpa(x, {}, true)), 1e-5);
}

TEST(MathAttention, MatchesScaledDotProductAttentionWithAPaddingMask) {
  Qkv x = random_qkv(3, 2, 12, 12, 8);
  auto mask = padding_mask({0, 4, 11}, 12);  // the last row: one real token, all other keys padding
  auto y = math_attention(x.q, x.k, x.v, mask, 0.0, false);
  EXPECT_FALSE(torch::isnan(y).any().item<bool>());
  expect_close(output_and_grads(x, y), output_and_grads(x, sdpa(x, mask, false)), 1e-5);
}

TEST(MathAttention, CausalQueriesAfterCachedKeysSeeThePast) {
  // 4 new queries after 6 cached positions: query i sees keys up to 6 + i.
  Qkv x = random_qkv(2, 2, 4, 10, 8);
  auto allowed = (torch::arange(10).view({1, 10}) <= torch::arange(6, 10).view({4, 1})).view({1, 1, 4, 10});
  expect_close(output_and_grads(x, math_attention(x.q, x.k, x.v, {}, 0.0, true)),
               output_and_grads(x, sdpa(x, allowed, false)), 1e-5);
}

TEST(MathAttention, InBf16StaysAsCloseToFp32AsTheFlashKernel) {
  // The same bf16 inputs, in fp32 arithmetic as the reference: the errors are the arithmetic's alone.
  Qkv low = random_qkv(4, 4, 64, 64, 48, torch::kBFloat16);
  Qkv exact = to_fp32(low);
  auto reference = output_and_grads(exact, sdpa(exact, {}, true));
  auto flash = output_and_grads(low, sdpa(low, {}, true));
  auto math = output_and_grads(low, math_attention(low.q, low.k, low.v, {}, 0.0, true));
  for (size_t i = 0; i < reference.size(); ++i) {
    const double flash_error = (flash[i].to(torch::kFloat) - reference[i]).abs().max().item<double>();
    const double math_error = (math[i].to(torch::kFloat) - reference[i]).abs().max().item<double>();
    EXPECT_LT(math_error, 2 * flash_error + 1e-3) << "tensor " << i << ": flash error " << flash_error;
  }
}

TEST(Attention, TakesTheMatmulPathForBf16ShortContextsOnly) {
  auto bitwise = [](const torch::Tensor& a, const torch::Tensor& b) { return torch::equal(a, b); };
  torch::NoGradGuard no_grad;
  Qkv short_bf16 = random_qkv(2, 2, 32, 32, 16, torch::kBFloat16);
  EXPECT_TRUE(bitwise(attention(short_bf16.q, short_bf16.k, short_bf16.v, {}, 0.0, true),
                      math_attention(short_bf16.q, short_bf16.k, short_bf16.v, {}, 0.0, true)));

  Qkv long_bf16 = random_qkv(1, 2, 8, kMathAttentionMaxKeys + 1, 16, torch::kBFloat16);
  auto all_keys = torch::ones({1, 1, 8, kMathAttentionMaxKeys + 1}, torch::kBool);
  EXPECT_TRUE(bitwise(attention(long_bf16.q, long_bf16.k, long_bf16.v, all_keys, 0.0, false),
                      sdpa(long_bf16, all_keys, false)));

  Qkv decode_step = random_qkv(2, 2, 1, 32, 16, torch::kBFloat16);  // one query: SDPA's kernel
  EXPECT_TRUE(bitwise(attention(decode_step.q, decode_step.k, decode_step.v, {}, 0.0, false),
                      sdpa(decode_step, {}, false)));

  Qkv fp32 = random_qkv(2, 2, 32, 32, 16);
  EXPECT_TRUE(bitwise(attention(fp32.q, fp32.k, fp32.v, {}, 0.0, true), sdpa(fp32, {}, true)));
}

}  // namespace
}  // namespace rlhf
