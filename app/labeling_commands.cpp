// serve, labelers add|revoke|list, labeling import|export: parse arguments, call labeling/.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/commands.h"
#include "labeling/accounts.h"
#include "labeling/export.h"
#include "labeling/import.h"
#include "labeling/server.h"
#include "storage/labelers.h"
#include "storage/schema.h"

namespace rlhf::app {
namespace {

struct ServeArgs {
  std::string db;
  std::string host = "127.0.0.1";
  int port = 8080;
  bool secure_cookies = false;
  std::vector<std::string> public_origins;
  int session_idle_minutes = 12 * 60;
  int session_max_hours = 7 * 24;
};

struct LabelerArgs {
  std::string db;
  std::string name;
  bool admin = false;
};

struct TransferArgs {
  std::string db;
  std::string file;
  std::string format;
};

void serve(const ServeArgs& args) {
  labeling::ServerOptions options;
  options.secure_cookies = args.secure_cookies;
  options.public_origins = args.public_origins;
  options.sessions.idle_timeout = std::chrono::minutes(args.session_idle_minutes);
  options.sessions.max_lifetime = std::chrono::hours(args.session_max_hours);
  labeling::LabelingServer server(args.db, options);
  const int port = server.bind(args.host, args.port);
  // Tests and scripts read this line to learn the port; flush so they see it at once.
  std::cout << "listening on http://" << args.host << ":" << port << std::endl;
  std::string origins;
  for (const auto& origin : server.allowed_origins()) origins += (origins.empty() ? "" : ", ") + origin;
  std::cerr << "the page may be used from: " << origins << " (add others with --public-origin)" << std::endl;
  for (const auto& origin : server.allowed_origins()) {
    if (origin.rfind("https://", 0) == 0 && !args.secure_cookies) {
      std::cerr << "warning: " << origin << " is https but --secure-cookies is off: the session cookie may also be "
                << "sent over plain http" << std::endl;
      break;
    }
  }
  server.run_until_signal();
}

void register_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the labeling web service");
  serve_cmd->add_option("--db", args->db, "SQLite database (created if missing)")->required();
  serve_cmd->add_option("--host", args->host, "Address to listen on")->capture_default_str();
  serve_cmd->add_option("--port", args->port, "Port (0 picks a free one)")->capture_default_str();
  serve_cmd->add_flag("--secure-cookies", args->secure_cookies,
                      "Mark the session cookie Secure (browsers reach the server over https, e.g. behind a TLS proxy)");
  serve_cmd->add_option("--public-origin", args->public_origins,
                        "Origin the page is served from besides --host:--port, e.g. https://label.example.org "
                        "(repeatable); browser POSTs from other origins are refused");
  serve_cmd->add_option("--session-idle-minutes", args->session_idle_minutes,
                        "A browser session unused this long ends")->capture_default_str();
  serve_cmd->add_option("--session-max-hours", args->session_max_hours,
                        "No browser session lasts longer than this")->capture_default_str();
  serve_cmd->callback([args] { serve(*args); });
}

void register_labelers(CLI::App& app) {
  auto args = std::make_shared<LabelerArgs>();
  CLI::App* labelers = app.add_subcommand("labelers", "Manage labeler accounts");
  labelers->require_subcommand(1);

  CLI::App* add = labelers->add_subcommand("add", "Add a labeler and print their token (shown once)");
  add->add_option("--db", args->db, "SQLite database")->required();
  add->add_option("--name", args->name, "Labeler name (A-Z a-z 0-9 _ . -)")->required();
  add->add_flag("--admin", args->admin, "Give admin rights (import, stats, export, accounts)");
  add->callback([args] {
    auto db = storage::open_database(args->db);
    const auto account = labeling::add_labeler(db, args->name, args->admin ? "admin" : "labeler");
    std::cout << account.token << std::endl;
    std::cerr << "added " << account.role << " " << account.name << "; the token above is not stored, keep it" << std::endl;
  });

  CLI::App* revoke = labelers->add_subcommand("revoke", "Revoke a labeler's token");
  revoke->add_option("--db", args->db, "SQLite database")->required();
  revoke->add_option("--name", args->name, "Labeler name")->required();
  revoke->callback([args] {
    auto db = storage::open_database(args->db);
    labeling::revoke_labeler(db, args->name);
    std::cout << "revoked " << args->name << std::endl;
  });

  CLI::App* list = labelers->add_subcommand("list", "List labelers");
  list->add_option("--db", args->db, "SQLite database")->required();
  list->callback([args] {
    auto db = storage::open_database(args->db);
    for (const auto& labeler : storage::list_labelers(db)) {
      std::cout << labeler.name << '\t' << labeler.role << '\t' << (labeler.active ? "active" : "revoked") << '\t'
                << labeler.created_at << '\n';
    }
  });
}

void register_labeling(CLI::App& app) {
  auto args = std::make_shared<TransferArgs>();
  CLI::App* labeling_cmd = app.add_subcommand("labeling", "Import tasks, export labels");
  labeling_cmd->require_subcommand(1);

  CLI::App* import = labeling_cmd->add_subcommand("import", "Import prompts with responses, or HH-RLHF pairs (JSONL)");
  import->add_option("--db", args->db, "SQLite database (created if missing)")->required();
  import->add_option("--file", args->file, "JSONL file")->required()->check(CLI::ExistingFile);
  import->add_option("--format", args->format, "auto, tasks or hh")->default_val("auto");
  import->callback([args] {
    std::ifstream input(args->file);
    if (!input) throw std::runtime_error("cannot read " + args->file);
    auto db = storage::open_database(args->db);
    const auto summary = labeling::import_jsonl(db, input, labeling::parse_import_format(args->format), args->file);
    std::cout << "imported " << summary.imported << " prompts (" << summary.unchanged << " unchanged) from "
              << args->file << std::endl;
  });

  CLI::App* export_cmd = labeling_cmd->add_subcommand("export", "Export live rankings or preference pairs (JSONL)");
  export_cmd->add_option("--db", args->db, "SQLite database")->required()->check(CLI::ExistingFile);
  export_cmd->add_option("--format", args->format, "rankings, pairs or prompts")->required();
  export_cmd->add_option("--out", args->file, "Output JSONL file (written atomically)")->required();
  export_cmd->callback([args] {
    auto db = storage::open_database(args->db);
    const size_t lines = labeling::export_to_file(db, labeling::parse_export_format(args->format), args->file);
    std::cout << "wrote " << lines << " lines to " << args->file << std::endl;
  });
}

}  // namespace

void register_labeling_commands(CLI::App& app) {
  register_serve(app);
  register_labelers(app);
  register_labeling(app);
}

}  // namespace rlhf::app
