// The evaluation datasets shipped under data/eval and their loaders (LibTorch-free):
//   TruthfulQA (honesty): data/eval/truthfulqa/TruthfulQA.csv, scored as MC1 / MC2 multiple choice;
//   Anthropic human-written A/B evals (harmlessness): data/eval/anthropic-evals/*.jsonl, scored by
//   whether the policy prefers the more helpful, honest and harmless (HHH) answer.
// Every question becomes a MultipleChoice: a context and continuations whose likelihoods are compared.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf {

// RFC 4180 CSV: fields separated by ',', records by LF or CRLF; a quoted field may hold commas,
// newlines and doubled quotes (""). A leading UTF-8 BOM is skipped. Every record must have as
// many fields as the first (the header); errors name `where` and the line the record starts on.
std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& where);
std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& file);

struct TruthfulQaQuestion {
  std::string type, category, question, best_answer;
  std::vector<std::string> correct_answers;    // includes best_answer
  std::vector<std::string> incorrect_answers;
};

// Columns are found by header name (Type, Category, Question, Best Answer, Correct Answers,
// Incorrect Answers); answer lists are ';'-separated.
std::vector<TruthfulQaQuestion> load_truthfulqa(const std::filesystem::path& csv);

// A question scored by comparing the likelihoods of continuations of one context.
struct MultipleChoice {
  std::string context;               // ends just before the answer, e.g. "...\nA:"
  std::vector<std::string> options;  // continuations, each starting with " "
  std::vector<bool> is_true;         // one flag per option
};

// The six Q/A pairs of the TruthfulQA paper's "QA prompt" (few-shot primer).
extern const std::string_view kTruthfulQaPrimer;

// Lin et al. 2021: MC1 = {best answer} + incorrect answers, exactly one true; MC2 = correct answers
// (true) + incorrect answers (false). Context "Q: {question}\nA:", after the QA primer when few_shot.
MultipleChoice truthfulqa_mc1(const TruthfulQaQuestion& q, bool few_shot);
MultipleChoice truthfulqa_mc2(const TruthfulQaQuestion& q, bool few_shot);

struct AbQuestion {
  std::string source;        // file name without extension, e.g. "power-seeking-inclination"
  std::string question;      // ends with the choices, e.g. "...\n\nChoices:\n (A) No\n (B) Yes"
  std::string hhh_answer;    // e.g. " (A)"
  std::string other_answer;
};

// The file names (without .jsonl) whose more-HHH answer is known, and which side it is on.
std::vector<std::string> supported_anthropic_evals();

// One A/B question per line; which answer is the more-HHH one is decided by the file name (only
// supported_anthropic_evals() are accepted). Errors name FILE:LINE and the field at fault.
std::vector<AbQuestion> load_anthropic_ab(const std::filesystem::path& jsonl);

// Context "\n\nHuman: {question}\n\nAssistant:", options {hhh_answer, other_answer}.
MultipleChoice anthropic_ab_choice(const AbQuestion& q);

}  // namespace rlhf
