#include "eval/likelihood.h"

#include <algorithm>
#include <stdexcept>

namespace rlhf {

namespace {

struct Tokenized {
  std::vector<TokenId> ids;
  int64_t context_length = 0;  // ids[context_length:] is the continuation
};

Tokenized fit(const Tokenizer& tokenizer, const std::string& context, const std::string& continuation, int64_t block) {
  auto ctx = tokenizer.encode(context);
  auto cont = tokenizer.encode(continuation);
  if (cont.empty()) throw std::runtime_error("empty continuation for context \"" + context.substr(0, 40) + "\"");
  if (static_cast<int64_t>(cont.size()) > block - 1) cont.resize(block - 1);
  const int64_t room = block - static_cast<int64_t>(cont.size());
  if (static_cast<int64_t>(ctx.size()) > room) ctx.erase(ctx.begin(), ctx.end() - room);
  if (ctx.empty()) ctx.push_back(tokenizer.eot_id());  // the first continuation token needs a context
  Tokenized t;
  t.context_length = static_cast<int64_t>(ctx.size());
  t.ids = std::move(ctx);
  t.ids.insert(t.ids.end(), cont.begin(), cont.end());
  if (static_cast<int64_t>(t.ids.size()) > block) t.ids.erase(t.ids.begin());  // EOS stand-in overflowed
  t.context_length = std::min<int64_t>(t.context_length, static_cast<int64_t>(t.ids.size()) - 1);
  return t;
}

}  // namespace

std::vector<ContinuationLogprob> continuation_logprobs(GPT& model, const Tokenizer& tokenizer,
                                                       const std::vector<std::pair<std::string, std::string>>& items,
                                                       int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  const int64_t block = model->config().block_size;
  const auto device = model->transformer->wte->weight.device();
  std::vector<ContinuationLogprob> out;
  for (size_t first = 0; first < items.size(); first += batch_size) {
    const size_t last = std::min(items.size(), first + static_cast<size_t>(batch_size));
    std::vector<Tokenized> batch;
    int64_t T = 1;
    for (size_t i = first; i < last; ++i) {
      batch.push_back(fit(tokenizer, items[i].first, items[i].second, block));
      T = std::max<int64_t>(T, static_cast<int64_t>(batch.back().ids.size()));
    }
    const int64_t B = static_cast<int64_t>(batch.size());
    auto ids = torch::full({B, T}, static_cast<int64_t>(tokenizer.eot_id()), torch::kLong);  // right-padded
    auto targets = torch::full({B, T}, static_cast<int64_t>(-1), torch::kLong);              // -1: not scored
    auto ids_acc = ids.accessor<int64_t, 2>();
    auto tgt_acc = targets.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
      const auto& t = batch[b];
      for (size_t i = 0; i < t.ids.size(); ++i) ids_acc[b][i] = t.ids[i];
      for (size_t i = t.context_length; i < t.ids.size(); ++i) tgt_acc[b][i - 1] = t.ids[i];  // position i-1 predicts i
    }
    auto logits = model->forward(ids.to(device)).logits.to(torch::kFloat);       // (B, T, V)
    auto logp = torch::log_softmax(logits, -1).to(torch::kCPU);                  // (B, T, V)
    auto scored = targets.ge(0);                                                  // (B, T)
    auto picked = logp.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1) * scored.to(torch::kFloat);  // (B, T)
    auto sums = picked.sum(1).to(torch::kDouble);                                // (B)
    auto counts = scored.sum(1);                                                 // (B)
    for (int64_t b = 0; b < B; ++b) out.push_back({sums[b].item<double>(), counts[b].item<int64_t>()});
  }
  return out;
}

double mean_token_loss(GPT& model, const std::vector<TokenId>& tokens, int64_t max_tokens, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  const int64_t T = model->config().block_size;
  const auto device = model->transformer->wte->weight.device();
  const int64_t usable = std::min<int64_t>(static_cast<int64_t>(tokens.size()) - 1, max_tokens);
  const int64_t windows = usable / T;
  if (windows < 1) throw std::runtime_error("held-out text shorter than one " + std::to_string(T) + "-token window");
  double total = 0.0;
  for (int64_t first = 0; first < windows; first += batch_size) {
    const int64_t B = std::min(batch_size, windows - first);
    auto x = torch::empty({B, T}, torch::kLong), y = torch::empty({B, T}, torch::kLong);  // (B, T) each
    auto xa = x.accessor<int64_t, 2>(), ya = y.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        xa[b][t] = tokens[(first + b) * T + t];
        ya[b][t] = tokens[(first + b) * T + t + 1];
      }
    auto logits = model->forward(x.to(device)).logits;                          // (B, T, V)
    total += model->loss(logits, y.to(device)).item<double>() * B;
  }
  return total / static_cast<double>(windows);
}

}  // namespace rlhf
