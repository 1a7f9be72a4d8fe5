// The labeling database schema: forward migrations numbered by PRAGMA user_version.
// Migration N brings a database from version N-1 to N inside one transaction, so a crash midway
// leaves the previous version intact. A database newer than this binary is refused, never guessed.
#pragma once

#include <string>

#include "storage/sqlite.h"

namespace rlhf::storage {

// The version this build writes and understands.
int latest_schema_version();

int schema_version(Database& db);

// Applies migrations up to target_version (default: latest). Throws if the database is newer
// than this build. Exposed with a target so tests can build an old database and upgrade it.
void migrate(Database& db, int target_version = -1);

// Opens a configured database: WAL, foreign keys, busy timeout, synchronous=FULL, migrated to
// the latest version. This is the only way the service and the CLI open a database.
Database open_database(const std::string& path);

// Sets the per-connection pragmas (without migrating). open_database() calls it.
void configure_connection(Database& db);

}  // namespace rlhf::storage
