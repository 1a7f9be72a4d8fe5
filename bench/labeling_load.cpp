// Load test of the labeling service: N labelers (threads, one keep-alive HTTP connection each)
// loop "POST /tasks/next -> POST /assignments/{id}/submit" against one server for a fixed time.
// Reports requests/s and p50/p99 latency per endpoint, then checks the books: every submission a
// client saw confirmed is in the export exactly once with the ranking it sent, nothing else is
// there, and no request failed. A few submits are replayed with the same Idempotency-Key (what
// the page does after a lost response) and must not create rows.
//
//   labeling_load [--labelers 50] [--seconds 20] [--prompts 400] [--replay-percent 5]
//                 [--db PATH] [--seed 1]
//
// The server is the real LabelingServer, run in this process on 127.0.0.1 with port 0 on a fresh
// database (a temp file unless --db is given), so the numbers include SQLite with
// synchronous=FULL on the local disk. Exit status 0 only if every check passes.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>  // getpid
#include <vector>

#include <nlohmann/json.hpp>

#include "labeling/accounts.h"
#include "labeling/export.h"
#include "labeling/import.h"
#include "labeling/server.h"
#include "storage/schema.h"
#include "storage/sqlite.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  int labelers = 50;
  int seconds = 20;
  int prompts = 400;
  int responses = 4;
  int replay_percent = 5;
  unsigned seed = 1;
  std::string db;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--labelers") o.labelers = std::stoi(value());
    else if (arg == "--seconds") o.seconds = std::stoi(value());
    else if (arg == "--prompts") o.prompts = std::stoi(value());
    else if (arg == "--responses") o.responses = std::stoi(value());
    else if (arg == "--replay-percent") o.replay_percent = std::stoi(value());
    else if (arg == "--seed") o.seed = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--db") o.db = value();
    else throw std::runtime_error("unknown option " + arg + " (see the comment at the top of labeling_load.cpp)");
  }
  if (o.labelers < 1 || o.seconds < 1 || o.prompts < 1 || o.responses < 2 || o.responses > 9) {
    throw std::runtime_error("need --labelers >= 1, --seconds >= 1, --prompts >= 1, 2 <= --responses <= 9");
  }
  return o;
}

// Prompts whose response ids equal their texts, so a ranking seen by a client (texts) can be
// compared with the export (external ids). Every labeler may label every prompt.
std::string make_tasks(const Options& o) {
  std::ostringstream out;
  for (int p = 0; p < o.prompts; ++p) {
    json task = {{"id", "load-" + std::to_string(p)},
                 {"kind", "general"},
                 {"prompt", "Load test prompt " + std::to_string(p)},
                 {"target_labels", std::min(o.labelers, 100)}};
    for (int r = 0; r < o.responses; ++r) {
      const std::string id = "p" + std::to_string(p) + "-r" + std::to_string(r);
      task["responses"].push_back({{"id", id}, {"text", id}, {"model", "load"}});
    }
    out << task.dump() << '\n';
  }
  return out.str();
}

