#include "dpo/response_logprobs.h"

namespace rlhf {

ResponseLogprobs response_logprobs(GPT& model, const PaddedSequences& batch) {
  const int64_t T = batch.ids.size(1);
  auto input = batch.ids.slice(1, 0, T - 1);                                    // (B, T-1)
  auto target = batch.ids.slice(1, 1, T);                                       // (B, T-1)
  // Column t predicts token t + 1: scored when that token is in the response and not padding.
  auto next = torch::arange(1, T, batch.ids.options()).unsqueeze(0);            // (1, T-1)
  auto mask = (next >= batch.response_starts.unsqueeze(1)) & (next < batch.lengths.unsqueeze(1));  // (B, T-1)
  auto logits = model->forward(input).logits;                                   // (B, T-1, V)
  auto nll = torch::nn::functional::cross_entropy(
                 logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), target.reshape({-1}),
                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                 .view(target.sizes());                                         // (B, T-1)
  auto scored = mask.to(torch::kFloat);                                         // (B, T-1)
  return {-(nll * scored).sum(1), scored.sum(1)};
}

}  // namespace rlhf
