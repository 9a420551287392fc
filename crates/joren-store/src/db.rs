//! Connecting, migrating and beginning transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};

use crate::Result;
use crate::writer::{Member, WriterQueue};

/// Which database engine the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What a queue's claim adds to its `SELECT … LIMIT n`: on PostgreSQL, skip the rows
    /// another worker has locked; SQLite has one writer, so nothing.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// The store: a connection pool plus the backend it points at. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// SQLite's writers of this process: queued in order and committed in groups.
    writers: Arc<WriterQueue>,
    /// On PostgreSQL, a second small pool of native connections for `COPY` (see
    /// [`crate::copy`]); connects on first use.
    pub(crate) pg: Option<sqlx::PgPool>,
    /// Ids per block when SQLite reads millions of rows as text (see [`crate::blocks`]).
    pub(crate) read_block: Arc<std::sync::atomic::AtomicI64>,
}

/// A transaction (derefs to the connection, like `sqlx::Transaction`). A SQLite write is one
/// writer's savepoint in the shared group transaction (see [`crate::writer`]): its `commit`
/// returns once the group has committed; dropped uncommitted, its work is rolled back. A write
/// that answers with something it read (an idempotent replay, say) must `commit` first: what it
/// read may be a group-mate's work that is not durable yet.
pub(crate) struct Tx(TxKind, Backend);

enum TxKind {
    Own(sqlx::Transaction<'static, sqlx::Any>),
    Member(Member),
}

impl Tx {
    /// The backend the transaction runs on.
    pub(crate) fn backend(&self) -> Backend {
        self.1
    }

    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        match self.0 {
            TxKind::Own(tx) => tx.commit().await,
            TxKind::Member(member) => member.commit().await,
        }
    }

    /// Runs `batch` (writes only: its rows are not returned) and commits; on SQLite the two go
    /// to the connection in one trip. A failure rolls the transaction (the writer's savepoint)
    /// back.
    pub(crate) async fn commit_after(self, batch: crate::batch::Batch) -> Result<()> {
        self.commit_returning(batch).await.map(drop)
    }

