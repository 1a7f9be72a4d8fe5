// Log-likelihood of continuations under a GPT: the measurement behind multiple-choice evaluation
// (TruthfulQA, A/B questions), preference likelihoods and held-out perplexity.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/gpt.h"
#include "text/tokenizer.h"

namespace rlhf {

struct ContinuationLogprob {
  double logprob = 0.0;  // sum over the continuation's tokens of log p(token | context, earlier tokens)
  int64_t tokens = 0;
};

// (context, continuation) pairs, tokenized separately (continuations start with a space) and fitted
// to the context window: the continuation keeps its first block_size - 1 tokens, the context its
// last tokens. Batched, without grad, in eval mode.
std::vector<ContinuationLogprob> continuation_logprobs(GPT& model, const Tokenizer& tokenizer,
                                                       const std::vector<std::pair<std::string, std::string>>& items,
                                                       int64_t batch_size = 16);

// Mean next-token loss (nats) over non-overlapping block_size windows of `tokens` (at most
// max_tokens of them): exp() of it is the perplexity.
double mean_token_loss(GPT& model, const std::vector<TokenId>& tokens, int64_t max_tokens, int64_t batch_size = 8);

}  // namespace rlhf
