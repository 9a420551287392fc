//! `joren points …`, `ranks …`, `tickets …`, `memberships …` and `perks …`: the loyalty
//! programme from the command line.

use super::*;

#[derive(Subcommand)]
pub(crate) enum PointsCommand {
    /// Print the programme settings (earn rule, expiry, campaigns, ranks) as JSON, or replace
    /// them with `--set FILE` (the same JSON; every bad field is named).
    Settings {
        #[arg(long, value_name = "FILE")]
        set: Option<PathBuf>,
    },
    /// A customer's balances and lots.
    Show { customer_id: i64 },
    /// Grant points with a reason (audited). `--paid` records value bought with money.
    Grant {
        customer_id: i64,
        points: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        paid: bool,
        /// Last spendable day (YYYY-MM-DD); default: the programme's expiry (paid: none).
        #[arg(long)]
        expires_on: Option<chrono::NaiveDate>,
    },
    /// Deduct points with a reason (audited), soonest-expiring first.
    Deduct {
        customer_id: i64,
        points: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        paid: bool,
    },
    /// Cancel checkout holds that ran out and expire points after their last day (the server
    /// does this every minute; run it here for a server-less install or a cron job).
    Expire,
    /// Issued / redeemed / expired / reversed / outstanding points per month and kind.
    Report,
    /// Check that every lot equals the sum of its entries; exits non-zero if not.
    Verify,
}

