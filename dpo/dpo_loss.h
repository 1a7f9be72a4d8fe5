// The preference losses of direct preference optimisation: the policy is trained on pairs
// (chosen, rejected) with no reward model, against a frozen reference. Each response enters as its
// log-probability under the policy and under the reference (summed over its tokens for DPO and cDPO,
// averaged over them for IPO: the stage decides, dpo_stage.cpp).
//
//   h = (log pi(chosen) - log ref(chosen)) - (log pi(rejected) - log ref(rejected))
//   sigmoid (DPO, Rafailov et al. 2023):  -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)
//                                         (eps > 0: conservative DPO, labels flipped with rate eps)
//   ipo (Azar et al. 2023):               (h - 1 / (2 beta))^2
#pragma once

#include <torch/torch.h>

#include <string>

namespace rlhf {

struct PairLogprobs {
  torch::Tensor policy_chosen, policy_rejected;        // (B) with grad through the policy
  torch::Tensor reference_chosen, reference_rejected;  // (B) constants
};

struct DpoLoss {
  torch::Tensor loss;              // scalar: the mean over the B pairs
  torch::Tensor chosen_rewards;    // (B) beta * (log pi - log ref) of the chosen response, detached
  torch::Tensor rejected_rewards;  // (B) the same for the rejected one
};

// `loss_type`: "sigmoid" or "ipo"; anything else is an error naming `loss`.
DpoLoss dpo_loss(const PairLogprobs& logprobs, const std::string& loss_type, double beta, double label_smoothing);

}  // namespace rlhf
