//! Row counts of the two tables that grow without bound, `orders` and `customers`, kept as
//! "n rows up to id k" (migration 0044) so a count reads only the rows added since, a range of
//! the primary key, instead of every row. Rows are never deleted from either table, so the kept
//! count stays right as rows arrive; [`Store::refresh_row_counts`] moves k up (each nightly
//! snapshot, each import) so the range stays short.
//!
//! Exact on SQLite (one writer: ids are committed in order). On PostgreSQL an insert that took
//! its id before a refresh and committed after it is missed until the next refresh.

use sqlx::AssertSqlSafe;

use crate::{Result, Store};

/// A table counted this way.
#[derive(Debug, Clone, Copy)]
enum Counted {
    Orders,
    Customers,
}

impl Counted {
    const ALL: [Self; 2] = [Self::Orders, Self::Customers];

    fn table(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Customers => "customers",
        }
    }
}

impl Store {
    /// Every row of `table`: the kept count and the rows above its id (every row counted when
    /// nothing is kept).
    async fn rows_in(&self, table: Counted) -> Result<i64> {
        let t = table.table();
        let kept: Option<(i64, i64)> = sqlx::query_as("SELECT upto_id, n FROM row_counts WHERE tbl = $1")
            .bind(t)
            .fetch_optional(&self.pool)
            .await?;
        // The id bound as a value, not read in the same statement: PostgreSQL then plans for
        // the few rows above it (planned for a third of the table, the count was compiled
        // by its JIT first: 30 ms for no rows).
        let (upto, n) = kept.unwrap_or((0, 0));
        let since: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t} WHERE id > $1")))
            .bind(upto)
            .fetch_one(&self.pool)
            .await?;
        Ok(n + since)
    }

    /// Total number of orders, whatever their status.
    pub async fn count_orders(&self) -> Result<i64> {
        self.rows_in(Counted::Orders).await
    }

    /// Live customers: every record less the merged ones (a small index of its own).
    pub async fn count_customers(&self) -> Result<i64> {
        let merged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE merged_into IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(self.rows_in(Counted::Customers).await? - merged)
    }

    /// Counts every row of the counted tables again and keeps the counts with their highest
    /// ids (one statement a table, so the count and the id agree).
    pub async fn refresh_row_counts(&self) -> Result<()> {
        for table in Counted::ALL {
            let t = table.table();
            // `WHERE 1 = 1`: SQLite reads `FROM t ON CONFLICT` as a join without it.
            let sql = format!(
                "INSERT INTO row_counts (tbl, upto_id, n) SELECT '{t}', COALESCE(MAX(id), 0), COUNT(*) FROM {t} \
                 WHERE 1 = 1 ON CONFLICT (tbl) DO UPDATE SET upto_id = excluded.upto_id, n = excluded.n"
            );
            self.execute_write(sqlx::query(AssertSqlSafe(sql))).await?;
        }
        Ok(())
    }
}
