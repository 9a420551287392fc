//! Multi-row inserts for bulk writes (imports, demo), and id reservation so a batch knows its
//! ids without one round trip per row.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use crate::db::Tx;
use crate::{Backend, Result, Store};

/// One value of a bulk-inserted row.
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    OptReal(Option<f64>),
    Bytes(Vec<u8>),
}

/// Parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535 limits.
const MAX_PARAMS: usize = 8000;

impl Store {
    /// Inserts `rows` into `table` (each row holding one value per column) with multi-row
    /// `INSERT … VALUES (…), (…)` statements inside the caller's transaction. The next
    /// statement is bound while the database executes the previous one, so the two overlap on
    /// two cores.
    pub(crate) async fn bulk_insert(
        &self,
        tx: &mut Tx,
        table: &str,
        columns: &[&str],
        rows: impl IntoIterator<Item = Vec<Val>>,
    ) -> Result<()> {
        self.bulk_insert_with(tx, table, columns, rows, "").await
    }

    /// [`Self::bulk_insert`] with `suffix` after each statement's rows (an `ON CONFLICT …`).
    pub(crate) async fn bulk_insert_with(
        &self,
        tx: &mut Tx,
        table: &str,
        columns: &[&str],
        rows: impl IntoIterator<Item = Vec<Val>>,
        suffix: &str,
    ) -> Result<()> {
        let per_statement = (MAX_PARAMS / columns.len()).max(1);
        let mut rows = rows.into_iter();
        let mut full_sql = None;
        let mut build = |rows: &mut dyn Iterator<Item = Vec<Val>>| -> Option<Query<'static, Any, AnyArguments>> {
            let chunk: Vec<Vec<Val>> = rows.take(per_statement).collect();
            if chunk.is_empty() {
                return None;
            }
            let make_sql = |n: usize| {
                let values = (0..n)
                    .map(|i| format!("({})", self.placeholders(i * columns.len() + 1, columns.len())))
                    .collect::<Vec<_>>()
                    .join(",");
                format!("INSERT INTO {table} ({}) VALUES {values}{suffix}", columns.join(", "))
            };
            // Every full chunk has the same text (one prepared statement); only the last differs.
            let sql = if chunk.len() == per_statement {
                full_sql.get_or_insert_with(|| make_sql(per_statement)).clone()
            } else {
                make_sql(chunk.len())
            };
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                debug_assert_eq!(row.len(), columns.len());
                for v in row {
                    q = match v {
                        Val::Int(i) => q.bind(i),
                        Val::OptInt(i) => q.bind(i),
                        Val::Text(s) => q.bind(s),
                        Val::OptText(s) => q.bind(s),
                        Val::OptReal(r) => q.bind(r),
                        Val::Bytes(b) => q.bind(b),
                    };
                }
            }
            Some(q)
        };
        let mut next = build(&mut rows);
        while let Some(q) = next.take() {
            // Polled in order: the statement goes to the database, then the next one is built
            // while it runs.
            let (done, built) = futures_util::future::join(q.execute(&mut **tx), async { build(&mut rows) }).await;
            done?;
            next = built;
        }
        Ok(())
    }

    /// Runs the query `sql(list)` once per 500 of `ids`, with `list` the placeholders of an
    /// `IN (…)` list the chunk is bound to, and returns every row.
    pub(crate) async fn fetch_by_ids(&self, ids: &[i64], sql: impl Fn(&str) -> String) -> Result<Vec<AnyRow>> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query(AssertSqlSafe(sql(&self.placeholders(1, chunk.len()))));
            for id in chunk {
                q = q.bind(*id);
            }
            rows.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }

    /// The `VALUES` rows of a multi-row update joined on `FROM (VALUES …) AS v`: `rows` rows of
    /// one cast placeholder per type in `types`, numbered from `first` (PostgreSQL needs the
    /// casts to type a `VALUES` list; SQLite ignores nothing by them). The columns are
    /// `v.column1`, `v.column2`, … on both databases.
    pub(crate) fn typed_values(&self, first: usize, types: &[&str], rows: usize) -> String {
        let sqlite = self.backend() == Backend::Sqlite;
        (0..rows)
            .map(|r| {
                let cells: Vec<String> = types
                    .iter()
                    .enumerate()
                    .map(|(c, ty)| {
                        let n = first + r * types.len() + c;
                        if sqlite { format!("CAST(? AS {ty})") } else { format!("CAST(${n} AS {ty})") }
                    })
                    .collect();
                format!("({})", cells.join(","))
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reserves `n` fresh ids of `table` inside a write transaction: above the current maximum
    /// on SQLite (the transaction holds the only write lock), from the identity sequence on
    /// PostgreSQL (safe with concurrent writers).
    pub(crate) async fn reserve_ids(&self, tx: &mut Tx, table: &'static str, n: usize) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(match self.backend() {
            Backend::Sqlite => {
                let max: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COALESCE(MAX(id), 0) FROM {table}")))
                    .fetch_one(&mut **tx)
                    .await?;
                (max + 1..=max + n as i64).collect()
            }
            Backend::Postgres => {
                let seq: String =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT pg_get_serial_sequence('{table}', 'id')")))
                        .fetch_one(&mut **tx)
                        .await?;
                sqlx::query_scalar(AssertSqlSafe(nextval_sql(&seq))).bind(n as i64).fetch_all(&mut **tx).await?
            }
        })
    }
}

/// `$1` fresh values of the PostgreSQL sequence `seq` (as `pg_get_serial_sequence` names it).
/// The name is written into the statement: looked up per row, the same 20,000 values took ten
/// times as long.
pub(crate) fn nextval_sql(seq: &str) -> String {
    format!("SELECT nextval('{}') FROM generate_series(1, $1)", seq.replace('\'', "''"))
}
