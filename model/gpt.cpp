#include "model/gpt.h"

#include <torch/version.h>

#include <cmath>
#include <stdexcept>

#include "io/error.h"
#include "model/attention.h"
#include "model/precision.h"
#include "text/strings.h"

namespace rlhf {

namespace F = torch::nn::functional;

namespace {

// y = x W^T + b over the last dimension, for the module's own weights. A single row (a batch-1
// decode step) is a matrix-vector product: BLAS libraries run the (1 x C) @ (C x out) sgemm that
// Linear would call slower than sgemv (bench/README.md, "What the measurements changed"). Otherwise ATen's linear, one addmm: the C++
// frontend's F::linear (inside torch::nn::Linear) does matmul + add for 3-D input and adds a copy of
// each weight gradient through weight.t().
torch::Tensor linear_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {}) {
  // Under autocast too: CPU autocast casts linear's operands to bf16, not addmv's.
  if (x.numel() != x.size(-1) || bf16_autocast_enabled(x.device())) return torch::linear(x, weight, bias);
  auto shape = x.sizes().vec();
  shape.back() = weight.size(0);
  auto row = x.reshape({x.size(-1)});                                           // (in)
  auto y = bias.defined() ? torch::addmv(bias, weight, row) : torch::mv(weight, row);  // (out)
  return y.view(shape);                                                         // (..., out)
}

torch::Tensor linear_forward(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return linear_forward(x, layer->weight, layer->bias);
}

}  // namespace

void GPTConfig::validate() const {
  auto require = [](bool ok, const char* field, const std::string& why) { rlhf::require(ok, "model config: ", field, " ", why); };
  require(n_layer >= 1, "n_layer", "must be >= 1");
  require(n_head >= 1, "n_head", "must be >= 1");
  require(n_embd >= 1 && n_embd % n_head == 0, "n_embd",
          "must be a positive multiple of n_head (" + std::to_string(n_head) + ")");
  require(block_size >= 1, "block_size", "must be >= 1");
  require(vocab_size >= 1, "vocab_size", "must be >= 1");
  require(dropout >= 0.0 && dropout < 1.0, "dropout", "must be in [0, 1)");
  require(layer_norm_epsilon > 0.0, "layer_norm_epsilon", "must be > 0");
}

// ---------------------------------------------------------------------------------------------
LayerNormImpl::LayerNormImpl(int64_t n_embd, bool with_bias, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({n_embd}));
  if (with_bias) bias = register_parameter("bias", torch::zeros({n_embd}));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  return torch::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

// ---------------------------------------------------------------------------------------------
CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& config)
    : n_head(config.n_head), n_embd(config.n_embd), dropout(config.dropout) {
  // key, query, value projections for all heads, in one matmul
  c_attn = register_module("c_attn", torch::nn::Linear(torch::nn::LinearOptions(n_embd, 3 * n_embd).bias(config.bias)));
  c_proj = register_module("c_proj", torch::nn::Linear(torch::nn::LinearOptions(n_embd, n_embd).bias(config.bias)));
  resid_dropout = register_module("resid_dropout", torch::nn::Dropout(config.dropout));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, KVCache* cache,
                                               int64_t layer) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), hs = C / n_head;
  auto qkv = linear_forward(c_attn, x).split(n_embd, /*dim=*/2); // 3 x (B, T, C)
  auto q = qkv[0].view({B, T, n_head, hs}).transpose(1, 2);     // (B, nh, T, hs)
  auto k = qkv[1].view({B, T, n_head, hs}).transpose(1, 2);     // (B, nh, T, hs)
  auto v = qkv[2].view({B, T, n_head, hs}).transpose(1, 2);     // (B, nh, T, hs)

  if (cache != nullptr) {
    const int64_t past = cache->length;
    cache->k[layer].narrow(2, past, T).copy_(k);
    cache->v[layer].narrow(2, past, T).copy_(v);
    k = cache->k[layer].narrow(2, 0, past + T);                 // (B, nh, S, hs)
    v = cache->v[layer].narrow(2, 0, past + T);                 // (B, nh, S, hs)
  }
  // No mask means plain causal attention over these T positions (or one query attending to all).
  const bool causal = !mask.defined() && T > 1;

  auto y = attention(q, k, v, mask, is_training() ? dropout : 0.0, causal);   // (B, nh, T, hs)
  y = y.transpose(1, 2).contiguous().view({B, T, C});          // re-assemble all heads side by side
  return resid_dropout(linear_forward(c_proj, y));
}

