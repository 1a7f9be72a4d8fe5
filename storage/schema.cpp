#include "storage/schema.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace rlhf::storage {
namespace {

// Version 1: who labels what. Tiers are stored one row per response (submission_ranks) so the
// database itself can check that a response appears once per submission.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE labelers (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  role        TEXT NOT NULL CHECK (role IN ('labeler', 'admin', 'external')),
  token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at  TEXT NOT NULL
);

CREATE TABLE prompts (
  id             INTEGER PRIMARY KEY,
  external_id    TEXT NOT NULL UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
  kind           TEXT NOT NULL CHECK (kind IN ('helpful', 'harmless', 'honest', 'general')),
  conversation   TEXT NOT NULL CHECK (json_valid(conversation)),
  target_labels  INTEGER NOT NULL CHECK (target_labels BETWEEN 0 AND 100),
  is_gold        INTEGER NOT NULL DEFAULT 0 CHECK (is_gold IN (0, 1)),
  gold_ranking   TEXT CHECK (gold_ranking IS NULL OR json_valid(gold_ranking)),
  batch          TEXT,
  source         TEXT NOT NULL CHECK (source IN ('tasks', 'hh-rlhf')),
  content_hash   TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  CHECK (is_gold = (gold_ranking IS NOT NULL))
);

CREATE TABLE responses (
  id           INTEGER PRIMARY KEY,
  prompt_id    INTEGER NOT NULL REFERENCES prompts(id),
  external_id  TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
  text         TEXT NOT NULL,  -- may be empty: an empty answer can be the preferred one (HH-RLHF)
  model        TEXT,
  position     INTEGER NOT NULL,
  UNIQUE (prompt_id, external_id),
  UNIQUE (prompt_id, position)
);

CREATE TABLE assignments (
  id           INTEGER PRIMARY KEY,
  labeler_id   INTEGER NOT NULL REFERENCES labelers(id),
  prompt_id    INTEGER NOT NULL REFERENCES prompts(id),
  shown_order  TEXT NOT NULL CHECK (json_valid(shown_order)),
  status       TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'skipped')),
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  UNIQUE (labeler_id, prompt_id)
);
-- A labeler works on one task at a time; the database enforces it even under racing requests.
CREATE UNIQUE INDEX assignments_one_open_per_labeler ON assignments(labeler_id) WHERE status = 'open';
CREATE INDEX assignments_by_prompt ON assignments(prompt_id, status);

CREATE TABLE submissions (
  id                  INTEGER PRIMARY KEY,
  assignment_id       INTEGER NOT NULL REFERENCES assignments(id),
  labeler_id          INTEGER NOT NULL REFERENCES labelers(id),
  idempotency_key     TEXT NOT NULL,
  request_json        TEXT NOT NULL,
  comment             TEXT NOT NULL DEFAULT '',
  duration_ms         INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
  guidelines_version  TEXT,
  version             INTEGER NOT NULL CHECK (version >= 1),
  supersedes          INTEGER REFERENCES submissions(id),
  live                INTEGER NOT NULL CHECK (live IN (0, 1)),
  created_at          TEXT NOT NULL,
  UNIQUE (labeler_id, idempotency_key),
  UNIQUE (assignment_id, version)
);
CREATE UNIQUE INDEX submissions_one_live_per_assignment ON submissions(assignment_id) WHERE live = 1;

CREATE TABLE submission_ranks (
  submission_id  INTEGER NOT NULL REFERENCES submissions(id),
  response_id    INTEGER NOT NULL REFERENCES responses(id),
  tier           INTEGER NOT NULL CHECK (tier >= 0),
  PRIMARY KEY (submission_id, response_id)
) WITHOUT ROWID;
)sql";

// Version 2: InstructGPT-style labeling metadata. Flags and skip reasons are data, so the page
// shows whatever the database holds and a later migration can add one without touching the page.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE flags (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE,
  label        TEXT NOT NULL,
  description  TEXT NOT NULL,
  sort_order   INTEGER NOT NULL
);
INSERT INTO flags (code, label, description, sort_order) VALUES
  ('fails_instruction', 'Fails to follow the instruction',
   'Does not do what the user asked, or ignores explicit constraints.', 1),
  ('hallucination', 'Makes up facts',
   'States information that is false or invented (hallucination).', 2),
  ('dishonest', 'Dishonest or misleading',
   'Misrepresents what it knows, its reasoning, or the facts in a way that misleads.', 3),
  ('harmful_advice', 'Harmful advice',
   'Gives advice that could cause physical, financial or other real harm.', 4),
  ('violence_self_harm', 'Encourages violence or self-harm',
   'Encourages or glorifies violence, abuse, terrorism or self-harm.', 5),
  ('sexual_content', 'Sexual content',
   'Contains sexual content that the request did not call for.', 6),
  ('denigrates_protected_class', 'Denigrates a protected class',
   'Demeans people for a protected characteristic (race, religion, gender, disability, ...).', 7),
  ('inappropriate_for_assistant', 'Inappropriate for a customer assistant',
   'Would be unacceptable coming from a customer-facing assistant.', 8),
  ('expresses_opinion', 'Expresses an opinion or moral judgement',
   'Offers its own opinion or moral judgement where a neutral answer was expected.', 9);

