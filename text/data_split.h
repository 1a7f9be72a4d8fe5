// Which use a shipped preference/demonstration example is reserved for, decided once and for all by
// the stable hash of its first human message: 20% reward-model evaluation (never trained on by any
// stage), 40% reward-model training, 40% SFT demonstrations.
#pragma once

#include <string_view>

namespace rlhf {

enum class DataSplit { kRewardEval, kRewardTrain, kSft };
DataSplit data_split_of(std::string_view transcript);

}  // namespace rlhf
