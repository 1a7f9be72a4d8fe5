// tokenize, tokenizer train: text <-> ids with a GPT-2 style tokenizer, and BPE training.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "text/bpe_trainer.h"
#include "text/tokenizer.h"

namespace rlhf::app {

namespace {

using nlohmann::json;

std::string read_stdin() {
  std::ostringstream buffer;
  buffer << std::cin.rdbuf();  // binary-safe; empty stdin gives ""
  return buffer.str();
}

// --decode input: a JSON array of ids, {"ids": [...]}, or the plain output of `rlhf tokenize`
// (ids separated by spaces, commas or newlines), so the two modes pipe into each other.
std::vector<TokenId> parse_ids(const std::string& input) {
  const auto first = input.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (input[first] == '[' || input[first] == '{')) {
    json parsed = json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("ids")) parsed = parsed["ids"];
    if (!parsed.is_array())
      throw std::runtime_error("tokenize --decode: expected a JSON array of ids or {\"ids\": [...]} on stdin");
    std::vector<TokenId> ids;
    for (const auto& id : parsed) {
      if (!id.is_number_integer())
        throw std::runtime_error("tokenize --decode: " + id.dump() + " is not a token id");
      ids.push_back(id.get<TokenId>());
    }
    return ids;
  }
  std::string plain = input;
  for (char& c : plain)
    if (c == ',') c = ' ';
  std::istringstream in(plain);
  std::vector<TokenId> ids;
  for (std::string item; in >> item;) {
    size_t used = 0;
    try {
      ids.push_back(std::stoll(item, &used));
    } catch (const std::logic_error&) {
      used = 0;
    }
    if (used != item.size())
      throw std::runtime_error("tokenize --decode: \"" + item + "\" is not a token id (expected ids or a JSON array)");
  }
  return ids;
}

void register_tokenize(CLI::App& app) {
  struct Options {
    std::string tokenizer;
    bool decode = false;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "tokenize", "Encode UTF-8 text from stdin into token ids (or decode ids with --decode)");
  command->add_option("--tokenizer", options->tokenizer, "Directory with encoder.json and vocab.bpe")->required();
  command->add_flag("--decode", options->decode, "Read ids (JSON array, {\"ids\": [...]} or plain) and print the text");
  command->add_flag("--json", options->json, "Print {\"ids\": [...]} or {\"text\": ...}");
  command->callback([options] {
    const auto tokenizer = Tokenizer::load(options->tokenizer);
    const std::string input = read_stdin();
    if (options->decode) {
      const std::string text = tokenizer.decode(parse_ids(input));
      if (options->json) {
        // A cut inside a UTF-8 sequence cannot go into JSON as is: it becomes U+FFFD there.
        std::cout << json{{"text", text}}.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      } else {
        std::cout << text;  // byte-exact: no newline added
      }
      return;
    }
    const auto ids = tokenizer.encode(input);
    if (options->json) {
      std::cout << json{{"ids", ids}}.dump() << "\n";
      return;
    }
    for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
  });
}

void register_tokenizer_train(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    BpeTrainOptions train;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  auto* group = app.add_subcommand("tokenizer", "Tokenizer tools");
  group->require_subcommand(1);
  auto* command = group->add_subcommand(
      "train", "Train a byte-level BPE tokenizer (GPT-2 format: encoder.json + vocab.bpe) on text files");
  command->add_option("--input", options->inputs, "UTF-8 text files to learn from")->required()->check(CLI::ExistingFile);
  command->add_option("--vocab-size", options->train.vocab_size, "Tokens including 256 bytes and <|endoftext|>")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{257}, int64_t{1} << 30));
  command->add_option("--min-pair-count", options->train.min_pair_count, "Stop early when no pair occurs this often")
      ->capture_default_str();
  command->add_option("--out", options->out, "Output directory")->required();
  command->callback([options] {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::filesystem::path> files(options->inputs.begin(), options->inputs.end());
    const Tokenizer tokenizer = train_bpe(files, options->train);
    tokenizer.save(options->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "vocab size " << tokenizer.vocab_size() << ", " << tokenizer.merge_count() << " merges, "
              << std::fixed << std::setprecision(2) << seconds << " s -> " << options->out << "\n";
  });
}

}  // namespace

void register_tokenizer_commands(CLI::App& app) {
  register_tokenize(app);
  register_tokenizer_train(app);
}

}  // namespace rlhf::app