CREATE TABLE skip_reasons (
  code        TEXT PRIMARY KEY,
  label       TEXT NOT NULL,
  sort_order  INTEGER NOT NULL
);
INSERT INTO skip_reasons (code, label, sort_order) VALUES
  ('unclear_prompt', 'The prompt is unclear or broken', 1),
  ('needs_expertise', 'I lack the expertise to judge these answers', 2),
  ('offensive_content', 'I do not want to read this content', 3),
  ('responses_broken', 'The responses are empty, garbled or identical', 4),
  ('other', 'Other (please comment)', 5);

CREATE TABLE response_ratings (
  submission_id  INTEGER NOT NULL REFERENCES submissions(id),
  response_id    INTEGER NOT NULL REFERENCES responses(id),
  likert         INTEGER NOT NULL CHECK (likert BETWEEN 1 AND 7),
  PRIMARY KEY (submission_id, response_id)
) WITHOUT ROWID;

CREATE TABLE response_flags (
  submission_id  INTEGER NOT NULL REFERENCES submissions(id),
  response_id    INTEGER NOT NULL REFERENCES responses(id),
  flag_id        INTEGER NOT NULL REFERENCES flags(id),
  PRIMARY KEY (submission_id, response_id, flag_id)
) WITHOUT ROWID;

CREATE TABLE skips (
  assignment_id  INTEGER PRIMARY KEY REFERENCES assignments(id),
  reason         TEXT NOT NULL REFERENCES skip_reasons(code),
  comment        TEXT NOT NULL DEFAULT '',
  created_at     TEXT NOT NULL
);
)sql";

// Version 3: browser sessions (labeling/sessions.h). The cookie carries a random session id, never
// the labeler's token; only the id's SHA-256 is stored, so logout and revocation can end it here.
// expires_at is when it ends if unused (extended on use, never past max_expires_at).
constexpr const char* kMigration3 = R"sql(
CREATE TABLE sessions (
  id_hash         TEXT PRIMARY KEY CHECK (length(id_hash) = 64),
  labeler_id      INTEGER NOT NULL REFERENCES labelers(id),
  created_at      TEXT NOT NULL,
  last_seen_at    TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  max_expires_at  TEXT NOT NULL,
  CHECK (expires_at <= max_expires_at)
) WITHOUT ROWID;
CREATE INDEX sessions_by_labeler ON sessions(labeler_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
)sql";

// Version 4: the task queue without scans (labeling/tasks.cpp asks for the next prompt and for
// how many are left on every request). An index orders the prompts by labels still missing, and
// counters kept by the triggers below answer the counts; storage/task_queue.h explains how the two
// give exactly what a scan of every prompt gave. Existing rows are counted here, before the
// triggers exist, so nothing is counted twice.
//
// Two words used below: a prompt is "gold" if it is a gold prompt with target_labels > 0 (every
// labeler sees every one) and "wanted" if it is another prompt with target_labels > 0 that still
// misses labels (submitted assignments < target_labels).
constexpr const char* kMigration4 = R"sql(
-- Submitted assignments of the prompt, kept by the assignment triggers: never written directly.
ALTER TABLE prompts ADD COLUMN submitted_labels INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN missing_labels INTEGER GENERATED ALWAYS AS (target_labels - submitted_labels) VIRTUAL;
UPDATE prompts
SET submitted_labels = (SELECT count(*) FROM assignments a WHERE a.prompt_id = prompts.id AND a.status = 'submitted')
WHERE id IN (SELECT prompt_id FROM assignments WHERE status = 'submitted');

-- The queue: for each kind, the prompts that need the most labels first, then the oldest.
CREATE INDEX prompts_queue ON prompts(is_gold, missing_labels DESC, id) WHERE target_labels > 0;
-- Assignments that may hold a slot (open ones; the expiry tells whether they still do).
CREATE INDEX assignments_open_by_expiry ON assignments(expires_at) WHERE status = 'open';
-- A labeler's assignments in the order they were made (the gold block looks at the latest ones).
CREATE INDEX assignments_by_labeler ON assignments(labeler_id, id);