#[derive(Subcommand)]
pub(crate) enum RanksCommand {
    /// A customer's tier, the value in the window, what is missing and the history.
    Show { customer_id: i64 },
    /// Set a customer's tier (its level, 0 = base, or its name) with a reason (audited).
    Set {
        customer_id: i64,
        tier: String,
        #[arg(long)]
        reason: String,
    },
    /// Evaluate every customer: reviews due, then upgrades (the server does this daily; `--on`
    /// evaluates as of another local day, e.g. to catch up a missed 1 January review).
    Evaluate {
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
    /// Customers per tier and ups / downs per month.
    Report,
}

#[derive(Subcommand)]
pub(crate) enum TicketsCommand {
    /// List the plans.
    Plans,
    /// Add a plan (e.g. `plan-add 10回券 --visits 10 --price 45000 --months 6`; 0 months = no expiry).
    PlanAdd {
        name: String,
        #[arg(long)]
        visits: i64,
        #[arg(long)]
        price: i64,
        #[arg(long, default_value_t = 6)]
        months: u32,
    },
    /// Sell a ticket of a plan to a customer.
    Sell { customer_id: i64, plan_id: i64 },
    /// Take one visit from a ticket.
    Use {
        ticket_id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Refund the unused part of a ticket (audited).
    Refund {
        ticket_id: i64,
        #[arg(long)]
        reason: String,
    },
    /// A customer's tickets.
    List { customer_id: i64 },
    /// Outstanding paid value of usable tickets (資金決済法).
    Outstanding,
}

#[derive(Subcommand)]
pub(crate) enum MembershipsCommand {
    /// List the plans.
    Plans,
    /// Add a plan (e.g. `plan-add 月額会員 --price 3300 --months 1`).
    PlanAdd {
        name: String,
        #[arg(long)]
        price: i64,
        #[arg(long, default_value_t = 1)]
        months: u32,
    },
    /// Start a membership of a plan for a customer today.
    Start { customer_id: i64, plan_id: i64 },
    /// Renew, pause, resume or cancel (`--reason price|not_using|dissatisfied|moved|competitor|other`).
    Change {
        membership_id: i64,
        #[arg(value_parser = ["renew", "pause", "resume", "cancel"])]
        action: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// A customer's memberships.
    List { customer_id: i64 },
    /// Members per status, churn reasons, and the sBG fit on a cohort (as JSON).
    Report {
        #[arg(long)]
        plan_id: Option<i64>,
    },
}

#[derive(Subcommand)]
pub(crate) enum PerksCommand {
    /// List the perks.
    List,
    /// Add a perk open to any of the given gates.
    Add {
        name: String,
        /// priority_booking, limited_product, event, content or other.
        #[arg(long, default_value = "other")]
        kind: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Open from this rank level (0 = base tier).
        #[arg(long)]
        min_rank_level: Option<i64>,
        #[arg(long)]
        membership_plan_id: Option<i64>,
        #[arg(long)]
        segment_id: Option<i64>,
    },
    /// May a customer use a perk? Exits non-zero when not.
    Check { perk_id: i64, customer_id: i64 },
}

pub(crate) async fn points(g: &Global, c: PointsCommand, actor: &Actor) -> Result<()> {
    use joren_app::points::{DeductInput, GrantInput};
    use joren_core::points::ValueKind;
    let app = open(&g.database_url, config(g, false)?).await?;
    let kind = |paid: bool| if paid { ValueKind::Paid } else { ValueKind::Free };
    match c {
        PointsCommand::Settings { set: None } => {
            println!("{}", serde_json::to_string_pretty(&app.points_programme().await?)?);
        }
        PointsCommand::Settings { set: Some(path) } => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let programme =
                serde_json::from_str(&text).with_context(|| format!("{}: not a programme", path.display()))?;
            app.set_points_programme(actor, programme).await?;
            println!("保存しました / saved");
        }
        PointsCommand::Show { customer_id } => {
            let a = app.points_account(customer_id).await?;
            for (label, b) in [("通常 / free", a.free), ("有償 / paid", a.paid)] {
                println!(
                    "{label}: 利用可能 / available {}  保留中 / pending {}  残高 / balance {}  未精算 / debt {}  30日以内に失効 / expiring in 30 days {}",
                    b.available, b.pending, b.balance, b.debt, b.expiring_30_days
                );
            }
            for l in &a.lots {
                let expires = l.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "無期限 / never".into());
                println!(
                    "lot {}	{:?}	{}	{}/{}	from {}	until {expires}	{}",
                    l.id, l.kind, l.source, l.remaining, l.granted, l.available_on, l.reason
                );
            }
        }
        PointsCommand::Grant { customer_id, points, reason, paid, expires_on } => {
            let input = GrantInput { points, kind: kind(paid), reason, expires_on };
            let (lot, _) = app.grant_points(actor, customer_id, input, None).await?;
            println!("lot {lot}: {points} points granted / 付与しました");
        }
        PointsCommand::Deduct { customer_id, points, reason, paid } => {
            let r =
                app.deduct_points(actor, customer_id, DeductInput { points, kind: kind(paid), reason }, None).await?;
            println!("redemption {}: {points} points deducted / 減算しました", r.id);
        }
        PointsCommand::Expire => {
            let run = app.run_points_schedule().await?;
            println!(
                "保留の取消 / holds cancelled {}; 失効 / expired {} points in {} lots; 誕生日ポイント / birthday bonuses {} (as of {})",
                run.reservations_cancelled,
                run.expired.points,
                run.expired.lots,
                run.birthday_bonuses,
                app.today_date()
            );
        }
        PointsCommand::Report => {
            let (free, paid) = app.points_outstanding().await?;
            println!("未使用残高 / outstanding: free {free}, paid {paid}");
            println!("month	kind	issued	redeemed	expired	reversed	outstanding");
            for m in app.points_report().await? {
                println!(
                    "{}	{}	{}	{}	{}	{}	{}",
                    m.month,
                    if m.kind == Some(ValueKind::Paid) { "paid" } else { "free" },
                    m.issued,
                    m.redeemed,
                    m.expired,
                    m.reversed,
                    m.outstanding
                );
            }
        }
        PointsCommand::Verify => {
            let bad = app.verify_points().await?;
            if bad.is_empty() {
                println!("ok: every lot equals the sum of its entries");
            } else {
                for m in &bad {
                    println!("lot {}: remaining {} but entries sum to {}", m.lot_id, m.remaining, m.sum_of_entries);
                }
                anyhow::bail!("{} lots do not add up", bad.len());
            }
        }
    }
    Ok(())
}

pub(crate) async fn ranks(g: &Global, c: RanksCommand, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        RanksCommand::Show { customer_id } => {
            let r = app.customer_rank(customer_id).await?;
            if !r.enabled {
                println!("ランク制度は無効です / ranks are off");
            }
            println!(
                "{} (level {}, ×{}%)  {}〜{}: {} {:?}  次回判定 / next review {}",
                r.tier,
                r.level,
                r.points_multiplier_percent,
                r.window_from,
                r.window_to,
                r.value,
                r.measure,
                r.next_review
            );
            if let (Some(t), Some(m)) = (&r.next_tier, r.missing) {
                println!("{t} まであと / to go: {m}");
            }
            for h in &r.history {
                println!("{}	{} → {}	{}	{}	{}", h.day, h.from_name, h.to_name, h.cause, h.value, h.reason);
            }
        }
        RanksCommand::Set { customer_id, tier, reason } => {
            let input = joren_app::ranks::SetRankInput { tier: serde_json::Value::String(tier), reason };
            let r = app.set_customer_rank(actor, customer_id, input).await?;
            println!("customer {customer_id}: {} / ランクを変更しました", r.tier);
        }
        RanksCommand::Evaluate { on } => {
            let on = on.unwrap_or_else(|| app.today_date());
            let r = app.evaluate_ranks(on).await?;
            println!(
                "{on}: 昇格 / upgraded {}, 判定 / reviewed {}, 降格 / downgraded {}, 猶予 / on grace {}",
                r.upgraded, r.reviewed, r.downgraded, r.graced
            );
        }
        RanksCommand::Report => {
            let r = app.rank_report().await?;
            println!("tier	customers");
            for t in &r.tiers {
                println!("{}	{}", t.tier, t.customers);
            }
            println!("month	up	down	grace");
            for m in &r.months {
                println!("{}	{}	{}	{}", m.month, m.up, m.down, m.grace);
            }
        }
    }
    Ok(())
}