// ---------------------------------------------------------------------------------------------
MLPImpl::MLPImpl(const GPTConfig& config) {
  c_fc = register_module("c_fc", torch::nn::Linear(torch::nn::LinearOptions(config.n_embd, 4 * config.n_embd).bias(config.bias)));
  c_proj = register_module("c_proj", torch::nn::Linear(torch::nn::LinearOptions(4 * config.n_embd, config.n_embd).bias(config.bias)));
  dropout = register_module("dropout", torch::nn::Dropout(config.dropout));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return dropout(linear_forward(c_proj, torch::gelu(linear_forward(c_fc, x), "tanh")));  // (B, T, C)
}

// ---------------------------------------------------------------------------------------------
BlockImpl::BlockImpl(const GPTConfig& config) {
  ln_1 = register_module("ln_1", LayerNorm(config.n_embd, config.bias, config.layer_norm_epsilon));
  attn = register_module("attn", CausalSelfAttention(config));
  ln_2 = register_module("ln_2", LayerNorm(config.n_embd, config.bias, config.layer_norm_epsilon));
  mlp = register_module("mlp", MLP(config));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, KVCache* cache, int64_t layer) {
  auto h = x + attn(ln_1(x), mask, cache, layer);
  return h + mlp(ln_2(h));
}

// ---------------------------------------------------------------------------------------------
TransformerImpl::TransformerImpl(const GPTConfig& config) {
  wte = register_module("wte", torch::nn::Embedding(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", torch::nn::Embedding(config.block_size, config.n_embd));
  drop = register_module("drop", torch::nn::Dropout(config.dropout));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.n_layer; ++i) h->push_back(Block(config));
  ln_f = register_module("ln_f", LayerNorm(config.n_embd, config.bias, config.layer_norm_epsilon));
}

// ---------------------------------------------------------------------------------------------
GPTImpl::GPTImpl(const GPTConfig& config) : config_(config) {
  config_.validate();
  transformer = register_module("transformer", Transformer(config_));
  init_weights();
}

void GPTImpl::init_weights() {
  // GPT-2 initialisation: N(0, 0.02) weights, zero biases, and the residual projections scaled by
  // 1/sqrt(2 * n_layer) because each block adds two of them to the residual stream.
  torch::NoGradGuard no_grad;
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.n_layer));
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    auto& p = item.value();
    if (name.find(".ln_") != std::string::npos) {
      ends_with(name, ".weight") ? p.fill_(1.0) : p.zero_();
    } else if (ends_with(name, ".bias")) {
      p.zero_();
    } else if (ends_with(name, "c_proj.weight")) {
      p.normal_(0.0, residual_std);
    } else {
      p.normal_(0.0, 0.02);
    }
  }
}

int64_t freeze_lower_layers(GPTImpl& gpt, int64_t unfrozen_layers) {
  if (unfrozen_layers < 0) return 0;
  auto& t = *gpt.transformer;
  std::vector<torch::nn::Module*> frozen = {t.wte.get(), t.wpe.get()};
  const int64_t n_layer = static_cast<int64_t>(t.h->size());
  for (int64_t i = 0; i < n_layer - unfrozen_layers; ++i) frozen.push_back(t.h[i].get());
  int64_t count = 0;
  for (auto* module : frozen)
    for (auto& p : module->parameters()) {
      p.set_requires_grad(false);
      count += p.numel();
    }
  return count;
}

torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask) {
  return (attention_mask.to(torch::kLong).cumsum(1) - 1).clamp_min(0);  // (B, T)
}

