// Named tensors of a module (parameters and buffers) and loading them back with full checks.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/safetensors.h"

namespace rlhf {

// Parameters and buffers by their full dotted name, detached (shares storage with the module).
safetensors::TensorMap state_dict(const torch::nn::Module& module, const std::string& prefix = "");

// Copies `tensors[prefix + name]` into every parameter and buffer of `module` (converting dtype,
// keeping the module's device). Missing names and shape mismatches are errors naming the tensor;
// with `strict`, tensors under `prefix` that the module lacks are errors too. `source` names the
// file in messages.
void load_state_dict(torch::nn::Module& module, const safetensors::TensorMap& tensors, const std::string& source,
                     const std::string& prefix = "", bool strict = true);

}  // namespace rlhf