    /// [`Tx::commit_after`] answering the rows the batch's statements returned (an
    /// `UPDATE … RETURNING`, say), once they are committed.
    pub(crate) async fn commit_returning(self, batch: crate::batch::Batch) -> Result<Vec<sqlx::any::AnyRow>> {
        match self.0 {
            TxKind::Own(mut tx) => {
                let rows = batch.run(&mut tx).await?;
                tx.commit().await?;
                Ok(rows)
            }
            TxKind::Member(member) => member.commit_after(Some(batch)).await,
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        match &self.0 {
            TxKind::Own(tx) => tx,
            TxKind::Member(member) => member.conn_ref(),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.0 {
            TxKind::Own(tx) => tx,
            TxKind::Member(member) => member.conn(),
        }
    }
}

/// One migration history per backend: (version, name, SQL). Append, never edit.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, "uploads", include_str!("../migrations/sqlite/0002_uploads.sql")),
    (3, "order_items_without_rowid", include_str!("../migrations/sqlite/0003_order_items_without_rowid.sql")),
    (4, "metrics", include_str!("../migrations/sqlite/0004_metrics.sql")),
    (5, "settings", include_str!("../migrations/sqlite/0005_settings.sql")),
    (6, "saved_segments", include_str!("../migrations/sqlite/0006_saved_segments.sql")),
    (7, "product_associations", include_str!("../migrations/sqlite/0007_product_associations.sql")),
    (8, "customer_facts", include_str!("../migrations/sqlite/0008_customer_facts.sql")),
    (9, "points", include_str!("../migrations/sqlite/0009_points.sql")),
    (10, "ranks", include_str!("../migrations/sqlite/0010_ranks.sql")),
    (11, "tickets", include_str!("../migrations/sqlite/0011_tickets.sql")),
    (12, "memberships", include_str!("../migrations/sqlite/0012_memberships.sql")),
    (13, "perks", include_str!("../migrations/sqlite/0013_perks.sql")),
    (14, "point_bonuses", include_str!("../migrations/sqlite/0014_point_bonuses.sql")),
    (15, "lot_expiry", include_str!("../migrations/sqlite/0015_lot_expiry.sql")),
    (16, "login_failures", include_str!("../migrations/sqlite/0016_login_failures.sql")),
    (17, "jobs", include_str!("../migrations/sqlite/0017_jobs.sql")),
    (18, "events", include_str!("../migrations/sqlite/0018_events.sql")),
    (19, "scenarios", include_str!("../migrations/sqlite/0019_scenarios.sql")),
    (20, "scenario_activation", include_str!("../migrations/sqlite/0020_scenario_activation.sql")),
    (21, "events_by_kind", include_str!("../migrations/sqlite/0021_events_by_kind.sql")),
    (22, "outbox_claim", include_str!("../migrations/sqlite/0022_outbox_claim.sql")),
    (23, "segment_memberships", include_str!("../migrations/sqlite/0023_segment_memberships.sql")),
    (24, "message_templates", include_str!("../migrations/sqlite/0024_message_templates.sql")),
    (25, "products", include_str!("../migrations/sqlite/0025_products.sql")),
    (26, "duplicate_dismissals", include_str!("../migrations/sqlite/0026_duplicate_dismissals.sql")),
    (27, "line", include_str!("../migrations/sqlite/0027_line.sql")),
    (28, "line_link_codes", include_str!("../migrations/sqlite/0028_line_link_codes.sql")),
    (29, "outbox_channels", include_str!("../migrations/sqlite/0029_outbox_channels.sql")),
    (30, "conversations", include_str!("../migrations/sqlite/0030_conversations.sql")),
    (31, "webhooks", include_str!("../migrations/sqlite/0031_webhooks.sql")),
    (32, "line_code_misses", include_str!("../migrations/sqlite/0032_line_code_misses.sql")),
    (33, "sms", include_str!("../migrations/sqlite/0033_sms.sql")),
    (34, "mail_replies", include_str!("../migrations/sqlite/0034_mail_replies.sql")),
    (35, "surveys", include_str!("../migrations/sqlite/0035_surveys.sql")),
    (36, "cases", include_str!("../migrations/sqlite/0036_cases.sql")),
    (37, "stages", include_str!("../migrations/sqlite/0037_stages.sql")),
    (38, "referrals", include_str!("../migrations/sqlite/0038_referrals.sql")),
    (39, "order_fingerprint", include_str!("../migrations/sqlite/0039_order_fingerprint.sql")),
    (40, "snapshot_figures", include_str!("../migrations/sqlite/0040_snapshot_figures.sql")),
    (41, "customer_search", include_str!("../migrations/sqlite/0041_customer_search.sql")),
    (42, "customers_merged", include_str!("../migrations/sqlite/0042_customers_merged.sql")),
    (43, "orders_customer_totals", include_str!("../migrations/sqlite/0043_orders_customer_totals.sql")),
    (44, "row_counts", include_str!("../migrations/sqlite/0044_row_counts.sql")),
    (45, "outbox_due_mode", include_str!("../migrations/sqlite/0045_outbox_due_mode.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/postgres/0001_foundation.sql")),
    (2, "uploads", include_str!("../migrations/postgres/0002_uploads.sql")),
    (3, "order_items_without_rowid", include_str!("../migrations/postgres/0003_order_items_without_rowid.sql")),
    (4, "metrics", include_str!("../migrations/postgres/0004_metrics.sql")),
    (5, "settings", include_str!("../migrations/postgres/0005_settings.sql")),
    (6, "saved_segments", include_str!("../migrations/postgres/0006_saved_segments.sql")),
    (7, "product_associations", include_str!("../migrations/postgres/0007_product_associations.sql")),
    (8, "customer_facts", include_str!("../migrations/postgres/0008_customer_facts.sql")),
    (9, "points", include_str!("../migrations/postgres/0009_points.sql")),
    (10, "ranks", include_str!("../migrations/postgres/0010_ranks.sql")),
    (11, "tickets", include_str!("../migrations/postgres/0011_tickets.sql")),
    (12, "memberships", include_str!("../migrations/postgres/0012_memberships.sql")),
    (13, "perks", include_str!("../migrations/postgres/0013_perks.sql")),
    (14, "point_bonuses", include_str!("../migrations/postgres/0014_point_bonuses.sql")),
    (15, "lot_expiry", include_str!("../migrations/postgres/0015_lot_expiry.sql")),
    (16, "login_failures", include_str!("../migrations/postgres/0016_login_failures.sql")),
    (17, "jobs", include_str!("../migrations/postgres/0017_jobs.sql")),
    (18, "events", include_str!("../migrations/postgres/0018_events.sql")),
    (19, "scenarios", include_str!("../migrations/postgres/0019_scenarios.sql")),
    (20, "scenario_activation", include_str!("../migrations/postgres/0020_scenario_activation.sql")),
    (21, "events_by_kind", include_str!("../migrations/postgres/0021_events_by_kind.sql")),
    (22, "outbox_claim", include_str!("../migrations/postgres/0022_outbox_claim.sql")),
    (23, "segment_memberships", include_str!("../migrations/postgres/0023_segment_memberships.sql")),
    (24, "message_templates", include_str!("../migrations/postgres/0024_message_templates.sql")),
    (25, "products", include_str!("../migrations/postgres/0025_products.sql")),
    (26, "duplicate_dismissals", include_str!("../migrations/postgres/0026_duplicate_dismissals.sql")),
    (27, "line", include_str!("../migrations/postgres/0027_line.sql")),
    (28, "line_link_codes", include_str!("../migrations/postgres/0028_line_link_codes.sql")),
    (29, "outbox_channels", include_str!("../migrations/postgres/0029_outbox_channels.sql")),
    (30, "conversations", include_str!("../migrations/postgres/0030_conversations.sql")),
    (31, "webhooks", include_str!("../migrations/postgres/0031_webhooks.sql")),
    (32, "line_code_misses", include_str!("../migrations/postgres/0032_line_code_misses.sql")),
    (33, "sms", include_str!("../migrations/postgres/0033_sms.sql")),
    (34, "mail_replies", include_str!("../migrations/postgres/0034_mail_replies.sql")),
    (35, "surveys", include_str!("../migrations/postgres/0035_surveys.sql")),
    (36, "cases", include_str!("../migrations/postgres/0036_cases.sql")),
    (37, "stages", include_str!("../migrations/postgres/0037_stages.sql")),
    (38, "referrals", include_str!("../migrations/postgres/0038_referrals.sql")),
    (39, "order_fingerprint", include_str!("../migrations/postgres/0039_order_fingerprint.sql")),
    (40, "snapshot_figures", include_str!("../migrations/postgres/0040_snapshot_figures.sql")),
    (41, "customer_search", include_str!("../migrations/postgres/0041_customer_search.sql")),
    (42, "customers_merged", include_str!("../migrations/postgres/0042_customers_merged.sql")),
    (43, "orders_customer_totals", include_str!("../migrations/postgres/0043_orders_customer_totals.sql")),
    (44, "row_counts", include_str!("../migrations/postgres/0044_row_counts.sql")),
    (45, "outbox_due_mode", include_str!("../migrations/postgres/0045_outbox_due_mode.sql")),
];

impl Store {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://…`). A SQLite file and its
    /// folder are created when missing; SQLite runs in WAL mode with `synchronous=FULL` and
    /// foreign keys on, checkpointing the WAL every 10,000 pages (≈ 40 MB: at SQLite's default
    /// of 1,000 the writer spent a good part of its commits copying the WAL back). Does not
    /// migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(crate::StoreError::Conflict(joren_core::Problem::other(format!(
                "unsupported database URL (use sqlite://… or postgres://…): {url}"
            ))));
        };
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default().to_string();
            if let Some(dir) = std::path::Path::new(&path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            if !path.is_empty() && path != ":memory:" {
                owner_only(std::path::Path::new(&path)).map_err(sqlx::Error::Io)?;
            }
            if !url.contains('?') {
                url.push_str("?mode=rwc");
            }
        }
        let pg = match backend {
            Backend::Postgres => Some(crate::copy::copy_pool(&url)?),
            Backend::Sqlite => None,
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; \
                             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let read_block = Arc::new(std::sync::atomic::AtomicI64::new(crate::blocks::BLOCK));
        Ok(Self { writers: WriterQueue::new(pool.clone()), pool, backend, pg, read_block })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration of this backend's history.
    pub async fn migrate(&self) -> Result<()> {
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = list
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    (*name).into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations).run(&self.pool).await?;
        // A bulk load cut off before its end leaves these to be rebuilt.
        self.ensure_order_indexes().await?;
        self.fill_customer_facts_if_empty().await
    }

    /// Names of the indexes on `table` (schema checks in tests and diagnostics).
    pub async fn index_names(&self, table: &str) -> Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 ORDER BY name",
            Backend::Postgres => "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE tablename = $1 ORDER BY 1",
        };
        Ok(sqlx::query_scalar(sql).bind(table).fetch_all(&self.pool).await?)
    }

    /// Begins a write transaction. On SQLite it waits for this process's writer turn and
    /// joins the group transaction, which holds the database write lock from its start
    /// (`BEGIN IMMEDIATE`; other processes, such as the CLI next to `joren serve`, queue on the
    /// busy timeout), so no writer fails midway.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        let kind = match self.backend {
            Backend::Sqlite => TxKind::Member(self.writers.join().await?),
            Backend::Postgres => TxKind::Own(self.pool.begin().await?),
        };
        Ok(Tx(kind, self.backend))
    }

    /// [`Store::begin_write`] for bulk work (import batches, the expiry run, rank and metrics
    /// runs): on SQLite the writes grouped before it are committed first and it commits alone,
    /// so short writes are not answered only after the bulk work.
    pub(crate) async fn begin_bulk_write(&self) -> Result<Tx> {
        let kind = match self.backend {
            Backend::Sqlite => TxKind::Member(self.writers.join_alone().await?),
            Backend::Postgres => TxKind::Own(self.pool.begin().await?),
        };
        Ok(Tx(kind, self.backend))
    }

    /// Begins a read transaction (one consistent snapshot; takes no writer turn).
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(Tx(TxKind::Own(self.pool.begin().await?), self.backend))
    }

    /// Runs one writing statement on its own. On SQLite it takes a writer turn like any other
    /// write (a statement sent straight to the pool would poll SQLite's busy handler, and
    /// under a steady stream of group commits could wait out the whole busy timeout).
    pub(crate) async fn execute_write<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<sqlx::any::AnyQueryResult> {
        match self.backend {
            Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                let done = query.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done)
            }
            Backend::Postgres => Ok(query.execute(&self.pool).await?),
        }
    }

    /// Runs one `INSERT … RETURNING id` on its own, like [`Store::execute_write`].
    pub(crate) async fn insert_returning_id<'q>(
        &self,
        query: sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments>,
    ) -> Result<i64> {
        match self.backend {
            Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                let id = query.fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(id)
            }
            Backend::Postgres => Ok(query.fetch_one(&self.pool).await?),
        }
    }

    /// ` FOR UPDATE` on PostgreSQL (row lock inside a transaction), nothing on SQLite, whose
    /// write transaction already holds the database lock.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Placeholders for `n` parameters starting at number `start`, for generated multi-row
    /// statements: `$start, …` on PostgreSQL; plain positional `?` on SQLite, where sqlx looks
    /// named/numbered parameters up one by one (quadratic in a statement with thousands).
    pub(crate) fn placeholders(&self, start: usize, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => vec!["?"; n].join(","),
            Backend::Postgres => (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(","),
        }
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
    }
}

impl Store {
    /// Creates a PostgreSQL database (used by tests to get a fresh database each).
    pub async fn create_database(&self, name: &str) -> Result<()> {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(crate::StoreError::Conflict(joren_core::Problem::other(format!("bad database name {name}"))));
        }
        self.pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await?;
        Ok(())
    }
}

/// Creates the SQLite file readable and writable by its owner only (0600), or narrows an
/// existing one to that: it holds customers' personal data. SQLite gives the `-wal` and
/// `-shm` files the database file's permissions.
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        let sibling = |suffix: &str| std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        for p in [path.to_path_buf(), sibling("-wal"), sibling("-shm")] {
            if let Ok(meta) = std::fs::metadata(&p)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered_for_both_backends() {
        for (dir, list) in [("sqlite", SQLITE_MIGRATIONS), ("postgres", POSTGRES_MIGRATIONS)] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/").to_string() + dir;
            let files = std::fs::read_dir(path).unwrap().count();
            assert_eq!(files, list.len(), "{dir}: a migration file is not in the list");
            for (i, (version, _, _)) in list.iter().enumerate() {
                assert_eq!(*version, i as i64 + 1, "{dir}: versions must be 1, 2, 3…");
            }
        }
        assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len(), "both backends share one history");
    }
}