namespace {

// (B or 1, 1, T, S) bool: query i (absolute position past + i) may see key j when j <= past + i and
// j is a real token. Every query may always see itself, so padded rows never softmax over nothing.
torch::Tensor attention_mask_4d(const torch::Tensor& attention_mask, int64_t B, int64_t T, int64_t past,
                                torch::Device device) {
  const int64_t S = past + T;
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  auto query_pos = torch::arange(past, S, opts).view({T, 1});
  auto key_pos = torch::arange(0, S, opts).view({1, S});
  auto allowed = key_pos <= query_pos;                                      // (T, S)
  if (!attention_mask.defined()) return allowed.view({1, 1, T, S});
  auto key_real = attention_mask.to(device).to(torch::kBool).view({B, 1, 1, S});
  return allowed & (key_real | (key_pos == query_pos));                     // (B, 1, T, S)
}

}  // namespace

GPTOutput GPTImpl::forward(const torch::Tensor& idx, const ForwardOptions& options) {
  TORCH_CHECK(idx.dim() == 2, "GPT expects token ids of shape (B, T), got ", idx.sizes());
  const int64_t B = idx.size(0), T = idx.size(1);
  const int64_t past = options.cache ? options.cache->length : 0;
  const int64_t S = past + T;
  if (S > config_.block_size)
    throw std::runtime_error("sequence of " + std::to_string(S) + " tokens exceeds the model's block_size " +
                             std::to_string(config_.block_size));
  if (options.cache && S > options.cache->max_length())
    throw std::runtime_error("KV cache holds " + std::to_string(options.cache->max_length()) + " positions, " +
                             std::to_string(S) + " needed");
  if (options.attention_mask.defined())
    TORCH_CHECK(options.attention_mask.size(0) == B && options.attention_mask.size(1) == S,
                "attention_mask must be (B, past + T) = (", B, ", ", S, "), got ", options.attention_mask.sizes());

  auto device = idx.device();
  torch::Tensor pos = options.position_ids;
  if (!pos.defined()) {
    pos = options.attention_mask.defined()
              ? position_ids_from_mask(options.attention_mask).narrow(1, past, T)   // (B, T)
              : torch::arange(past, S, torch::TensorOptions().dtype(torch::kLong).device(device)).unsqueeze(0);
  }
  torch::Tensor mask;
  if (options.attention_mask.defined() || (past > 0 && T > 1))
    mask = attention_mask_4d(options.attention_mask, B, T, past, device);

  auto x = transformer->drop(transformer->wte(idx) + transformer->wpe(pos));   // (B, T, C)
  for (size_t layer = 0; layer < transformer->h->size(); ++layer)
    x = transformer->h[layer]->as<Block>()->forward(x, mask, options.cache, static_cast<int64_t>(layer));
  x = transformer->ln_f(x);                                                    // (B, T, C)
  if (options.cache) options.cache->length = S;

  GPTOutput out;
  out.hidden = x;
  if (options.logits) {
    const int64_t from = options.last_position_only ? T - 1 : options.logits_from;
    TORCH_CHECK(from >= 0 && from < T, "logits_from must be in [0, ", T, "), got ", from);
    auto h = from > 0 ? x.narrow(1, from, T - from) : x;                       // (B, T - from, C)
    out.logits = linear_forward(h, transformer->wte->weight);                 // (B, T - from, vocab)
  }
  return out;
}

torch::Tensor GPTImpl::loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index) {
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), targets.reshape({-1}),
                          F::CrossEntropyFuncOptions().ignore_index(ignore_index));
}

KVCache GPTImpl::make_cache(int64_t batch, int64_t max_length) const {
  auto weight = transformer->wte->weight;
  // Under bf16 autocast the keys and values arrive in bf16: a cache in the weights' fp32 would be
  // cast back to bf16 for attention at every step.
  const auto options = bf16_autocast_enabled(weight.device()) ? weight.options().dtype(torch::kBFloat16) : weight.options();
  const int64_t hs = config_.head_size();
  KVCache cache;
  for (int64_t i = 0; i < config_.n_layer; ++i) {
    cache.k.push_back(torch::empty({batch, config_.n_head, max_length, hs}, options));
    cache.v.push_back(torch::empty({batch, config_.n_head, max_length, hs}, options));
  }
  return cache;
}

int64_t GPTImpl::num_parameters(bool exclude_position_embeddings) const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  if (exclude_position_embeddings) n -= transformer->wpe->weight.numel();
  return n;
}

}  // namespace rlhf
