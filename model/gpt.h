// The GPT-2 backbone: token + learned position embeddings, pre-LN blocks with fused-QKV causal
// self-attention and a GELU(tanh) MLP, final LayerNorm, LM head tied to wte. Parameter names are
// GPT-2's (transformer.wte, transformer.h.N.attn.c_attn, ...), so HF checkpoints map one to one
// (our Linear weights are (out, in); HF's Conv1D stores (in, out)).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/gpt_config.h"

namespace rlhf {

// Keys and values of every layer, preallocated to the maximum length so that each generation step
// writes in place instead of concatenating.
struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer: (B, nh, max_len, hs)
  int64_t length = 0;               // positions filled so far
  int64_t max_length() const { return k.empty() ? 0 : k[0].size(2); }
};

struct ForwardOptions {
  // (B, past + T) with 1 for real tokens and 0 for padding (left padding for batched prompts).
  // Undefined means every token is real.
  torch::Tensor attention_mask;
  // (B, T); by default derived from attention_mask (count of real tokens before each position).
  torch::Tensor position_ids;
  KVCache* cache = nullptr;        // when set, attends to the cached keys and appends the new ones
  bool logits = true;              // compute the LM head
  bool last_position_only = false; // LM head on the last position only (generation)
  int64_t logits_from = 0;         // LM head on positions logits_from..T-1 only (PPO scores responses)
};

struct GPTOutput {
  torch::Tensor logits;  // (B, T - logits_from, vocab), or (B, 1, vocab) with last_position_only
  torch::Tensor hidden;  // (B, T, C) after ln_f: what reward and value heads read
};

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t n_embd, bool bias, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  double eps;
};
TORCH_MODULE(LayerNorm);

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const GPTConfig& config);
  // mask: (B or 1, 1, T, past + T) bool, true where attention is allowed; undefined = plain causal.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KVCache* cache, int64_t layer);
  torch::nn::Linear c_attn{nullptr}, c_proj{nullptr};
  torch::nn::Dropout resid_dropout{nullptr};
  int64_t n_head, n_embd;
  double dropout;  // on the attention weights, inside scaled_dot_product_attention
};
TORCH_MODULE(CausalSelfAttention);

class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const GPTConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(MLP);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const GPTConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KVCache* cache, int64_t layer);
  LayerNorm ln_1{nullptr}, ln_2{nullptr};
  CausalSelfAttention attn{nullptr};
  MLP mlp{nullptr};
};
TORCH_MODULE(Block);

// The "transformer" submodule of GPT-2: holds every parameter (the LM head is tied to wte).
class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const GPTConfig& config);
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  LayerNorm ln_f{nullptr};
};
TORCH_MODULE(Transformer);

class GPTImpl : public torch::nn::Module {
 public:
  explicit GPTImpl(const GPTConfig& config);
  GPTOutput forward(const torch::Tensor& idx, const ForwardOptions& options = {});
  // Mean next-token cross-entropy over positions whose target is not ignore_index.
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index = -100);
  KVCache make_cache(int64_t batch, int64_t max_length) const;
  int64_t num_parameters(bool exclude_position_embeddings = true) const;
  const GPTConfig& config() const { return config_; }

  Transformer transformer{nullptr};

 private:
  void init_weights();
  GPTConfig config_;
};
TORCH_MODULE(GPT);

// Freezes (requires_grad = false) the embeddings and every block except the last `unfrozen_layers`;
// ln_f stays trainable. unfrozen_layers < 0 leaves everything trainable. Frozen weights get no
// gradient, so the optimizer (built after this) skips them. Returns the frozen parameter count.
int64_t freeze_lower_layers(GPTImpl& gpt, int64_t unfrozen_layers);

// Position ids for left-padded batches: the number of real tokens before each position.
torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask);  // (B, T) -> (B, T)

}  // namespace rlhf
