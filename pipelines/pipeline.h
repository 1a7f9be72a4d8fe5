// `rlhf pipeline --config F [--resume] [--from STAGE] [--only STAGE]`: runs the stages in order
// inside run_dir, recording in RUN_DIR/pipeline.db which inputs produced which outputs. With
// --resume a stage whose inputs (configs, data files by content hash, upstream results) are
// unchanged since its last successful run is skipped, a stage interrupted mid-training continues
// from its last checkpoint, and everything downstream of a change reruns. Interrupting at any point
// loses at most the work since the last checkpoint: checkpoints and databases are written atomically.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "pipelines/pipeline_config.h"

namespace rlhf {

struct PipelineOptions {
  bool resume = false;
  std::string from;  // rerun this stage and everything after it
  std::string only;  // run just this stage
};

// Returns {"stages": {name: {"status": done|skipped|waiting, "seconds"}}, "paused_at"?}; also
// written to RUN_DIR/pipeline.json.
nlohmann::json run_pipeline(const PipelineConfig& config, const PipelineOptions& options);

}  // namespace rlhf
