// Text for language-model pretraining and tokenizer training, as documents, from the files a config
// names. A JSONL file (optionally .gz) gives one document per line, a conversation rendered in the
// chat template (text/chat_format.h), so the base model learns the format every later stage uses:
//   {"chosen": transcript, ...}              HH-RLHF; in a hash-split file the reward model's
//                                            held-out split is reserved (never trained on)
//   {"turns": [{"speaker","utterance"}]}     Schema-Guided Dialogue (USER / SYSTEM)
//   {"utterances": [{"speaker","text"}]}     Taskmaster (user / assistant)
//   {"text": "..."}                          plain text
//   any demonstration shape (text/demonstrations.h): prompt + response
// Any other file (optionally .gz) is one document.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rlhf {

struct Document {
  std::string text;
  bool reserved = false;  // held out for evaluation by the split every stage shares
};

struct DocumentFile {
  std::vector<Document> documents;
  bool one_per_line = false;  // a JSONL file; otherwise the whole file is one document
};

bool is_jsonl_file(const std::filesystem::path& file);

// Errors name FILE:LINE and the field at fault. `split_by_hash`: the file's HH lines in the reward
// model's held-out split (text/data_split.h) are marked reserved.
DocumentFile read_documents(const std::filesystem::path& file, bool split_by_hash);

}  // namespace rlhf
