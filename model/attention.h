// Scaled dot-product attention over heads, choosing the kernel by precision and context length.
//
// LibTorch's scaled_dot_product_attention runs a flash-attention kernel on the CPU. In bf16 over
// short contexts (the quickstart's, PPO's sequences) that kernel is slower than attention written
// as two matmuls with an fp32 softmax between them, its backward pass most of all; from a few
// hundred keys on, its blocking wins and the scores it never stores matter. bench/README.md has the
// measurements behind kMathAttentionMaxKeys.
#pragma once

#include <torch/torch.h>

namespace rlhf {

// Key counts up to this take the matmul path in bf16 on the CPU, except for a single query (a
// decode step), where SDPA's kernel is the faster.
constexpr int64_t kMathAttentionMaxKeys = 160;

// q (B, nh, T, hs), k and v (B, nh, S, hs); mask: bool (B or 1, 1, T, S), true where a query may see
// a key, or undefined; causal (without a mask): query i sees keys up to S - T + i.
// Returns (B, nh, T, hs).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double dropout, bool causal);

// softmax(q k^T / sqrt(hs) + mask) v with the scores and softmax in fp32 and the matmuls in the
// inputs' dtype. Exposed so that tests can hold it against scaled_dot_product_attention.
torch::Tensor math_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, double dropout, bool causal);

}  // namespace rlhf
