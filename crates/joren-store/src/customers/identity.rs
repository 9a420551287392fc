//! Who a customer is outside Joren: external ids from other systems, finding a customer by id,
//! email or phone, and their contacts (people at a company).

use super::*;

impl Store {
    /// Finds a live customer by an external id of a system.
    pub async fn find_customer_by_external_id(&self, system: &str, external_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM customer_external_ids x JOIN customers c ON c.id = x.customer_id \
             WHERE x.system = $1 AND x.external_id = $2 AND c.merged_into IS NULL",
        )
        .bind(system)
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Finds the oldest live customer with this exact email (or E.164 phone).
    pub async fn find_customer_by_contact(&self, email: Option<&str>, phone: Option<&str>) -> Result<Option<i64>> {
        if let Some(email) = email {
            let id = sqlx::query_scalar(
                "SELECT id FROM customers WHERE email = $1 AND merged_into IS NULL ORDER BY id LIMIT 1",
            )
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
            if id.is_some() {
                return Ok(id);
            }
        }
        if let Some(phone) = phone {
            return Ok(sqlx::query_scalar(
                "SELECT id FROM customers WHERE phone = $1 AND merged_into IS NULL ORDER BY id LIMIT 1",
            )
            .bind(phone)
            .fetch_optional(&self.pool)
            .await?);
        }
        Ok(None)
    }

    /// Every live customer's identifying keys, for bulk imports that match rows to customers
    /// in memory: external ids of `system`, emails and phones, each with the customer id
    /// (oldest customer first, so the first match wins as in [`Store::find_customer_by_contact`]).
    pub async fn customer_identity_keys(&self, system: &str) -> Result<Vec<(String, i64)>> {
        let mut keys = Vec::new();
        let ext = sqlx::query(
            "SELECT x.external_id, c.id FROM customer_external_ids x JOIN customers c ON c.id = x.customer_id \
             WHERE x.system = $1 AND c.merged_into IS NULL",
        )
        .bind(system)
        .fetch_all(&self.pool)
        .await?;
        for r in ext {
            keys.push((format!("x:{system}:{}", r.try_get::<String, _>("external_id")?), r.try_get("id")?));
        }
        let rows = sqlx::query(
            "SELECT id, email, phone FROM customers WHERE merged_into IS NULL AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let id: i64 = r.try_get("id")?;
            if let Some(e) = r.try_get::<Option<String>, _>("email")? {
                keys.push((format!("e:{e}"), id));
            }
            if let Some(p) = r.try_get::<Option<String>, _>("phone")? {
                keys.push((format!("p:{p}"), id));
            }
        }
        Ok(keys)
    }

    /// Attaches an external id to a customer (no-op if it is already there).
    pub async fn add_external_id(&self, customer_id: i64, ext: &ExternalId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT customer_id FROM customer_external_ids WHERE system = $1 AND external_id = $2")
                .bind(&ext.system)
                .bind(&ext.external_id)
                .fetch_optional(&mut *tx)
                .await?;
        match owner {
            Some(o) if o == customer_id => {}
            Some(o) => {
                return Err(StoreError::Conflict(
                    joren_core::Problem::new(joren_core::Code::ExternalIdTaken)
                        .arg(&ext.system)
                        .arg(&ext.external_id)
                        .arg(o),
                ));
            }
            None => insert_external_ids(&mut tx, customer_id, std::slice::from_ref(ext)).await?,
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a contact person to an account.
    pub async fn add_contact(&self, customer_id: i64, c: &ContactProfile) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        live_customer(&mut tx, customer_id, self.for_update()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contacts (customer_id, family_name, given_name, family_name_kana, \
             given_name_kana, department, role, email, phone, line_user_id, notes, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(customer_id)
        .bind(&c.family_name)
        .bind(&c.given_name)
        .bind(&c.family_name_kana)
        .bind(&c.given_name_kana)
        .bind(&c.department)
        .bind(&c.role)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.line_user_id)
        .bind(&c.notes)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Contact persons of an account, in the order they were added.
    pub async fn list_contacts(&self, customer_id: i64) -> Result<Vec<Contact>> {
        let rows = sqlx::query(
            "SELECT id, customer_id, family_name, given_name, family_name_kana, given_name_kana, \
             department, role, email, phone, line_user_id, notes, created_at FROM contacts \
             WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let profile = ContactProfile {
                    family_name: r.try_get("family_name")?,
                    given_name: r.try_get("given_name")?,
                    family_name_kana: r.try_get("family_name_kana")?,
                    given_name_kana: r.try_get("given_name_kana")?,
                    department: r.try_get("department")?,
                    role: r.try_get("role")?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                    line_user_id: r.try_get("line_user_id")?,
                    notes: r.try_get("notes")?,
                };
                Ok(Contact {
                    id: r.try_get("id")?,
                    customer_id: r.try_get("customer_id")?,
                    display_name: profile.display_name(),
                    profile,
                    created_at: from_ms(r.try_get("created_at")?),
                })
            })
            .collect()
    }
}
