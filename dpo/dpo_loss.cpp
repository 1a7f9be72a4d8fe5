#include "dpo/dpo_loss.h"

#include <stdexcept>

namespace rlhf {

DpoLoss dpo_loss(const PairLogprobs& lp, const std::string& loss_type, double beta, double label_smoothing) {
  auto chosen_logratio = lp.policy_chosen - lp.reference_chosen;        // (B)
  auto rejected_logratio = lp.policy_rejected - lp.reference_rejected;  // (B)
  auto h = chosen_logratio - rejected_logratio;                         // (B)
  torch::Tensor losses;                                                 // (B)
  if (loss_type == "sigmoid") {
    namespace F = torch::nn::functional;
    losses = -(1.0 - label_smoothing) * F::logsigmoid(beta * h) - label_smoothing * F::logsigmoid(-beta * h);
  } else if (loss_type == "ipo") {
    losses = (h - 1.0 / (2.0 * beta)).pow(2);
  } else {
    throw std::runtime_error("loss \"" + loss_type + "\": expected sigmoid or ipo");
  }
  return {losses.mean(), beta * chosen_logratio.detach(), beta * rejected_logratio.detach()};
}

}  // namespace rlhf
