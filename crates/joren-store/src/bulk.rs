//! Multi-row inserts for bulk writes (imports, demo), and id reservation so a batch knows its
//! ids without one round trip per row.

use sqlx::AssertSqlSafe;

use crate::db::Tx;
use crate::{Backend, Result, Store};

/// One value of a bulk-inserted row.
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    OptReal(Option<f64>),
}

/// Parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535 limits.
const MAX_PARAMS: usize = 8000;

impl Store {
    /// Inserts `rows` into `table` (each row holding one value per column) with multi-row
    /// `INSERT … VALUES (…), (…)` statements inside the caller's transaction.
    pub(crate) async fn bulk_insert(
        &self,
        tx: &mut Tx,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Val>>,
    ) -> Result<()> {
        let per_statement = (MAX_PARAMS / columns.len()).max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_statement).collect();
            let values = (0..chunk.len())
                .map(|i| format!("({})", self.placeholders(i * columns.len() + 1, columns.len())))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!("INSERT INTO {table} ({}) VALUES {values}", columns.join(", "));
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
                    };
                }
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
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
                sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                )))
                .bind(n as i64)
                .fetch_all(&mut **tx)
                .await?
            }
        })
    }
}
