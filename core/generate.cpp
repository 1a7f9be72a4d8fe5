#include "core/generate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace rlhf {

namespace {

// Restores the module's training flag on scope exit.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

torch::Tensor filter_top_k(torch::Tensor logits, int64_t k) {
  if (k <= 0 || k >= logits.size(-1)) return logits;
  auto kth = std::get<0>(logits.topk(k, -1)).narrow(-1, k - 1, 1);           // (B, 1)
  return logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
}

torch::Tensor filter_top_p(torch::Tensor logits, double p) {
  if (p >= 1.0) return logits;
  auto [sorted, order] = logits.sort(-1, /*descending=*/true);                 // (B, V)
  auto probs = sorted.softmax(-1);
  // Drop a token when the tokens ranked above it already cover p; the best token always stays.
  auto remove_sorted = (probs.cumsum(-1) - probs) > p;
  auto remove = torch::zeros_like(remove_sorted).scatter(-1, order, remove_sorted);
  return logits.masked_fill(remove, -std::numeric_limits<float>::infinity());
}

bool ends_with_stop(const std::string& text, const std::vector<std::string>& stops, size_t* cut) {
  for (const auto& stop : stops) {
    auto at = text.find(stop);
    if (!stop.empty() && at != std::string::npos) {
      *cut = at;
      return true;
    }
  }
  return false;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> sample_next(const torch::Tensor& logits, const SamplingConfig& config,
                                                    at::Generator& generator) {
  const double temperature = config.greedy ? 1.0 : config.temperature;
  if (temperature <= 0.0) throw std::runtime_error("sampling: temperature must be > 0 (use greedy instead)");
  auto scaled = logits / temperature;                                          // (B, V)
  auto logprobs_all = scaled.log_softmax(-1);                                  // (B, V)
  torch::Tensor ids;
  if (config.greedy) {
    ids = scaled.argmax(-1);                                                   // (B)
  } else {
    auto filtered = filter_top_p(filter_top_k(scaled, config.top_k), config.top_p);
    ids = torch::multinomial(filtered.softmax(-1), 1, /*replacement=*/false, generator).squeeze(-1);  // (B)
  }
  auto logprobs = logprobs_all.gather(-1, ids.unsqueeze(-1)).squeeze(-1);      // (B)
  return {ids, logprobs};
}

std::vector<TokenId> Generation::row_tokens(int64_t row) const {
  auto t = tokens[row].masked_select(mask[row].to(torch::kBool)).to(torch::kCPU);
  return std::vector<TokenId>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

Generation generate(GPT& model, const std::vector<std::vector<TokenId>>& prompts, const SamplingConfig& config,
                    TokenId eos_id, const Tokenizer* tokenizer) {
  if (prompts.empty()) throw std::runtime_error("generate: no prompts");
  if (!config.stop_strings.empty() && tokenizer == nullptr)
    throw std::runtime_error("generate: stop strings need a tokenizer");
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(*model);

  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t P = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw std::runtime_error("generate: empty prompt (give at least one token, e.g. <|endoftext|>)");
    P = std::max<int64_t>(P, static_cast<int64_t>(p.size()));
  }
  const int64_t N = config.max_new_tokens;
  if (P + N > model->config().block_size)
    throw std::runtime_error("generate: prompt (" + std::to_string(P) + " tokens) + max_new_tokens (" +
                             std::to_string(N) + ") exceeds block_size " + std::to_string(model->config().block_size));
  const auto device = model->transformer->wte->weight.device();
  const TokenId pad_id = eos_id >= 0 ? eos_id : 0;

  // Left-padded prompts and the attention mask for the whole sequence (prompt + new tokens).
  auto idx = torch::full({B, P}, pad_id, torch::kLong);                        // (B, P)
  auto attention_mask = torch::zeros({B, P + N}, torch::kLong);                // (B, P + N)
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const int64_t offset = P - static_cast<int64_t>(p.size());
    idx[b].narrow(0, offset, p.size()).copy_(torch::tensor(p, torch::kLong));
    attention_mask[b].narrow(0, offset, P + N - offset).fill_(1);
  }
  idx = idx.to(device);
  attention_mask = attention_mask.to(device);

  Generation out;
  out.tokens = torch::full({B, N}, pad_id, torch::kLong);
  out.logprobs = torch::zeros({B, N});
  out.mask = torch::zeros({B, N}, torch::kLong);
  out.finished.assign(B, false);
  out.texts.assign(B, "");
  std::vector<std::vector<TokenId>> new_tokens(B);
  std::vector<size_t> cut(B, std::string::npos);
  auto tokens_acc = out.tokens.accessor<int64_t, 2>();
  auto logprobs_out = out.logprobs.accessor<float, 2>();
  auto mask_acc = out.mask.accessor<int64_t, 2>();

  auto generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  KVCache cache;
  if (config.use_cache) cache = model->make_cache(B, P + N);
  auto sequence = idx;                                                         // (B, P + i), no-cache path
  ForwardOptions options;
  options.last_position_only = true;
  options.cache = config.use_cache ? &cache : nullptr;
  options.attention_mask = attention_mask.narrow(1, 0, P);
  auto logits = model->forward(idx, options).logits;                           // (B, 1, V)

  for (int64_t i = 0; i < N; ++i) {
    auto [ids, logprobs] = sample_next(logits.squeeze(1).to(torch::kCPU, torch::kFloat), config, generator);
    auto ids_acc = ids.accessor<int64_t, 1>();
    auto logprobs_acc = logprobs.accessor<float, 1>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (out.finished[b]) {
        ids_acc[b] = pad_id;
        continue;
      }
      tokens_acc[b][i] = ids_acc[b];
      logprobs_out[b][i] = logprobs_acc[b];
      mask_acc[b][i] = 1;
      new_tokens[b].push_back(ids_acc[b]);
      if (ids_acc[b] == eos_id) {
        out.finished[b] = true;
        new_tokens[b].pop_back();
      } else if (!config.stop_strings.empty()) {
        out.finished[b] = ends_with_stop(tokenizer->decode(new_tokens[b]), config.stop_strings, &cut[b]);
      }
      all_done = all_done && out.finished[b];
    }
    if (all_done || i + 1 == N) break;

    auto next = ids.to(device).unsqueeze(1);                                   // (B, 1)
    options.attention_mask = attention_mask.narrow(1, 0, P + i + 1);
    if (config.use_cache) {
      logits = model->forward(next, options).logits;                           // (B, 1, V)
    } else {
      sequence = torch::cat({sequence, next}, 1);                              // (B, P + i + 1)
      logits = model->forward(sequence, options).logits;
    }
  }
  if (tokenizer) {
    for (int64_t b = 0; b < B; ++b) {
      out.texts[b] = tokenizer->decode(new_tokens[b]);
      if (cut[b] != std::string::npos) out.texts[b].resize(cut[b]);
    }
  }
  return out;
}

}  // namespace rlhf