pub(crate) async fn tickets(g: &Global, c: TicketsCommand, actor: &Actor) -> Result<()> {
    use joren_app::tickets::{RefundTicketInput, SellInput, Ticket, UseInput};
    let app = open(&g.database_url, config(g, false)?).await?;
    let show = |t: &Ticket| {
        let last = t.last_day.map(|d| d.to_string()).unwrap_or_else(|| "無期限 / no expiry".into());
        println!(
            "ticket {}\t{}\t{}/{} left\tuntil {last}\t{}\tunused ¥{}",
            t.id, t.name, t.remaining, t.visits, t.status, t.unused_value
        );
    };
    match c {
        TicketsCommand::Plans => {
            for p in app.ticket_plans().await? {
                println!(
                    "plan {}\t{}\t{} visits\t¥{}\t{} months\t{}",
                    p.id,
                    p.name,
                    p.visits,
                    p.price,
                    p.valid_months,
                    if p.active { "on sale" } else { "not on sale" }
                );
            }
        }
        TicketsCommand::PlanAdd { name, visits, price, months } => {
            let input = joren_core::ticket::TicketPlanInput { name, visits, price, valid_months: months, active: true };
            let p = app.save_ticket_plan(actor, None, input).await?;
            println!("plan {}: {} / 作成しました", p.id, p.name);
        }
        TicketsCommand::Sell { customer_id, plan_id } => {
            show(&app.sell_ticket(actor, customer_id, SellInput { plan_id }, None).await?.ticket);
        }
        TicketsCommand::Use { ticket_id, note } => {
            show(&app.use_ticket(actor, ticket_id, UseInput { note }, None).await?.ticket);
        }
        TicketsCommand::Refund { ticket_id, reason } => {
            let t = app.refund_ticket(actor, ticket_id, RefundTicketInput { reason }).await?;
            println!("ticket {}: ¥{} refunded / 払い戻しました", t.id, t.refunded_amount);
        }
        TicketsCommand::List { customer_id } => {
            for t in app.customer_tickets(customer_id).await? {
                show(&t);
            }
        }
        TicketsCommand::Outstanding => {
            let o = app.tickets_outstanding().await?;
            println!(
                "未使用残高 / outstanding ¥{} in {} tickets (うち6か月以内有効 / valid 6 months or less: ¥{})",
                o.value, o.tickets, o.exempt_value
            );
        }
    }
    Ok(())
}

