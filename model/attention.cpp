#include "model/attention.h"

#include <cmath>
#include <limits>

namespace rlhf {

torch::Tensor math_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, double dropout, bool causal) {
  const int64_t T = q.size(2), S = k.size(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  auto att = torch::matmul(q, k.transpose(-2, -1)).to(torch::kFloat).mul_(scale);   // (B, nh, T, S)
  torch::Tensor allowed = mask;
  if (!allowed.defined() && causal)
    allowed = torch::ones({T, S}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).tril(S - T);  // (T, S)
  if (allowed.defined()) att = att.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  att = torch::softmax(att, -1);                                                    // (B, nh, T, S)
  if (dropout > 0) att = torch::dropout(att, dropout, /*train=*/true);
  return torch::matmul(att.to(v.scalar_type()), v);                                 // (B, nh, T, hs)
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double dropout, bool causal) {
  const bool one_query = q.size(2) == 1;  // a decode step: SDPA's kernel is the faster there
  if (q.is_cpu() && q.scalar_type() == torch::kBFloat16 && !one_query && k.size(2) <= kMathAttentionMaxKeys)
    return math_attention(q, k, v, mask, dropout, causal);
  auto attn_mask = mask.defined() ? c10::optional<at::Tensor>(mask) : c10::nullopt;
  return at::scaled_dot_product_attention(q, k, v, attn_mask, dropout, causal);
}

}  // namespace rlhf
