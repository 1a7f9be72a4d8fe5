#include "text/data_split.h"

#include <cstdint>

#include "io/stable_hash.h"
#include "text/chat_format.h"

namespace rlhf {

DataSplit data_split_of(std::string_view transcript) {
  const uint64_t bucket = stable_hash(first_human_message(transcript)) % 100;
  if (bucket < 20) return DataSplit::kRewardEval;
  if (bucket < 60) return DataSplit::kRewardTrain;
  return DataSplit::kSft;
}

}  // namespace rlhf