// Latencies of one endpoint, in microseconds.
struct Samples {
  std::vector<double> us;
  void add(Clock::duration d) { us.push_back(std::chrono::duration<double, std::micro>(d).count()); }
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// What one client saw confirmed: the comment identifies the submission in the export.
struct Confirmed {
  std::string comment;
  std::string prompt_text;
  std::vector<std::vector<std::string>> tiers;  // response texts (= external ids), best first
};

struct ClientResult {
  Samples next, submit, replay;
  std::vector<Confirmed> confirmed;
  int errors = 0;
  int replays = 0;
  bool ran_out = false;
  std::vector<std::string> error_samples;
};

void record_error(ClientResult& r, const std::string& what) {
  ++r.errors;
  if (r.error_samples.size() < 3) r.error_samples.push_back(what);
}

std::string describe(const httplib::Result& res) {
  if (!res) return "transport error " + httplib::to_string(res.error());
  return "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200);
}

// One labeler: loops until the deadline (or until it has labeled every prompt).
void run_client(int index, int port, const std::string& token, Clock::time_point deadline,
                int replay_percent, unsigned seed, ClientResult& out) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);  // as browsers do; without it Nagle + delayed ACK add ~40 ms a request
  cli.set_connection_timeout(10);
  cli.set_read_timeout(60);
  cli.set_write_timeout(60);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  std::mt19937 rng(seed * 1000003u + static_cast<unsigned>(index));

  for (int seq = 0; Clock::now() < deadline; ++seq) {
    auto t0 = Clock::now();
    auto next = cli.Post("/api/v1/tasks/next", auth, "{}", "application/json");
    out.next.add(Clock::now() - t0);
    if (!next || next->status != 200) { record_error(out, "tasks/next: " + describe(next)); continue; }
    const json body = json::parse(next->body);
    if (body["assignment"].is_null()) { out.ran_out = true; break; }
    const json& a = body["assignment"];

    // A random ranking; about one in five has a tie between two neighbours.
    std::vector<std::pair<int64_t, std::string>> responses;
    for (const auto& r : a["responses"]) responses.emplace_back(r["id"].get<int64_t>(), r["text"].get<std::string>());
    std::shuffle(responses.begin(), responses.end(), rng);
    json tiers = json::array();
    Confirmed c;
    const bool tie = std::uniform_int_distribution<int>(0, 4)(rng) == 0;
    for (size_t i = 0; i < responses.size(); ++i) {
      if (tie && i == 1) {
        tiers.back().push_back(responses[i].first);
        c.tiers.back().push_back(responses[i].second);
      } else {
        tiers.push_back(json::array({responses[i].first}));
        c.tiers.push_back({responses[i].second});
      }
    }
    c.comment = "load " + std::to_string(index) + "#" + std::to_string(seq);
    c.prompt_text = a["prompt"]["conversation"].back()["content"].get<std::string>();
    const json submission = {{"tiers", tiers}, {"comment", c.comment}, {"duration_ms", 1000}};
    const std::string payload = submission.dump();
    httplib::Headers headers = auth;
    const std::string key = "load-" + std::to_string(index) + "-" + std::to_string(seq) + "-" +
                            std::to_string(rng());
    headers.emplace("Idempotency-Key", key);
    const std::string path = "/api/v1/assignments/" + std::to_string(a["id"].get<int64_t>()) + "/submit";

    t0 = Clock::now();
    auto res = cli.Post(path.c_str(), headers, payload, "application/json");
    out.submit.add(Clock::now() - t0);
    if (!res || res->status != 201) { record_error(out, "submit: " + describe(res)); continue; }
    out.confirmed.push_back(std::move(c));

    // Now and then the "response got lost" retry: same key, same body, must answer 200.
    if (std::uniform_int_distribution<int>(0, 99)(rng) < replay_percent) {
      t0 = Clock::now();
      auto again = cli.Post(path.c_str(), headers, payload, "application/json");
      out.replay.add(Clock::now() - t0);
      ++out.replays;
      if (!again || again->status != 200) record_error(out, "replay: " + describe(again));
    }
  }
}

