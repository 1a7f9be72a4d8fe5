// The pipeline's lineage database (RUN_DIR/pipeline.db, SQLite): every stage run with the
// fingerprint of its inputs (configs, data files by content hash, the upstream chain), its status
// and timing, and the files it read and wrote. Resume skips a stage whose last successful run has
// the same fingerprint.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace rlhf {

struct StageRun {
  int64_t id = 0;
  std::string stage, fingerprint, status;  // status: running, done, failed, waiting
  std::string output_hash;                 // what downstream stages chain on (e.g. the labels' hash)
  double seconds = 0.0;
};

struct Artifact {
  std::string role;  // input or output
  std::string path;
  std::string hash;
};

class Lineage {
 public:
  explicit Lineage(const std::string& path);  // creates the schema if needed
  std::optional<StageRun> latest(const std::string& stage);
  int64_t begin(const std::string& stage, const std::string& fingerprint, const std::vector<Artifact>& inputs);
  void finish(int64_t run_id, const std::string& status, double seconds, const std::string& output_hash,
              const std::vector<Artifact>& outputs, const std::string& message = "");
  std::vector<Artifact> artifacts(int64_t run_id);

 private:
  storage::Database db_;
};

}  // namespace rlhf
