// rlhf: one binary for the whole InstructGPT recipe. Argument parsing and dispatch only: every
// command lives in a library; any error becomes one line on stderr and a non-zero exit.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "app/commands.h"
#ifdef RLHF_WITH_TORCH
#include "dist/runtime.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{"rlhf: train, label, reward-model and PPO-align GPT models (InstructGPT recipe)", "rlhf"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
#ifdef RLHF_WITH_TORCH
  app.set_version_flag("--version", [] { return "rlhf (" + rlhf::build_info() + ")"; });
#else
  app.set_version_flag("--version", "rlhf (labeling only: built without LibTorch)");
#endif

  rlhf::app::register_labeling_commands(app);
#ifdef RLHF_WITH_TORCH
  rlhf::app::register_model_commands(app);
  rlhf::app::register_tokenizer_commands(app);
  rlhf::app::register_train_commands(app);
  rlhf::app::register_report_commands(app);
  rlhf::app::register_pipeline_commands(app);
  rlhf::app::register_launch_command(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << std::string("error: ") + e.what() + "\n" << std::flush;  // one write: ranks share stderr
    return 1;
  }
  return 0;
}
