// HH-RLHF transcripts: "\n\nHuman: ...\n\nAssistant: ..." text, as in Anthropic's hh-rlhf data.
// A comparison is two transcripts that share everything up to the last Assistant turn.
#pragma once

#include <string>

#include "labeling/json_fields.h"

namespace rlhf::labeling {

struct HhComparison {
  json conversation;  // [{"role": "user"|"assistant", "content": ...}], last role user
  std::string chosen;
  std::string rejected;
};

// Splits a pair at the last "\n\nAssistant:" inside the text both share (a response may itself
// contain "Human:" or "Assistant:", so the marker is searched only in the common prefix).
// Throws FieldError naming "chosen" or "rejected".
HhComparison split_hh_comparison(const std::string& chosen, const std::string& rejected);

// The conversation as an HH transcript ending in "\n\nAssistant:" (export "prompt" field), so
// prompt + " " + response is the HH-format text.
std::string render_hh_prompt(const json& conversation);

}  // namespace rlhf::labeling
