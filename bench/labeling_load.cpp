// Load test of the labeling service: N labelers (threads, one keep-alive HTTP connection each)
// loop "POST /tasks/next -> POST /assignments/{id}/submit -> GET /me" (what the page does) against
// one server for a fixed time, while one more client asks GET /healthz every 100 ms. Reports
// requests/s and p50/p99 latency per route, then checks the books: every submission a client saw
// confirmed is in the export exactly once with the ranking it sent, nothing else is there, and no
// request failed. A few submits are replayed with the same Idempotency-Key (what the page does
// after a lost response) and must not create rows.
//
//   labeling_load [--labelers 50] [--seconds 20] [--prompts 400] [--responses 4]
//                 [--target-labels min(labelers, 100)] [--gold-prompts 0] [--replay-percent 5]
//                 [--think-ms 0] [--db PATH] [--seed 1]
//
// With --think-ms 0 every labeler sends its next request as soon as the last one is answered, so
// the server is saturated and latency is (labelers / throughput): a test of throughput. With
// --think-ms T each labeler starts after a random 0..2T ms and pauses as long after each task, as
// a (very fast) person would, and latency shows what one request costs while others arrive.
//
// The server is the real LabelingServer, run in this process on 127.0.0.1 with port 0 on a fresh
// database (a temp file unless --db is given), so the numbers include SQLite with
// synchronous=FULL on the local disk. The prompts are written by SQL in one transaction, so a
// million of them take seconds. Exit status 0 only if every check passes.
#include <httplib.h>
#include <sys/resource.h>  // getrusage
#include <unistd.h>        // getpid, sysconf

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "labeling/accounts.h"
#include "labeling/export.h"
#include "labeling/server.h"
#include "storage/clock.h"
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
  int target_labels = 0;  // 0: min(labelers, 100), so every labeler may label every prompt
  int gold_prompts = 0;
  int replay_percent = 5;
  int think_ms = 0;
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
    else if (arg == "--target-labels") o.target_labels = std::stoi(value());
    else if (arg == "--gold-prompts") o.gold_prompts = std::stoi(value());
    else if (arg == "--replay-percent") o.replay_percent = std::stoi(value());
    else if (arg == "--think-ms") o.think_ms = std::stoi(value());
    else if (arg == "--seed") o.seed = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--db") o.db = value();
    else throw std::runtime_error("unknown option " + arg + " (see the comment at the top of labeling_load.cpp)");
  }
  if (o.target_labels == 0) o.target_labels = std::min(o.labelers, 100);
  if (o.labelers < 1 || o.seconds < 1 || o.prompts < 1 || o.responses < 2 || o.responses > 9 ||
      o.target_labels < 1 || o.target_labels > 100 || o.gold_prompts < 0 || o.gold_prompts > o.prompts || o.think_ms < 0) {
    throw std::runtime_error("need --labelers >= 1, --seconds >= 1, --prompts >= 1, 2 <= --responses <= 9, "
                             "1 <= --target-labels <= 100, 0 <= --gold-prompts <= --prompts, --think-ms >= 0");
  }
  return o;
}

// Prompts whose response ids equal their texts, so a ranking seen by a client (texts) can be
// compared with the export (external ids). Written with SQL in one transaction rather than through
// the JSONL import, which parses and hashes every line: a million prompts take seconds this way.
// Gold prompts (ranked by position) are spread evenly over the ids.
void create_prompts(rlhf::storage::Database& db, const Options& o) {
  rlhf::storage::Transaction transaction(db);
  db.prepare(R"sql(
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
    INSERT INTO prompts (external_id, kind, conversation, target_labels, source, content_hash, created_at)
    SELECT 'load-' || i, 'general', json_array(json_object('role', 'user', 'content', 'Load test prompt ' || i)),
           ?2, 'tasks', 'load-' || i, ?3
    FROM n)sql")
      .bind(1, o.prompts)
      .bind(2, o.target_labels)
      .bind(3, rlhf::storage::utc_now())
      .run();
  db.prepare(R"sql(
    WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < ?1)
    INSERT INTO responses (prompt_id, external_id, text, model, position)
    SELECT p.id, 'p' || p.id || '-r' || k.j, 'p' || p.id || '-r' || k.j, 'load', k.j
    FROM prompts p, k ORDER BY p.id, k.j)sql")
      .bind(1, o.responses)
      .run();
  if (o.gold_prompts > 0) {
    db.prepare(R"sql(
      UPDATE prompts SET is_gold = 1,
        gold_ranking = (SELECT json_group_array(json_array(id))
                        FROM (SELECT id FROM responses WHERE prompt_id = prompts.id ORDER BY position))
      WHERE id % ?1 = 0)sql")
        .bind(1, o.prompts / o.gold_prompts)
        .run();
  }
  transaction.commit();
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
  Samples next, submit, me, replay, healthz;
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
                const Options& o, ClientResult& out) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);  // as browsers do; without it Nagle + delayed ACK add ~40 ms a request
  cli.set_connection_timeout(10);
  cli.set_read_timeout(60);
  cli.set_write_timeout(60);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  std::mt19937 rng(o.seed * 1000003u + static_cast<unsigned>(index));
  const auto think = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 2 * o.think_ms)(rng)));
  };
  // Paced labelers also start at random moments, as people do; at once they would be a burst.
  if (o.think_ms > 0) think();

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
    if (std::uniform_int_distribution<int>(0, 99)(rng) < o.replay_percent) {
      t0 = Clock::now();
      auto again = cli.Post(path.c_str(), headers, payload, "application/json");
      out.replay.add(Clock::now() - t0);
      ++out.replays;
      if (!again || again->status != 200) record_error(out, "replay: " + describe(again));
    }

    // The page refreshes its progress counter (done, skipped, left) after every answer.
    t0 = Clock::now();
    auto me = cli.Get("/api/v1/me", auth);
    out.me.add(Clock::now() - t0);
    if (!me || me->status != 200) record_error(out, "me: " + describe(me));

    if (o.think_ms > 0) think();
  }
}