pub(crate) async fn memberships(g: &Global, c: MembershipsCommand, actor: &Actor) -> Result<()> {
    use joren_app::memberships::{ChangeInput, Membership, StartInput};
    let app = open(&g.database_url, config(g, false)?).await?;
    let show = |m: &Membership| {
        println!(
            "membership {}\t{}\t{}\tfrom {}\tpaid until {}\trenewals {}{}",
            m.id,
            m.name,
            m.status,
            m.started_on,
            m.paid_until,
            m.renewals,
            m.cancel_reason.as_deref().map(|r| format!("\treason {r}")).unwrap_or_default()
        );
    };
    match c {
        MembershipsCommand::Plans => {
            for p in app.membership_plans().await? {
                println!("plan {}\t{}\t¥{}\tevery {} months\t{}", p.id, p.name, p.price, p.period_months, p.active);
            }
        }
        MembershipsCommand::PlanAdd { name, price, months } => {
            let input =
                joren_core::membership::MembershipPlanInput { name, price, period_months: months, active: true };
            let p = app.save_membership_plan(actor, None, input).await?;
            println!("plan {}: {} / 作成しました", p.id, p.name);
        }
        MembershipsCommand::Start { customer_id, plan_id } => {
            show(&app.start_membership(actor, customer_id, StartInput { plan_id }, None).await?.0);
        }
        MembershipsCommand::Change { membership_id, action, reason, note } => {
            let input = ChangeInput { action, reason, note };
            show(&app.change_membership(actor, membership_id, input, None).await?.0);
        }
        MembershipsCommand::List { customer_id } => {
            for m in app.customer_memberships(customer_id).await? {
                show(&m);
            }
        }
        MembershipsCommand::Report { plan_id } => {
            println!("{}", serde_json::to_string_pretty(&app.membership_report(plan_id).await?)?);
        }
    }
    Ok(())
}

pub(crate) async fn perks(g: &Global, c: PerksCommand, actor: &Actor) -> Result<()> {
    use joren_core::perk::{PerkInput, PerkKind};
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        PerksCommand::List => {
            for p in app.perks().await? {
                println!(
                    "perk {}\t{}\t{}\t{}",
                    p.id,
                    p.input.name,
                    p.input.kind.as_str(),
                    serde_json::to_string(&p.input)?
                );
            }
        }
        PerksCommand::Add { name, kind, description, min_rank_level, membership_plan_id, segment_id } => {
            let kind = PerkKind::parse(&kind).with_context(|| format!("unknown kind {kind}"))?;
            let input =
                PerkInput { name, description, kind, min_rank_level, membership_plan_id, segment_id, active: true };
            let p = app.save_perk(actor, None, input).await?;
            println!("perk {}: {} / 作成しました", p.id, p.input.name);
        }
        PerksCommand::Check { perk_id, customer_id } => {
            let c = app.check_perk(customer_id, perk_id).await?;
            if c.allowed {
                println!("allowed / 利用できます: {} ({})", c.name, c.because.join(", "));
            } else {
                bail!("not allowed / 利用できません: {} (needs {})", c.name, c.missing.join(" or "));
            }
        }
    }
    Ok(())
}