-- One row: how many gold and wanted prompts there are.
CREATE TABLE queue_counts (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  gold_prompts    INTEGER NOT NULL,
  wanted_prompts  INTEGER NOT NULL
);
INSERT INTO queue_counts (id, gold_prompts, wanted_prompts)
SELECT 1, coalesce(sum(is_gold = 1), 0), coalesce(sum(is_gold = 0 AND missing_labels > 0), 0)
FROM prompts WHERE target_labels > 0;

-- One row per labeler: their assignments by status, and how many of the gold and wanted prompts
-- they were already assigned (those can never come to them again).
CREATE TABLE labeler_counts (
  labeler_id       INTEGER PRIMARY KEY REFERENCES labelers(id) ON DELETE CASCADE,
  assigned         INTEGER NOT NULL DEFAULT 0,
  submitted        INTEGER NOT NULL DEFAULT 0,
  skipped          INTEGER NOT NULL DEFAULT 0,
  gold_assigned    INTEGER NOT NULL DEFAULT 0,
  wanted_assigned  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO labeler_counts (labeler_id, assigned, submitted, skipped, gold_assigned, wanted_assigned)
SELECT l.id, count(a.id), coalesce(sum(a.status = 'submitted'), 0), coalesce(sum(a.status = 'skipped'), 0),
       coalesce(sum(p.target_labels > 0 AND p.is_gold = 1), 0),
       coalesce(sum(p.target_labels > 0 AND p.is_gold = 0 AND p.missing_labels > 0), 0)
FROM labelers l
LEFT JOIN assignments a ON a.labeler_id = l.id
LEFT JOIN prompts p ON p.id = a.prompt_id
GROUP BY l.id;

CREATE TRIGGER labelers_count_insert AFTER INSERT ON labelers BEGIN
  INSERT INTO labeler_counts (labeler_id) VALUES (NEW.id);
END;

CREATE TRIGGER prompts_count_insert AFTER INSERT ON prompts BEGIN
  UPDATE queue_counts SET
    gold_prompts = gold_prompts + (NEW.target_labels > 0 AND NEW.is_gold = 1),
    wanted_prompts = wanted_prompts + (NEW.target_labels > 0 AND NEW.is_gold = 0 AND NEW.missing_labels > 0);
END;

-- A prompt that turns gold, gets its last missing label or loses one: it moves between the counts,
-- for everybody and for each labeler who had it (at most one assignment per labeler and prompt).
CREATE TRIGGER prompts_count_update AFTER UPDATE OF is_gold, target_labels, submitted_labels ON prompts
WHEN (OLD.target_labels > 0 AND OLD.is_gold = 1) != (NEW.target_labels > 0 AND NEW.is_gold = 1)
  OR (OLD.target_labels > 0 AND OLD.is_gold = 0 AND OLD.missing_labels > 0)
     != (NEW.target_labels > 0 AND NEW.is_gold = 0 AND NEW.missing_labels > 0)
BEGIN
  UPDATE queue_counts SET
    gold_prompts = gold_prompts + (NEW.target_labels > 0 AND NEW.is_gold = 1)
                                - (OLD.target_labels > 0 AND OLD.is_gold = 1),
    wanted_prompts = wanted_prompts + (NEW.target_labels > 0 AND NEW.is_gold = 0 AND NEW.missing_labels > 0)
                                    - (OLD.target_labels > 0 AND OLD.is_gold = 0 AND OLD.missing_labels > 0);
  UPDATE labeler_counts SET
    gold_assigned = gold_assigned + (NEW.target_labels > 0 AND NEW.is_gold = 1)
                                  - (OLD.target_labels > 0 AND OLD.is_gold = 1),
    wanted_assigned = wanted_assigned + (NEW.target_labels > 0 AND NEW.is_gold = 0 AND NEW.missing_labels > 0)
                                      - (OLD.target_labels > 0 AND OLD.is_gold = 0 AND OLD.missing_labels > 0)
  WHERE labeler_id IN (SELECT labeler_id FROM assignments WHERE prompt_id = NEW.id);
END;

CREATE TRIGGER prompts_count_delete AFTER DELETE ON prompts BEGIN
  UPDATE queue_counts SET
    gold_prompts = gold_prompts - (OLD.target_labels > 0 AND OLD.is_gold = 1),
    wanted_prompts = wanted_prompts - (OLD.target_labels > 0 AND OLD.is_gold = 0 AND OLD.missing_labels > 0);
END;

-- The labeler's own counts first, from the prompt as it is; then a submitted label changes the
-- prompt, and prompts_count_update moves everybody who has it, the new assignment included.
CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
  UPDATE labeler_counts SET
    assigned = assigned + 1,
    submitted = submitted + (NEW.status = 'submitted'),
    skipped = skipped + (NEW.status = 'skipped'),
    gold_assigned = gold_assigned +
      (SELECT target_labels > 0 AND is_gold = 1 FROM prompts WHERE id = NEW.prompt_id),
    wanted_assigned = wanted_assigned +
      (SELECT target_labels > 0 AND is_gold = 0 AND missing_labels > 0 FROM prompts WHERE id = NEW.prompt_id)
  WHERE labeler_id = NEW.labeler_id;
  UPDATE prompts SET submitted_labels = submitted_labels + 1 WHERE id = NEW.prompt_id AND NEW.status = 'submitted';
END;

CREATE TRIGGER assignments_count_status AFTER UPDATE OF status ON assignments WHEN OLD.status != NEW.status BEGIN
  UPDATE labeler_counts SET
    submitted = submitted + (NEW.status = 'submitted') - (OLD.status = 'submitted'),
    skipped = skipped + (NEW.status = 'skipped') - (OLD.status = 'skipped')
  WHERE labeler_id = NEW.labeler_id;
  UPDATE prompts SET submitted_labels = submitted_labels + (NEW.status = 'submitted') - (OLD.status = 'submitted')
  WHERE id = NEW.prompt_id AND (NEW.status = 'submitted') != (OLD.status = 'submitted');
END;

-- The mirror of assignments_count_insert: the row is gone, so prompts_count_update no longer
-- sees this labeler, whose counts were taken back first.
CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments BEGIN
  UPDATE labeler_counts SET
    assigned = assigned - 1,
    submitted = submitted - (OLD.status = 'submitted'),
    skipped = skipped - (OLD.status = 'skipped'),
    gold_assigned = gold_assigned -
      (SELECT target_labels > 0 AND is_gold = 1 FROM prompts WHERE id = OLD.prompt_id),
    wanted_assigned = wanted_assigned -
      (SELECT target_labels > 0 AND is_gold = 0 AND missing_labels > 0 FROM prompts WHERE id = OLD.prompt_id)
  WHERE labeler_id = OLD.labeler_id;
  UPDATE prompts SET submitted_labels = submitted_labels - 1 WHERE id = OLD.prompt_id AND OLD.status = 'submitted';
END;

-- The counts follow an assignment's labeler and prompt, which never change.
CREATE TRIGGER assignments_keep_labeler_and_prompt BEFORE UPDATE OF labeler_id, prompt_id ON assignments
WHEN NEW.labeler_id != OLD.labeler_id OR NEW.prompt_id != OLD.prompt_id BEGIN
  SELECT RAISE(ABORT, 'an assignment keeps its labeler and prompt: delete it and make a new one');
END;
)sql";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> all = {kMigration1, kMigration2, kMigration3, kMigration4};
  return all;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(migrations().size()); }

