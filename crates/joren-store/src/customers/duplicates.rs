//! Duplicate suggestions: pairs of live customers with the same phone, the same email, or the
//! same kana name and birthday — unless staff said they are different people.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, now_ms};

/// Two customers that may be one person, the lower id first, with what they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicatePair {
    pub first: i64,
    pub second: i64,
    pub same_phone: bool,
    pub same_email: bool,
    pub same_kana_and_birthday: bool,
}

/// What a pair must share, each by an index of `customers`.
const MATCHES: [(&str, &str); 3] = [
    ("phone", "b.phone = a.phone AND a.phone IS NOT NULL AND a.phone <> ''"),
    ("email", "b.email = a.email AND a.email IS NOT NULL AND a.email <> ''"),
    (
        "kana_birthday",
        "b.family_name_kana = a.family_name_kana AND b.given_name_kana = a.given_name_kana \
         AND a.family_name_kana <> '' AND a.birthday IS NOT NULL AND b.birthday = a.birthday",
    ),
];

impl Store {
    /// Up to `limit` pairs that may be duplicates, the most recently added second customer
    /// first (a new record of a known customer is the usual way a duplicate is born).
    pub async fn duplicate_pairs(&self, limit: i64) -> Result<Vec<DuplicatePair>> {
        let mut pairs: Vec<DuplicatePair> = Vec::new();
        for (what, on) in MATCHES {
            let sql = format!(
                "SELECT a.id AS first, b.id AS second FROM customers a JOIN customers b ON {on} AND b.id > a.id \
                 WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM duplicate_dismissals d WHERE d.first_id = a.id AND d.second_id = b.id) \
                 ORDER BY b.id DESC, a.id DESC LIMIT $1"
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await? {
                let (first, second): (i64, i64) = (r.try_get("first")?, r.try_get("second")?);
                let i = match pairs.iter().position(|p| p.first == first && p.second == second) {
                    Some(i) => i,
                    None => {
                        pairs.push(DuplicatePair {
                            first,
                            second,
                            same_phone: false,
                            same_email: false,
                            same_kana_and_birthday: false,
                        });
                        pairs.len() - 1
                    }
                };
                let p = &mut pairs[i];
                match what {
                    "phone" => p.same_phone = true,
                    "email" => p.same_email = true,
                    _ => p.same_kana_and_birthday = true,
                }
            }
        }
        pairs.sort_by_key(|p| std::cmp::Reverse((p.second, p.first)));
        pairs.truncate(limit.max(0) as usize);
        Ok(pairs)
    }

    /// Records that two customers are different people, so they are not suggested again
    /// (answers whether it was new).
    pub async fn dismiss_duplicate(&self, a: i64, b: i64, user_id: Option<i64>) -> Result<bool> {
        let (first, second) = (a.min(b), a.max(b));
        let n = self
            .execute_write(
                sqlx::query(
                    "INSERT INTO duplicate_dismissals (first_id, second_id, user_id, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (first_id, second_id) DO NOTHING",
                )
                .bind(first)
                .bind(second)
                .bind(user_id)
                .bind(now_ms()),
            )
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
