//! Merging two customers into one: orders, points, contacts, identities and history move to the
//! survivor; the other is kept as merged.

use super::*;

impl Store {
    /// Merges `merged_id` into `survivor_id`: orders, interactions, contacts, consent history,
    /// external ids and tags move to the survivor; empty fields of the survivor are filled from
    /// the merged record; the merged record is kept, marked `merged_into`, and a snapshot of it
    /// is recorded. All in one transaction.
    pub async fn merge_customers(&self, survivor_id: i64, merged_id: i64, actor: Option<i64>) -> Result<MergeResult> {
        if survivor_id == merged_id {
            return Err(StoreError::Conflict(joren_core::Code::MergeIntoItself.into()));
        }
        let survivor = self.get_customer(survivor_id).await?;
        let merged = self.get_customer(merged_id).await?;
        if survivor.merged_into.is_some() || merged.merged_into.is_some() {
            return Err(StoreError::Conflict(joren_core::Code::AlreadyMerged.into()));
        }
        let mut profile = survivor.profile.clone();
        let m = &merged.profile;
        macro_rules! fill {
            ($($f:ident),*) => {$( if profile.$f.is_none() { profile.$f = m.$f.clone(); } )*};
        }
        fill!(
            email,
            phone,
            line_user_id,
            birthday,
            gender,
            postal_code,
            prefecture,
            city,
            street,
            building,
            owner_user_id,
            acquisition_source,
            acquisition_campaign
        );
        macro_rules! fill_text {
            ($($f:ident),*) => {$( if profile.$f.is_empty() { profile.$f = m.$f.clone(); } )*};
        }
        fill_text!(family_name, given_name, family_name_kana, given_name_kana, company_name);
        for (mine, theirs) in [(&mut profile.notes, &m.notes), (&mut profile.preferences, &m.preferences)] {
            if !theirs.is_empty() && !mine.contains(theirs.as_str()) {
                if !mine.is_empty() {
                    mine.push('\n');
                }
                mine.push_str(theirs);
            }
        }
        for t in &m.tags {
            if !profile.tags.contains(t) {
                profile.tags.push(t.clone());
            }
        }
        let snapshot = serde_json::to_string(&merged).unwrap_or_default();

        let mut tx = self.begin_write().await?;
        let lock = self.for_update();
        live_customer(&mut tx, survivor_id, lock).await?;
        live_customer(&mut tx, merged_id, lock).await?;
        let mv =
            |table: &'static str| AssertSqlSafe(format!("UPDATE {table} SET customer_id = $1 WHERE customer_id = $2"));
        let orders_moved =
            sqlx::query(mv("orders")).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?.rows_affected();
        let interactions_moved =
            sqlx::query(mv("interactions")).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?.rows_affected();
        let contacts_moved =
            sqlx::query(mv("contacts")).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?.rows_affected();
        sqlx::query(mv("consent_events")).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?;
        sqlx::query(mv("customer_external_ids")).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?;
        // Points follow the person: lots keep their own expiry, entries and debts their history.
        for table in [
            "point_lots",
            "point_entries",
            "point_debts",
            "point_redemptions",
            "rank_changes",
            "tickets",
            "ticket_uses",
            // Their conversations are the survivor's (the thread reads the survivor's messages).
            "conversations",
        ] {
            sqlx::query(mv(table)).bind(survivor_id).bind(merged_id).execute(&mut *tx).await?;
        }
        // Referrals follow the person; the survivor stays referred once (a merged record's
        // code still resolves, to the survivor).
        sqlx::query("UPDATE referrals SET referrer_id = $1 WHERE referrer_id = $2")
            .bind(survivor_id)
            .bind(merged_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE referrals SET referred_id = $1 WHERE referred_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM referrals x WHERE x.referred_id = $1)",
        )
        .bind(survivor_id)
        .bind(merged_id)
        .execute(&mut *tx)
        .await?;
        // The survivor keeps the higher of the two ranks (the merged orders count for it now).
        crate::ranks::merge_ranks(&mut tx, survivor_id, merged_id).await?;
        sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1").bind(merged_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1").bind(survivor_id).execute(&mut *tx).await?;
        insert_tags(&mut tx, survivor_id, &profile.tags).await?;
        write_profile(&mut tx, survivor_id, &profile).await?;
        // The merged record is no one's metrics any more (the dashboard's totals and lists read
        // metrics without the customers table); the survivor's are recomputed by the next
        // snapshot.
        sqlx::query("DELETE FROM customer_metrics WHERE customer_id = $1").bind(merged_id).execute(&mut *tx).await?;
        let now = now_ms();
        sqlx::query("UPDATE customers SET merged_into = $1, search_text = '', updated_at = $2 WHERE id = $3")
            .bind(survivor_id)
            .bind(now)
            .bind(merged_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO customer_merges (survivor_id, merged_id, merged_by, snapshot, at) VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(survivor_id)
        .bind(merged_id)
        .bind(actor)
        .bind(snapshot)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.refresh_customer_facts(&mut tx, survivor_id, survivor_id).await?;
        self.refresh_customer_facts(&mut tx, merged_id, merged_id).await?;
        tx.commit().await?;
        Ok(MergeResult {
            survivor_id,
            merged_id,
            orders_moved: orders_moved as i64,
            interactions_moved: interactions_moved as i64,
            contacts_moved: contacts_moved as i64,
        })
    }
}