int schema_version(Database& db) {
  Statement query = db.prepare("PRAGMA user_version");
  query.step();
  return static_cast<int>(query.column_int(0));
}

void migrate(Database& db, int target_version) {
  const int latest = latest_schema_version();
  if (target_version < 0) target_version = latest;
  const int current = schema_version(db);
  if (current > latest) {
    throw std::runtime_error("database " + db.path() + " has schema version " +
                             std::to_string(current) + ", newer than this rlhf understands (" +
                             std::to_string(latest) + "); use a newer rlhf build");
  }
  for (int version = current + 1; version <= target_version; ++version) {
    Transaction transaction(db);
    db.exec(migrations()[version - 1]);
    db.exec("PRAGMA user_version = " + std::to_string(version));
    transaction.commit();
  }
}

void configure_connection(Database& db) {
  db.exec("PRAGMA busy_timeout = 5000");  // wait for another writer (e.g. an import) instead of failing
  db.exec("PRAGMA foreign_keys = ON");
  // WAL lets readers run while a label is written; FULL syncs the WAL on every commit, so a
  // confirmed submission survives power loss, not only a process crash.
  if (db.path() != ":memory:") {
    Statement wal = db.prepare("PRAGMA journal_mode = WAL");
    wal.step();
    if (wal.column_text(0) != "wal") {
      throw std::runtime_error("database " + db.path() + ": cannot enable WAL journal mode");
    }
  }
  db.exec("PRAGMA synchronous = FULL");
}

Database open_database(const std::string& path) {
  Database db(path);
  configure_connection(db);
  migrate(db);
  return db;
}

}  // namespace rlhf::storage