// An operator's monitor: GET /healthz every 100 ms on its own connection until the deadline.
void run_health_probe(int port, Clock::time_point deadline, ClientResult& out) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_read_timeout(60);
  while (Clock::now() < deadline) {
    const auto t0 = Clock::now();
    auto res = cli.Get("/healthz");
    out.healthz.add(Clock::now() - t0);
    if (!res || res->status != 200) record_error(out, "healthz: " + describe(res));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// CPU time of the whole machine and of this process, to tell how much other work shared the
// cores during the run ("other load", in cores).
struct CpuTimes {
  double busy_seconds = 0;  // all processes: user + nice + system + irq + softirq + steal
  double own_seconds = 0;   // this process: user + system
};

CpuTimes cpu_times() {
  CpuTimes t;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) {
    t.busy_seconds = (user + nice + system + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& v) { return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6; };
  t.own_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  return t;
}

std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
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

    // Set up: labelers through the library, prompts by SQL.
    std::vector<std::string> tokens;
    const auto setup_start = Clock::now();
    {
      auto db = rlhf::storage::open_database(db_path);
      for (int i = 0; i < opt.labelers; ++i) {
        tokens.push_back(rlhf::labeling::add_labeler(db, "load" + std::to_string(i), "labeler").token);
      }
      create_prompts(db, opt);
    }
    const double setup_seconds = std::chrono::duration<double>(Clock::now() - setup_start).count();

    rlhf::labeling::LabelingServer server(db_path);
    const int port = server.bind("127.0.0.1", 0);
    std::thread server_thread([&] { server.run(); });
    {
      httplib::Client probe("127.0.0.1", port);
      for (int i = 0; i < 100 && !probe.Get("/healthz"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    std::cout << "labeling load test: " << opt.labelers << " labelers, " << opt.seconds << " s, "
              << opt.prompts << " prompts x " << opt.responses << " responses (" << opt.gold_prompts
              << " gold, target " << opt.target_labels << " labels), think time " << opt.think_ms
              << " ms, prompts written in " << setup_seconds
              << " s, server on 127.0.0.1:" << port << ", db " << db_path << " ("
              << fs::file_size(db_path) / (1 << 20) << " MiB)\n"
              << "machine: " << cpu_model() << ", " << std::thread::hardware_concurrency() << " hardware threads\n"
              << std::flush;

    std::vector<ClientResult> results(static_cast<size_t>(opt.labelers));
    ClientResult health;
    const CpuTimes cpu_before = cpu_times();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(opt.seconds);
    std::vector<std::thread> clients;
    for (int i = 0; i < opt.labelers; ++i) {
      clients.emplace_back(run_client, i, port, tokens[static_cast<size_t>(i)], deadline, std::cref(opt),
                           std::ref(results[static_cast<size_t>(i)]));
    }
    clients.emplace_back(run_health_probe, port, deadline, std::ref(health));
    for (auto& t : clients) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const CpuTimes cpu_after = cpu_times();
    server.stop();
    server_thread.join();

    // Totals.
    Samples next, submit, me, replay;
    std::vector<Confirmed> confirmed;
    int errors = health.errors, replays = 0, ran_out = 0;
    for (const auto& e : health.error_samples) std::cout << "error: " << e << "\n";
    for (auto& r : results) {
      next.us.insert(next.us.end(), r.next.us.begin(), r.next.us.end());
      submit.us.insert(submit.us.end(), r.submit.us.begin(), r.submit.us.end());
      me.us.insert(me.us.end(), r.me.us.begin(), r.me.us.end());
      replay.us.insert(replay.us.end(), r.replay.us.begin(), r.replay.us.end());
      confirmed.insert(confirmed.end(), r.confirmed.begin(), r.confirmed.end());
      errors += r.errors;
      replays += r.replays;
      ran_out += r.ran_out ? 1 : 0;
      for (const auto& e : r.error_samples) std::cout << "error: " << e << "\n";
    }
    std::vector<double> all = next.us;
    all.insert(all.end(), submit.us.begin(), submit.us.end());
    all.insert(all.end(), me.us.begin(), me.us.end());
    all.insert(all.end(), replay.us.begin(), replay.us.end());

    auto line = [&](const char* name, const Samples& s) {
      std::printf("  %-13s %7zu requests  p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms\n", name, s.us.size(),
                  percentile(s.us, 0.50) / 1000, percentile(s.us, 0.99) / 1000,
                  s.us.empty() ? 0.0 : *std::max_element(s.us.begin(), s.us.end()) / 1000);
    };
    std::printf("elapsed %.1f s: %zu requests, %.0f requests/s, %zu submissions (%.0f/s), %d replays\n",
                elapsed, all.size(), static_cast<double>(all.size()) / elapsed, confirmed.size(),
                static_cast<double>(confirmed.size()) / elapsed, replays);
    // Clock ticks and rusage round differently: a quiet machine can come out slightly negative.
    const double other_load = std::max(0.0, ((cpu_after.busy_seconds - cpu_before.busy_seconds) -
                                             (cpu_after.own_seconds - cpu_before.own_seconds)) / elapsed);
    std::printf("other load: %.2f cores busy with other processes during the run\n", other_load);
    line("tasks/next", next);
    line("submit", submit);
    line("me", me);
    line("replay", replay);
    line("healthz", health.healthz);
    Samples everything{all};
    line("all labelers", everything);
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
