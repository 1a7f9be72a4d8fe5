#include "text/tokenizer_source.h"

#include <stdexcept>

#include "io/files.h"
#include "text/bpe_trainer.h"

namespace rlhf {

namespace fs = std::filesystem;

Tokenizer resolve_tokenizer(const TokenizerSource& source, const fs::path& out_dir) {
  const fs::path saved = out_dir / "tokenizer";
  if (fs::exists(saved / "encoder.json")) return Tokenizer::load(saved);
  Tokenizer tokenizer;
  if (source.train_vocab_size > 0) {
    BpeTrainOptions options;
    options.vocab_size = source.train_vocab_size;
    tokenizer = train_bpe(expand_files(source.train_files, "tokenizer.train_files"), options);
  } else if (!source.dir.empty()) {
    tokenizer = Tokenizer::load(source.dir);
  } else {
    throw std::runtime_error("tokenizer: set tokenizer.dir or tokenizer.train_vocab_size (or init_from a checkpoint)");
  }
  fs::create_directories(out_dir);
  tokenizer.save(saved);
  return tokenizer;
}

}  // namespace rlhf
