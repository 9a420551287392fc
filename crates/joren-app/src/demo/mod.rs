//! The demo shop: a believable Japanese coffee roaster (珈琲と焼き菓子の店 つねや) with about
//! 2,000 customers, two years of orders with seasonality (お中元・お歳暮 peaks), a realistic mix
//! of one-time buyers, occasional buyers, regulars and lapsed regulars, a few company accounts
//! with contact persons, and contact history. Generated deterministically from a seed: the same
//! seed gives the same shop (dates are relative to the day it is generated).

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use joren_core::contact::ContactInput;
use joren_core::customer::{CustomerInput, CustomerProfile};
use joren_core::order::{LineItemInput, OrderInput};
use joren_core::role::Role;
use joren_store::Adjustment;
use joren_store::{ExternalId, NewInteraction};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Actor, App, Result, sha256_hex};
use joren_core::fingerprint::Fingerprint;

mod data;
mod inbox;
mod voice;
use data::{BEANS, GIFTS, PREFECTURES, Product, SWEETS, TOOLS};
pub use data::{FEMALE, MALE, SURNAMES};

/// Logins created for the demo (username, password, role).
pub const DEMO_USERS: [(&str, &str, Role, &str); 3] = [
    ("owner", "joren-demo", Role::Owner, "店主 常田"),
    ("tanaka", "joren-demo", Role::Staff, "田中 (スタッフ)"),
    ("viewer", "joren-demo", Role::Viewer, "閲覧ユーザー"),
];

/// What the generator made.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DemoSummary {
    pub customers: usize,
    pub accounts: usize,
    pub orders: usize,
    pub interactions: usize,
    pub refunds: usize,
    pub cancellations: usize,
    /// Customers above the base rank after the first evaluation.
    pub ranked: usize,
    pub tickets: usize,
    pub memberships: usize,
    /// Follow-up runs started (the win-back's history) and messages made (test mode).
    pub scenario_runs: u64,
    pub messages: usize,
    /// Conversations in the inbox (LINE, mail, SMS).
    pub conversations: usize,
    /// Survey answers (NPS, satisfaction, why customers left).
    pub survey_answers: usize,
    /// Complaint cases written (besides those opened for unhappy answers).
    pub cases: usize,
    /// Referrals recorded (some rewarded, one taken back, one waiting).
    pub referrals: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    OneTime,
    Occasional,
    Regular,
    Lapsed,
}

