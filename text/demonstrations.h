// Demonstrations for supervised fine-tuning, read from JSONL (optionally .gz), one example per line
// in any of these shapes (detected per line):
//   {"prompt": "...", "response": "..."}          prompt wrapped in the chat template unless it already is
//   {"conversation": [{"role","content"}, ...]}   or a transcript string; the last assistant turn is the response
//   {"chosen": transcript, ...}                   HH-RLHF; in a hash-split file only the SFT split
//   {"instruction", "instances": [{"input","output"}]}   self-instruct seed tasks, one example per instance
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/jsonl.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/tokenizer.h"

namespace rlhf {

struct Demonstration {
  std::string prompt;    // chat format, ends with "\n\nAssistant:"
  std::string response;  // starts with " "
};

struct DemonstrationFile {
  std::vector<Demonstration> examples;
  int64_t skipped_other_split = 0;  // HH lines reserved for the reward model
  int64_t skipped_empty = 0;        // empty responses
};

// Throws "FILE:LINE: ..." naming the field at fault for malformed lines. `split_by_hash`: the file's
// HH lines give only their SFT split (text/data_split.h); otherwise every line is used.
DemonstrationFile load_demonstrations(const std::filesystem::path& file, bool split_by_hash);
// The demonstrations of one JSONL line (any shape above) appended to `out`; errors name `where`.
void add_demonstrations(const nlohmann::json& line, const std::string& where, bool split_by_hash, DemonstrationFile& out);

// A "conversation" field (a transcript string, or [{"role","content"}, ...]) as a transcript;
// errors name `where`.
std::string conversation_transcript(const nlohmann::json& conversation, const std::string& where);

// One tokenized example: ids = prompt + response + <|endoftext|>; the response (and EOS) are the
// targets. Over-long prompts lose tokens from the left.
struct TokenizedExample {
  std::vector<TokenId> ids;
  int64_t prompt_length = 0;  // ids[0, prompt_length) are prompt tokens
};

struct TokenizeStats {
  int64_t kept = 0;
  int64_t prompt_truncated = 0;
  int64_t skipped_too_long = 0;  // the response alone does not fit the context
};

std::vector<TokenizedExample> tokenize_demonstrations(const std::vector<Demonstration>& demos, const Tokenizer& tokenizer,
                                                      int64_t block_size, TokenizeStats* stats);

}  // namespace rlhf
