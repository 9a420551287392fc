//! Statements sent to the database together.
//!
//! A SQLite connection lives on a worker thread of its own, so every statement costs a round
//! trip between threads; a write made of many small statements (an order with its lines, points
//! lot, entry, idempotency record and audit entry) spends more time on those trips than in
//! SQLite. A [`Batch`] collects such statements and, on SQLite, sends them as one
//! multi-statement query: one trip. PostgreSQL's extended protocol takes one statement per
//! query, so there they run one after another, in the order they were added.
//!
//! sqlx's SQLite driver runs every statement of a query string, binding `?` parameters in
//! order across them; upstream calls this behaviour deprecated (launchbadge/sqlx#3108). Should
//! a later sqlx drop it, the order tests on SQLite fail, and SQLite takes PostgreSQL's path
//! here: one statement per trip, slower but the same writes.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, Arguments, AssertSqlSafe, Encode, Type};

use crate::{Backend, Result, StoreError};

/// Statements to run together, in order (inside the caller's transaction, for writes). Written with `?`
/// placeholders (numbered `$1…` per statement on PostgreSQL); the SQL must hold no other `?`.
pub(crate) struct Batch {
    backend: Backend,
    /// Statements finished so far (PostgreSQL: one each; SQLite: none, all go into `sql`).
    finished: Vec<(String, AnyArguments)>,
    sql: String,
    args: AnyArguments,
    /// Placeholders of the current statement (PostgreSQL numbering).
    placeholders: usize,
    bound: usize,
    error: Option<String>,
}

impl Batch {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            backend,
            finished: Vec::new(),
            sql: String::new(),
            args: AnyArguments::default(),
            placeholders: 0,
            bound: 0,
            error: None,
        }
    }

    /// The backend the statements are written for.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// True when no statement has been added.
    pub(crate) fn is_empty(&self) -> bool {
        self.sql.is_empty() && self.finished.is_empty()
    }

    /// Starts a statement; bind its parameters next, in the order of its `?`.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.check_arity();
        match self.backend {
            Backend::Sqlite => {
                if !self.sql.is_empty() {
                    self.sql.push_str(";\n");
                }
                self.sql.push_str(sql);
                self.placeholders += sql.matches('?').count();
            }
            Backend::Postgres => {
                if !self.sql.is_empty() {
                    let sql = std::mem::take(&mut self.sql);
                    let args = std::mem::take(&mut self.args);
                    self.finished.push((sql, args));
                }
                let mut n = 0;
                for (i, part) in sql.split('?').enumerate() {
                    if i > 0 {
                        n += 1;
                        self.sql.push_str(&format!("${n}"));
                    }
                    self.sql.push_str(part);
                }
                self.placeholders = n;
                self.bound = 0;
            }
        }
        self
    }

    /// Adds `insert` (`INSERT INTO t (a, b, …)`) for `rows` as multi-row statements of up to
    /// 500 rows, `columns` values a row, bound by `bind`.
    pub(crate) fn push_rows<T>(
        &mut self,
        insert: &str,
        columns: usize,
        rows: &[T],
        mut bind: impl FnMut(&mut Self, &T),
    ) {
        let row = format!("({})", vec!["?"; columns].join(","));
        for chunk in rows.chunks(500) {
            self.push(&format!("{insert} VALUES {}", vec![row.as_str(); chunk.len()].join(",")));
            for r in chunk {
                bind(self, r);
            }
        }
    }

    /// Binds the next parameter of the current statement.
    pub(crate) fn bind<'t, T: Encode<'t, Any> + Type<Any> + 't>(&mut self, value: T) -> &mut Self {
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e.to_string());
        }
        self.bound += 1;
        self
    }

    fn check_arity(&mut self) {
        if self.bound != self.placeholders {
            self.error.get_or_insert(format!(
                "batched statement has {} placeholders and {} values: {}",
                self.placeholders, self.bound, self.sql
            ));
        }
    }

    /// Runs every statement; returns the rows they produced (their `SELECT`s), in order.
    pub(crate) async fn run(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>> {
        let mut rows = Vec::new();
        for (sql, args) in self.finish()? {
            rows.extend(sqlx::query_with(AssertSqlSafe(sql), args).fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }

    /// Runs every statement; returns how many rows they changed in all.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> Result<u64> {
        let mut changed = 0;
        for (sql, args) in self.finish()? {
            changed += sqlx::query_with(AssertSqlSafe(sql), args).execute(&mut *conn).await?.rows_affected();
        }
        Ok(changed)
    }

    fn finish(mut self) -> Result<Vec<(String, AnyArguments)>> {
        self.check_arity();
        if let Some(e) = self.error {
            return Err(StoreError::Conflict(joren_core::Problem::other(e)));
        }
        if !self.sql.is_empty() {
            self.finished.push((self.sql, self.args));
        }
        Ok(self.finished)
    }
}
