#include "model/state_dict.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace rlhf {

safetensors::TensorMap state_dict(const torch::nn::Module& module, const std::string& prefix) {
  safetensors::TensorMap out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) out[prefix + item.key()] = item.value().detach();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) out[prefix + item.key()] = item.value().detach();
  return out;
}

namespace {

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

void load_state_dict(torch::nn::Module& module, const safetensors::TensorMap& tensors, const std::string& source,
                     const std::string& prefix, bool strict) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto load_one = [&](const std::string& name, torch::Tensor& target) {
    auto it = tensors.find(prefix + name);
    if (it == tensors.end()) throw std::runtime_error(source + ": missing tensor \"" + prefix + name + "\"");
    if (!it->second.sizes().equals(target.sizes()))
      throw std::runtime_error(source + ": tensor \"" + prefix + name + "\" has shape " + shape_string(it->second) +
                               ", the model expects " + shape_string(target));
    target.copy_(it->second);
    used.insert(it->first);
  };
  for (auto& item : module.named_parameters(true)) load_one(item.key(), item.value());
  for (auto& item : module.named_buffers(true)) load_one(item.key(), item.value());
  if (!strict) return;
  for (const auto& [name, tensor] : tensors) {
    if (name.compare(0, prefix.size(), prefix) == 0 && !used.count(name))
      throw std::runtime_error(source + ": unexpected tensor \"" + name + "\" (not part of this model)");
  }
}

}  // namespace rlhf
