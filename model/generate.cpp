#include "model/generate.h"

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

// Whether a stop string occurs anywhere in text (decoding can put it mid-token); *cut is where the
// first listed stop that occurs begins.
bool find_stop(const std::string& text, const std::vector<std::string>& stops, size_t* cut) {
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
  auto scaled = temperature == 1.0 ? logits : logits / temperature;           // (B, V)
  torch::Tensor ids;
  if (config.greedy) {
    ids = scaled.argmax(-1);                                                   // (B)
  } else {
    auto filtered = filter_top_p(filter_top_k(scaled, config.top_k), config.top_p);
    ids = torch::multinomial(filtered.softmax(-1), 1, /*replacement=*/false, generator).squeeze(-1);  // (B)
  }
  // log p(id) = logit(id) - logsumexp(logits): the one sampled token's log-prob, without writing
  // a log-softmax over the whole vocabulary.
  auto logprobs = scaled.gather(-1, ids.unsqueeze(-1)).squeeze(-1) - scaled.logsumexp(-1);  // (B)
  return {ids, logprobs};
}

std::vector<TokenId> Generation::row_tokens(int64_t row) const {
  auto t = tokens[row].masked_select(mask[row].to(torch::kBool)).to(torch::kCPU);
  return std::vector<TokenId>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

at::Generator sampling_generator(torch::Device device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto generator = at::globalContext().defaultGenerator(device).clone();  // a private stream on the device
  generator.set_current_seed(seed);
  return generator;
}

namespace {

// Left-padded (B, P) prompt ids and the (B, P + N) attention mask of prompt + new tokens.
std::pair<torch::Tensor, torch::Tensor> pad_prompts(const std::vector<std::vector<TokenId>>& prompts, int64_t P,
                                                    int64_t N, TokenId pad_id) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  auto idx = torch::full({B, P}, pad_id, torch::kLong);                        // (B, P)
  auto attention_mask = torch::zeros({B, P + N}, torch::kLong);                // (B, P + N)
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const int64_t offset = P - static_cast<int64_t>(p.size());
    idx[b].narrow(0, offset, p.size()).copy_(torch::tensor(p, torch::kLong));
    attention_mask[b].narrow(0, offset, P + N - offset).fill_(1);
  }
  return {idx, attention_mask};
}

// A row's new tokens as text: without its EOS, cut before a stop string.
std::string row_text(const Generation& out, int64_t row, TokenId eos_id, const Tokenizer& tokenizer,
                     const std::vector<std::string>& stops) {
  auto ids = out.row_tokens(row);
  if (!ids.empty() && ids.back() == eos_id) ids.pop_back();
  std::string text = tokenizer.decode(ids);
  size_t cut = std::string::npos;
  if (find_stop(text, stops, &cut)) text.resize(cut);
  return text;
}

}  // namespace

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

  // When no prompt is padded the model gets no mask: plain causal attention, positions past + i,
  // and no per-step mask and position-id work (~6% of a batch-1 decode step on the CPU).
  bool padded = false;
  for (const auto& p : prompts) padded = padded || static_cast<int64_t>(p.size()) < P;
  auto [idx, attention_mask] = pad_prompts(prompts, P, N, pad_id);
  idx = idx.to(device);
  attention_mask = attention_mask.to(device);

  // Everything per token stays on the model's device: the cache, the sampling (with its own seeded
  // generator there) and the outputs. The host reads the device only to decode for stop strings,
  // and to see whether every row has ended: each step on the CPU, where it is free; every
  // `kDoneCheckEvery` steps on a GPU, where each read waits for the queue to drain.
  constexpr int64_t kDoneCheckEvery = 8;
  const auto on_device = torch::TensorOptions().device(device);
  auto tokens = torch::full({B, N}, pad_id, on_device.dtype(torch::kLong));    // (B, N)
  auto logprobs = torch::zeros({B, N}, on_device.dtype(torch::kFloat));       // (B, N)
  auto mask = torch::zeros({B, N}, on_device.dtype(torch::kLong));            // (B, N)
  auto finished = torch::zeros({B}, on_device.dtype(torch::kBool));           // (B)
  std::vector<std::vector<TokenId>> decoded(B);                               // stop strings only
  auto generator = sampling_generator(device, config.seed);

  KVCache cache;
  if (config.use_cache) cache = model->make_cache(B, P + N);
  auto sequence = idx;                                                         // (B, P + i), no-cache path
  ForwardOptions options;
  options.last_position_only = true;
  options.cache = config.use_cache ? &cache : nullptr;
  if (padded) options.attention_mask = attention_mask.narrow(1, 0, P);
  auto logits = model->forward(idx, options).logits;                           // (B, 1, V)

  for (int64_t i = 0; i < N; ++i) {
    auto [ids, logp] = sample_next(logits.squeeze(1).to(torch::kFloat), config, generator);  // (B), (B)
    ids.masked_fill_(finished, pad_id);
    tokens.select(1, i).copy_(ids);
    logprobs.select(1, i).copy_(logp.masked_fill(finished, 0.0));
    mask.select(1, i).copy_(finished.logical_not());                           // a row's EOS still counts
    if (eos_id >= 0) finished.logical_or_(ids.eq(eos_id));
    if (!config.stop_strings.empty()) {
      auto ids_host = ids.to(torch::kCPU), alive_host = mask.select(1, i).to(torch::kCPU),
           done_host = finished.to(torch::kCPU);
      auto row_ids = ids_host.accessor<int64_t, 1>();
      auto alive = alive_host.accessor<int64_t, 1>();
      auto done = done_host.accessor<bool, 1>();
      size_t cut = 0;
      for (int64_t b = 0; b < B; ++b) {
        if (!alive[b] || done[b]) continue;                                    // ended before, or by this EOS
        decoded[b].push_back(row_ids[b]);
        if (find_stop(tokenizer->decode(decoded[b]), config.stop_strings, &cut)) finished[b].fill_(true);
      }
    }
    if (i + 1 == N) break;
    const bool check_done = device.is_cpu() || !config.stop_strings.empty() || (i + 1) % kDoneCheckEvery == 0;
    if (check_done && finished.all().item<bool>()) break;

    auto next = ids.unsqueeze(1);                                              // (B, 1)
    if (padded) options.attention_mask = attention_mask.narrow(1, 0, P + i + 1);
    if (config.use_cache) {
      logits = model->forward(next, options).logits;                           // (B, 1, V)
    } else {
      sequence = torch::cat({sequence, next}, 1);                              // (B, P + i + 1)
      logits = model->forward(sequence, options).logits;
    }
  }

  Generation out;
  out.tokens = tokens.to(torch::kCPU);
  out.logprobs = logprobs.to(torch::kCPU);
  out.mask = mask.to(torch::kCPU);
  auto finished_host = finished.to(torch::kCPU);
  out.finished.assign(B, false);
  for (int64_t b = 0; b < B; ++b) out.finished[b] = finished_host[b].item<bool>();
  out.texts.assign(B, "");
  if (tokenizer)
    for (int64_t b = 0; b < B; ++b) out.texts[b] = row_text(out, b, eos_id, *tokenizer, config.stop_strings);
  return out;
}

}  // namespace rlhf