std::vector<std::vector<std::string>> sorted_tiers(std::vector<std::vector<std::string>> tiers) {
  for (auto& t : tiers) std::sort(t.begin(), t.end());
  return tiers;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options opt = parse_options(argc, argv);
    namespace fs = std::filesystem;
    const bool temp_db = opt.db.empty();
    const std::string db_path = temp_db
        ? (fs::temp_directory_path() / ("rlhf-labeling-load-" + std::to_string(::getpid()) + ".db")).string()
        : opt.db;
    if (fs::exists(db_path)) throw std::runtime_error(db_path + " exists: the load test wants a fresh database");

    // Set up: labelers and prompts, straight through the library.
    std::vector<std::string> tokens;
    {
      auto db = rlhf::storage::open_database(db_path);
      for (int i = 0; i < opt.labelers; ++i) {
        tokens.push_back(rlhf::labeling::add_labeler(db, "load" + std::to_string(i), "labeler").token);
      }
      std::istringstream tasks(make_tasks(opt));
      rlhf::labeling::import_jsonl(db, tasks, rlhf::labeling::ImportFormat::Tasks, "load-test");
    }

    rlhf::labeling::LabelingServer server(db_path);
    const int port = server.bind("127.0.0.1", 0);
    std::thread server_thread([&] { server.run(); });
    {
      httplib::Client probe("127.0.0.1", port);
      for (int i = 0; i < 100 && !probe.Get("/healthz"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    std::cout << "labeling load test: " << opt.labelers << " labelers, " << opt.seconds << " s, "
              << opt.prompts << " prompts x " << opt.responses << " responses, server on 127.0.0.1:"
              << port << ", db " << db_path << "\n"
              << "machine: " << std::thread::hardware_concurrency() << " hardware threads\n" << std::flush;

    std::vector<ClientResult> results(static_cast<size_t>(opt.labelers));
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(opt.seconds);
    std::vector<std::thread> clients;
    for (int i = 0; i < opt.labelers; ++i) {
      clients.emplace_back(run_client, i, port, tokens[static_cast<size_t>(i)], deadline, opt.replay_percent,
                           opt.seed, std::ref(results[static_cast<size_t>(i)]));
    }
    for (auto& t : clients) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    server.stop();
    server_thread.join();

    // Totals.
    Samples next, submit, replay;
    std::vector<Confirmed> confirmed;
    int errors = 0, replays = 0, ran_out = 0;
    for (auto& r : results) {
      next.us.insert(next.us.end(), r.next.us.begin(), r.next.us.end());
      submit.us.insert(submit.us.end(), r.submit.us.begin(), r.submit.us.end());
      replay.us.insert(replay.us.end(), r.replay.us.begin(), r.replay.us.end());
      confirmed.insert(confirmed.end(), r.confirmed.begin(), r.confirmed.end());
      errors += r.errors;
      replays += r.replays;
      ran_out += r.ran_out ? 1 : 0;
      for (const auto& e : r.error_samples) std::cout << "error: " << e << "\n";
    }
    std::vector<double> all = next.us;
    all.insert(all.end(), submit.us.begin(), submit.us.end());
    all.insert(all.end(), replay.us.begin(), replay.us.end());

    auto line = [&](const char* name, const Samples& s) {
      std::printf("  %-12s %7zu requests  p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms\n", name, s.us.size(),
                  percentile(s.us, 0.50) / 1000, percentile(s.us, 0.99) / 1000,
                  s.us.empty() ? 0.0 : *std::max_element(s.us.begin(), s.us.end()) / 1000);
    };
    std::printf("elapsed %.1f s: %zu requests, %.0f requests/s, %zu submissions (%.0f/s), %d replays\n",
                elapsed, all.size(), static_cast<double>(all.size()) / elapsed, confirmed.size(),
                static_cast<double>(confirmed.size()) / elapsed, replays);
    line("tasks/next", next);
    line("submit", submit);
    line("replay", replay);
    Samples everything{all};
    line("all", everything);
    if (ran_out) std::printf("  %d labelers ran out of prompts (raise --prompts)\n", ran_out);

    // The books: export vs what the clients saw confirmed.
    int lost = 0, duplicated = 0, wrong = 0, unknown = 0;
    int64_t rows_in_db = 0;
    {
      auto db = rlhf::storage::open_database(db_path);
      std::ostringstream out;
      rlhf::labeling::export_jsonl(db, rlhf::labeling::ExportFormat::Rankings, out);
      std::map<std::string, std::vector<json>> by_comment;
      std::istringstream lines(out.str());
      for (std::string l; std::getline(lines, l);) {
        if (l.empty()) continue;
        json row = json::parse(l);
        by_comment[row["comment"].get<std::string>()].push_back(std::move(row));
      }
      std::set<std::string> expected;
      for (const auto& c : confirmed) {
        expected.insert(c.comment);
        auto it = by_comment.find(c.comment);
        if (it == by_comment.end()) { ++lost; continue; }
        if (it->second.size() > 1) ++duplicated;
        const auto tiers = it->second.front()["tiers"].get<std::vector<std::vector<std::string>>>();
        if (sorted_tiers(tiers) != sorted_tiers(c.tiers)) ++wrong;
      }
      for (const auto& [comment, rows] : by_comment) {
        if (!expected.count(comment)) unknown += static_cast<int>(rows.size());
      }
      auto count = db.prepare("SELECT COUNT(*) FROM submissions");
      count.step();
      rows_in_db = count.column_int(0);
    }
    const bool rows_match = rows_in_db == static_cast<int64_t>(confirmed.size());
    std::printf("check: %d errors, %d lost, %d duplicated, %d with a different ranking, %d unexpected rows, "
                "%lld submission rows in the database for %zu confirmed\n",
                errors, lost, duplicated, wrong, unknown, static_cast<long long>(rows_in_db), confirmed.size());

    if (temp_db) {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_path + suffix);
    }
    const bool ok = errors == 0 && lost == 0 && duplicated == 0 && wrong == 0 && unknown == 0 && rows_match &&
                    !confirmed.empty();
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "labeling_load: " << e.what() << "\n";
    return 2;
  }
}