impl App {
    /// The loyalty side of the demo shop: ranks on (evaluated on the order history), birthday
    /// points in the birth month, a welcome bonus in points, a 回数券 for the brewing class with some visits used, a monthly
    /// delivery membership launched a year ago (renewals and cancellations with reasons, so the
    /// retention chart has a cohort), and two perks.
    async fn demo_loyalty(
        &self,
        rng: &mut StdRng,
        ids: &[i64],
        kinds: &[Kind],
        bought: &[(i64, i64, i64, NaiveDate)],
        today: NaiveDate,
        summary: &mut DemoSummary,
    ) -> Result<()> {
        use joren_core::membership::{CancelReason, MembershipPlanInput};
        use joren_core::perk::{PerkInput, PerkKind};
        use joren_core::ticket::TicketPlanInput;
        use joren_store::MembershipChange;
        let system = Actor::system("demo");
        let mut programme = self.points_programme().await?;
        programme.ranks.enabled = true;
        programme.birthday_bonus =
            joren_core::programme::BirthdayBonus { points: 300, timing: joren_core::programme::BirthdayTiming::Month };
        self.set_points_programme(&system, programme.clone()).await?;
        // The programme started two months ago with the points of each customer's purchases
        // in the year before (a regular of 26 orders has points, not 0).
        let since = today - Duration::days(365);
        let mut earned: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for &(customer, total, tax, day) in bought {
            if day >= since {
                *earned.entry(customer).or_default() += programme.earn.points_for(total, tax, 100);
            }
        }
        let mut by_points: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
        for (customer, points) in earned {
            if points > 0 {
                by_points.entry(points).or_default().push(customer);
            }
        }
        let start = joren_store::LotSource {
            source: "bonus",
            reason: "ポイント制度開始: 過去1年のお買い物分".into(),
            created_by: None,
            breakdown: Default::default(),
        };
        for (points, mut customers) in by_points {
            customers.sort_unstable();
            self.store
                .grant_points_bulk(&customers, points, &start, today - Duration::days(60), programme.expiry)
                .await?;
        }
        self.evaluate_ranks(today).await?;
        self.grant_birthday_bonuses(today).await?;
        summary.ranked = self.store.customer_ranks().await?.iter().filter(|r| r.level > 0).count();

        let welcome: Vec<i64> = ids.iter().copied().step_by(3).collect();
        let source = joren_store::LotSource {
            source: "bonus",
            reason: "LINE友だち登録ボーナス".into(),
            created_by: None,
            breakdown: Default::default(),
        };
        let granted_on = today - Duration::days(40);
        self.store.grant_points_bulk(&welcome, 300, &source, granted_on, programme.expiry).await?;

        let class = TicketPlanInput {
            name: "ドリップ教室 5回券".into(),
            visits: 5,
            price: 12_000,
            valid_months: 6,
            active: true,
        };
        let class = self.save_ticket_plan(&system, None, class).await?;
        for (&id, kind) in ids.iter().zip(kinds) {
            if *kind != Kind::Regular || !rng.random_bool(0.25) {
                continue;
            }
            let sold = today - Duration::days(rng.random_range(10..150));
            let note = system.audit_note("ticket.sell", serde_json::json!({"customer_id": id}));
            let t = self.store.sell_ticket(id, class.id, sold, None, "demo", None, &note).await?.ticket;
            for visit in 0..rng.random_range(0..=5) {
                let on = (sold + Duration::days(14 * (visit + 1))).min(today);
                self.store.use_ticket(t.id, on, None, "ドリップ教室", None).await?;
            }
            summary.tickets += 1;
        }

        let delivery =
            MembershipPlanInput {
                name: "珈琲定期便 (月1回)".into(), price: 3_300, period_months: 1, active: true
            };
        let delivery = self.save_membership_plan(&system, None, delivery).await?;
        let launch = today.with_day(1).unwrap_or(today) - Duration::days(365);
        for (&id, kind) in ids.iter().zip(kinds) {
            let p = match kind {
                Kind::Regular => 0.5,
                Kind::Occasional => 0.12,
                _ => 0.0,
            };
            if !rng.random_bool(p) {
                continue;
            }
            // Most joined in the launch month; the rest since.
            let started = if rng.random_bool(0.7) {
                launch + Duration::days(rng.random_range(0..28))
            } else {
                launch + Duration::days(rng.random_range(30..330))
            };
            let note = system.audit_note("membership.start", serde_json::json!({"customer_id": id}));
            let (m, _) = self.store.start_membership(id, delivery.id, started, None, "demo", None, &note).await?;
            // Members differ: each one's monthly churn probability is drawn from Beta(1, 6)
            // (mean 1/7), the heterogeneity the sBG model assumes.
            let churn = 1.0 - (1.0 - rng.random::<f64>()).powf(1.0 / 6.0);
            let mut until = m.paid_until;
            while until < today {
                if rng.random_bool(churn.clamp(0.0, 1.0)) {
                    let reason = *pick(rng, &CancelReason::ALL);
                    let change = MembershipChange::Cancel { reason, note: String::new() };
                    let note = system.audit_note("membership.change", serde_json::json!({"action": "cancel"}));
                    self.store.change_membership(m.id, &change, until, None, None, &note).await?;
                    break;
                }
                let note = system.audit_note("membership.change", serde_json::json!({"action": "renew"}));
                let renewed = self.store.change_membership(m.id, &MembershipChange::Renew, until, None, None, &note);
                until = renewed.await?.0.paid_until;
            }
            summary.memberships += 1;
        }

        let presale = PerkInput {
            name: "新豆の先行予約".into(),
            description: "季節のシングルオリジンを一般販売の1週間前からご予約いただけます".into(),
            kind: PerkKind::PriorityBooking,
            min_rank_level: Some(2),
            membership_plan_id: Some(delivery.id),
            segment_id: None,
            active: true,
        };
        self.save_perk(&system, None, presale).await?;
        let tour = PerkInput {
            name: "焙煎所見学会へのご招待".into(),
            description: "年2回の見学会と試飲会".into(),
            kind: PerkKind::Event,
            min_rank_level: Some(3),
            membership_plan_id: None,
            segment_id: None,
            active: true,
        };
        self.save_perk(&system, None, tour).await?;
        Ok(())
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn season(month: u32) -> f64 {
    match month {
        12 => 1.7,
        7 => 1.35,
        11 | 8 => 1.1,
        1 | 2 => 0.8,
        _ => 1.0,
    }
}

fn basket(rng: &mut StdRng, month: u32, kind: Kind) -> Vec<LineItemInput> {
    let mut items = Vec::new();
    let item = |p: &Product, q: i64| LineItemInput {
        sku: p.sku.into(),
        name: p.name.into(),
        category: p.category.into(),
        quantity: q,
        unit_price: p.price,
        tax_rate: p.tax,
    };
    if (month == 7 || month == 12) && rng.random_bool(0.35) {
        let g = if month == 7 { &GIFTS[0] } else { &GIFTS[1] };
        items.push(item(g, rng.random_range(1..=3)));
    }
    let beans = if kind == Kind::Regular { rng.random_range(1..=3) } else { rng.random_range(1..=2) };
    for _ in 0..beans {
        let p = pick(rng, BEANS);
        if !items.iter().any(|i: &LineItemInput| i.sku == p.sku) {
            items.push(item(p, rng.random_range(1..=2)));
        }
    }
    if rng.random_bool(0.3) {
        items.push(item(pick(rng, SWEETS), 1));
    }
    if rng.random_bool(if kind == Kind::OneTime { 0.15 } else { 0.06 }) {
        items.push(item(pick(rng, TOOLS), 1));
    }
    items
}

/// Purchase days (days before `today`, descending) for one customer.
fn purchase_days(rng: &mut StdRng, kind: Kind, today: NaiveDate) -> Vec<i64> {
    let span = 730;
    let mut days = Vec::new();
    match kind {
        Kind::OneTime => days.push(rng.random_range(0..span)),
        Kind::Occasional => {
            let first = rng.random_range(60..span);
            days.push(first);
            let n = rng.random_range(2..=5);
            for _ in 0..n {
                days.push(rng.random_range(0..first));
            }
        }
        Kind::Regular | Kind::Lapsed => {
            let first = rng.random_range(200..span);
            let stop = if kind == Kind::Lapsed { rng.random_range(180..first.clamp(181, 460)) } else { 0 };
            let gap_mean = rng.random_range(20..45) as f64;
            let mut d = first as f64;
            while d as i64 > stop {
                days.push(d as i64);
                let month = (today - Duration::days(d as i64)).month();
                d -= (gap_mean * rng.random_range(0.6..1.4) / season(month)).max(5.0);
            }
        }
    }
    // Seasonality for the irregular buyers: drop some purchases outside the peak months.
    days.retain(|d| {
        let m = (today - Duration::days(*d)).month();
        kind == Kind::Regular || kind == Kind::Lapsed || rng.random_bool((season(m) / 1.7).clamp(0.45, 1.0))
    });
    if days.is_empty() {
        days.push(rng.random_range(0..span));
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    days
}

impl App {
    /// Fills an empty database with the demo shop. `customers` ≈ 2,000 for the standard demo.
    pub async fn generate_demo(
        &self,
        seed: u64,
        customers: usize,
        progress: &mut (dyn FnMut(&str) + Send),
    ) -> Result<DemoSummary> {
        let system = Actor::system("demo");
        let mut staff_ids = Vec::new();
        for (username, password, role, name) in DEMO_USERS {
            staff_ids.push(self.create_user(&system, username, name, role, password).await?);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let tz = self.config.time_zone;
        let today = self.now().with_timezone(&tz).date_naive();
        let mut summary = DemoSummary::default();
        // The shop's product list, for the counter screen.
        for p in BEANS.iter().chain(SWEETS).chain(TOOLS).chain(GIFTS) {
            let input = joren_core::product::ProductInput {
                sku: p.sku.into(),
                name: p.name.into(),
                category: p.category.into(),
                unit_price: p.price,
                tax_rate: p.tax,
                active: true,
            };
            self.store.save_product(None, &input).await?;
        }

        progress("customers");
        let mut plans = Vec::with_capacity(customers);
        let mut batch = Vec::with_capacity(customers);
        for i in 0..customers {
            let kind = match rng.random_range(0..100) {
                0..45 => Kind::OneTime,
                45..70 => Kind::Occasional,
                70..85 => Kind::Regular,
                _ => Kind::Lapsed,
            };
            let female = rng.random_bool(0.62);
            let (family, family_kana) = *pick(&mut rng, SURNAMES);
            let (given, given_kana) = *pick(&mut rng, if female { FEMALE } else { MALE });
            let total_weight: u32 = PREFECTURES.iter().map(|p| p.2).sum();
            let mut w = rng.random_range(0..total_weight);
            let (pref, city, _) = *PREFECTURES
                .iter()
                .find(|p| {
                    if w < p.2 {
                        true
                    } else {
                        w -= p.2;
                        false
                    }
                })
                .unwrap_or(&PREFECTURES[0]);
            let (source, campaign) = match rng.random_range(0..100) {
                0..40 => ("store", None),
                40..65 => ("ec", None),
                65..80 => (
                    "advertising",
                    Some(if rng.random_bool(0.5) {
                        "2025春 Instagram広告"
                    } else {
                        "2026夏 リスティング広告"
                    }),
                ),
                80..92 => ("referral", Some("お友達紹介キャンペーン")),
                _ => ("event", Some("マルシェ出店 2025秋")),
            };
            let has_email = rng.random_bool(0.8);
            let has_phone = rng.random_bool(0.7) || !has_email;
            let birthday = rng.random_bool(0.6).then(|| {
                let year = today.year() - rng.random_range(20..76);
                format!("{year:04}-{:02}-{:02}", rng.random_range(1..=12), rng.random_range(1..=28))
            });
            let mut tags = Vec::new();
            for (tag, p) in [("ギフト利用", 0.08), ("カフェ併用", 0.1), ("定期便希望", 0.05), ("深煎り好き", 0.07)]
            {
                if rng.random_bool(p) {
                    tags.push(tag.to_string());
                }
            }
            let input = CustomerInput {
                family_name: Some(family.into()),
                given_name: Some(given.into()),
                family_name_kana: Some(family_kana.into()),
                given_name_kana: Some(given_kana.into()),
                email: has_email.then(|| format!("customer{:05}@example.jp", i + 1)),
                phone: has_phone.then(|| {
                    format!(
                        "0{}0-{:04}-{:04}",
                        pick(&mut rng, &[9, 8, 7]),
                        rng.random_range(1000..10000),
                        rng.random_range(0..10000)
                    )
                }),
                line_user_id: rng
                    .random_bool(0.3)
                    .then(|| format!("U{}", &sha256_hex(format!("line{i}").as_bytes())[..32])),
                birthday,
                gender: Some(if female { "female" } else { "male" }.into()),
                postal_code: Some(format!("{:03}-{:04}", rng.random_range(100..999), rng.random_range(0..10000))),
                prefecture: Some(pref.into()),
                city: Some(city.into()),
                street: Some(format!(
                    "{}-{}-{}",
                    rng.random_range(1..6),
                    rng.random_range(1..30),
                    rng.random_range(1..20)
                )),
                building: rng.random_bool(0.4).then(|| format!("つねやハイツ {}号室", rng.random_range(101..910))),
                preferences: rng.random_bool(0.15).then(|| {
                    pick(&mut rng, &["深煎りが好き", "酸味が苦手", "カフェインを控えている", "ミルクを入れて飲む"])
                        .to_string()
                }),
                tags: Some(tags),
                acquisition_source: Some(source.into()),
                acquisition_campaign: campaign.map(str::to_string),
                ..Default::default()
            };
            let profile = input.apply(CustomerProfile::default()).map_err(crate::AppError::Validation)?;
            let mut consents = Vec::new();
            if has_email {
                consents.push(("email".to_string(), rng.random_bool(0.6)));
            }
            if profile.line_user_id.is_some() {
                consents.push(("line".to_string(), true));
            }
            let ext = vec![ExternalId { system: "pos".into(), external_id: format!("M{:06}", i + 1) }];
            batch.push((profile, ext, consents));
            plans.push(kind);
        }
        let mut ids = Vec::with_capacity(customers);
        for chunk in batch.chunks(500) {
            ids.extend(self.store.create_customers_batch(chunk, "demo").await?);
        }
        summary.customers = ids.len();

        let accounts = [
            ("株式会社ひだまり珈琲館", "カブシキガイシャヒダマリコーヒーカン", "鈴木", "一郎", "購買部", "部長"),
            ("合同会社モーニングベーカリー", "ゴウドウガイシャモーニングベーカリー", "高橋", "美咲", "", "店長"),
            (
                "有限会社さくら書房カフェ",
                "ユウゲンガイシャサクラショボウカフェ",
                "伊藤",
                "健一",
                "運営部",
                "マネージャー",
            ),
        ];
        let mut account_ids = Vec::new();
        for (i, (company, kana, fam, giv, dept, role)) in accounts.iter().enumerate() {
            let profile = CustomerInput {
                kind: Some("account".into()),
                company_name: Some((*company).into()),
                family_name_kana: Some((*kana).into()),
                phone: Some(format!("03-{:04}-{:04}", 5000 + i, 1000 + i)),
                email: Some(format!("order@account{}.example.jp", i + 1)),
                acquisition_source: Some("referral".into()),
                tags: Some(vec!["法人".into(), "卸".into()]),
                ..Default::default()
            }
            .apply(CustomerProfile::default())
            .map_err(crate::AppError::Validation)?;
            let id = self.store.create_customer(&profile, &[], &[("email".into(), true)], "demo", None).await?;
            let contact = ContactInput {
                family_name: (*fam).into(),
                given_name: (*giv).into(),
                department: (*dept).into(),
                role: (*role).into(),
                email: format!("{}@account{}.example.jp", ["suzuki", "takahashi", "ito"][i], i + 1),
                ..Default::default()
            }
            .validate()
            .map_err(crate::AppError::Validation)?;
            self.store.add_contact(id, &contact).await?;
            account_ids.push(id);
        }
        summary.accounts = account_ids.len();

        progress("orders");
        let mut drafts = Vec::new();
        let noon = |d: NaiveDate, rng: &mut StdRng| {
            let local = d.and_hms_opt(rng.random_range(10..20), rng.random_range(0..60), 0).expect("valid time");
            tz.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc)).unwrap_or_else(Utc::now)
        };
        let mut n_order = 0;
        for (idx, (&id, &kind)) in ids.iter().zip(&plans).enumerate() {
            let ec = rng.random_bool(0.35);
            for d in purchase_days(&mut rng, kind, today) {
                let date = today - Duration::days(d);
                n_order += 1;
                let input = OrderInput {
                    customer_id: id,
                    external_id: Some(format!("D{n_order:07}")),
                    ordered_at: Some(noon(date, &mut rng).to_rfc3339()),
                    channel: Some(if ec || rng.random_bool(0.1) { "ec" } else { "store" }.into()),
                    shipping: if ec { 600 } else { 0 },
                    items: basket(&mut rng, date.month(), kind),
                    ..Default::default()
                };
                let hash = Fingerprint::of_json(&input);
                drafts.push((input.validate(self.now(), self.tz()).map_err(crate::AppError::Validation)?, hash));
            }
            let _ = idx;
        }
        for &id in &account_ids {
            let mut d = 700;
            while d > 0 {
                let date = today - Duration::days(d);
                n_order += 1;
                let p = pick(&mut rng, BEANS);
                let input = OrderInput {
                    customer_id: id,
                    external_id: Some(format!("D{n_order:07}")),
                    ordered_at: Some(noon(date, &mut rng).to_rfc3339()),
                    channel: Some("wholesale".into()),
                    prices_include_tax: Some(false),
                    items: vec![LineItemInput {
                        sku: format!("{}-1KG", p.sku),
                        name: format!("{} (業務用 1kg)", p.name.trim_end_matches(" 200g")),
                        category: "業務用".into(),
                        quantity: rng.random_range(3..12),
                        unit_price: p.price * 4,
                        tax_rate: 8,
                    }],
                    ..Default::default()
                };
                let hash = Fingerprint::of_json(&input);
                drafts.push((input.validate(self.now(), self.tz()).map_err(crate::AppError::Validation)?, hash));
                d -= rng.random_range(25..40);
            }
        }
        let mut order_ids = Vec::with_capacity(drafts.len());
        for chunk in drafts.chunks(2000) {
            order_ids.extend(self.store.insert_orders_batch(chunk).await?.into_iter().flatten());
        }
        summary.orders = order_ids.len();

        progress("refunds");
        let mut cancelled = std::collections::HashSet::new();
        for &oid in &order_ids {
            let roll = rng.random_range(0..1000);
            if roll < 8 {
                cancelled.insert(oid);
                self.store.adjust_order(oid, Adjustment::history(true, None, "お客様都合によるキャンセル")).await?;
                summary.cancellations += 1;
            } else if roll < 20 {
                let order = self.store.get_order(oid).await?;
                let amount = if rng.random_bool(0.5) { order.total } else { order.items[0].amount.min(order.total) };
                // Attributed to the demo's staff member, as a refund at the till would be.
                let staff = joren_store::AuditActor { user_id: Some(staff_ids[1]), name: DEMO_USERS[1].0 };
                let refund = Adjustment {
                    by: Some(staff),
                    ..Adjustment::history(false, Some(amount), "商品破損のため返金")
                };
                self.store.adjust_order(oid, refund).await?;
                summary.refunds += 1;
            }
        }

        progress("interactions");
        let mut interactions = Vec::new();
        let notes = [
            ("phone", "in", "豆の挽き方の問い合わせ", "フレンチプレス用に粗挽きをご希望。次回から粗挽きで準備。"),
            ("visit", "in", "ご来店", "新作のエチオピアを試飲。深煎りの方がお好み。"),
            ("email", "out", "ご購入のお礼", "先日はありがとうございました。淹れ方のコツをお送りしました。"),
            ("line", "out", "新豆入荷のお知らせ", "季節限定ブレンドの入荷をご案内。"),
            ("dm", "out", "お久しぶりのご挨拶", "しばらくご来店がないため、試飲会の案内状を送付。"),
            ("phone", "out", "ギフトの配送確認", "お歳暮の配送先と熨斗の確認。"),
            ("note", "out", "メモ", "贈答用の包装を毎回希望される。"),
        ];
        for (i, &id) in ids.iter().enumerate() {
            let p = match plans[i] {
                Kind::Regular => 0.6,
                Kind::Lapsed => 0.5,
                Kind::Occasional => 0.25,
                Kind::OneTime => 0.08,
            };
            if !rng.random_bool(p) {
                continue;
            }
            for _ in 0..rng.random_range(1..=3) {
                let (kind, dir, subject, body) =
                    if plans[i] == Kind::Lapsed && rng.random_bool(0.5) { notes[4] } else { *pick(&mut rng, &notes) };
                let date = today - Duration::days(rng.random_range(1..700));
                interactions.push(NewInteraction {
                    customer_id: id,
                    contact_id: None,
                    kind: kind.into(),
                    direction: dir.into(),
                    staff_user_id: Some(staff_ids[rng.random_range(0..2)]),
                    subject: subject.into(),
                    body: body.into(),
                    occurred_at: noon(date, &mut rng),
                });
            }
        }
        for chunk in interactions.chunks(2000) {
            self.store.insert_interactions_batch(chunk).await?;
        }
        summary.interactions = interactions.len();
        progress("loyalty");
        // What each order would have earned, for the points of the year before the programme.
        let bought: Vec<(i64, i64, i64, NaiveDate)> = drafts
            .iter()
            .zip(&order_ids)
            .filter(|(_, oid)| !cancelled.contains(*oid))
            .map(|((d, _), _)| (d.customer_id, d.total, d.tax, d.ordered_at.with_timezone(&tz).date_naive()))
            .collect();
        self.demo_loyalty(&mut rng, &ids, &plans, &bought, today, &mut summary).await?;
        progress("metrics");
        self.refresh_metrics(&system).await?;
        progress("follow-ups");
        self.demo_automation(&mut rng, &ids, &mut summary).await?;
        progress("inbox");
        summary.conversations = self.demo_inbox(&ids, (staff_ids[1], DEMO_USERS[1].0)).await?;
        progress("surveys");
        summary.survey_answers = self.demo_surveys(&mut rng, &ids).await?;
        summary.cases = self.demo_cases(&ids, (staff_ids[1], DEMO_USERS[1].0)).await?;
        summary.referrals = self.demo_referrals(&ids).await?;
        // The customer-success stages by their rules (the night's job does this every night).
        self.evaluate_stages().await?;
        // The answers' events (survey bonus, survey-triggered scenarios).
        for _ in 0..20 {
            if self.automate_once().await?.events == 0 {
                break;
            }
        }
        Ok(summary)
    }

    /// The follow-up automation of the demo shop, in test mode (nothing leaves the machine):
    /// the post-purchase timeline, birthday, win-back, points-expiry, 回数券 and renewal
    /// scenarios from the ready ones, active, with today's date triggers run;
    /// the customers who went dormant entered the win-back six weeks ago (with its holdout, so
    /// the scenario page has an uplift report); a few orders placed today, so the outbox has
    /// thank-you mails and the tasks page has calls.
    async fn demo_automation(&self, rng: &mut impl Rng, ids: &[i64], summary: &mut DemoSummary) -> Result<()> {
        let system = Actor::system("demo");
        let mut active = Vec::new();
        for key in ["post_purchase", "birthday", "win_back", "points_expiry", "ticket_last_visit", "membership_renewal"]
        {
            let sc = self.create_from_ready(&system, key, "ja").await?;
            self.set_scenario_status(&system, sc.id, crate::scenarios::Status::Active).await?;
            active.push(sc.id);
        }
        let six_weeks_ago = self.config.clock.now_ms() - 42 * 86_400_000;
        let dormant = serde_json::json!({"all": [{"field": "segment", "op": "in", "value": ["dormant", "at_risk"]}]});
        summary.scenario_runs += self.enrol_matching_at(active[2], &dormant, six_weeks_ago).await?;
        for _ in 0..8 {
            let customer = ids[rng.random_range(0..ids.len())];
            let input = joren_core::order::OrderInput {
                customer_id: customer,
                channel: Some("store".into()),
                items: vec![joren_core::order::LineItemInput {
                    sku: "CF-200".into(),
                    name: "季節のブレンド 200g".into(),
                    category: "珈琲豆".into(),
                    quantity: rng.random_range(1..4),
                    unit_price: 1_480,
                    tax_rate: 8,
                }],
                ..Default::default()
            };
            self.create_order(&system, input, None).await?;
        }
        // Today's date triggers (points about to expire, 回数券 nearly used, renewals due), and
        // a few seasonal postcards on the contact list, so the print page has addresses.
        let today = self.today_date();
        summary.scenario_runs += self.enrol_daily(today).await?;
        for _ in 0..4 {
            let customer = ids[rng.random_range(0..ids.len())];
            let input = crate::tasks::TaskInput {
                customer_id: customer,
                kind: "letter".into(),
                title: "季節のごあいさつ (はがき)".into(),
                due_on: Some(today + Duration::days(rng.random_range(1..7))),
                assignee_id: None,
            };
            self.create_task(&system, input).await?;
        }
        for _ in 0..5 {
            let p = self.automate_once().await?;
            summary.messages += p.messages;
            if p.events + p.steps + p.messages == 0 {
                break;
            }
        }
        Ok(())
    }
}
