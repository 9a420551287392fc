//! `joren analyze`: the analytics engine on a transactions CSV (`customer_id,date,amount`).

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::ProgressBar;
use joren_analytics::log::{format_day as date, parse_day};
use joren_analytics::summary::summarize;
use joren_analytics::{
    TimeUnit, TransactionLog, TransactionLogBuilder, bgnbd, churn, clv, gamma_gamma, pareto_nbd, rfm,
};
use serde_json::json;

#[derive(Subcommand)]
pub enum AnalyzeCommand {
    /// Retention KPIs of a period: S (active at start), E (active at end), N (new), retention
    /// (E − N) / S × 100, churn, repeat rate, purchase frequency, average order value, simple
    /// LTV (AOV × orders per year × 1 / (1 − yearly retention)). Active = purchased within
    /// --window-days up to the day. Each row of the file is one order.
    Kpi(KpiArgs),
    /// Subscription retention (shifted-beta-geometric, Fader & Hardie 2007) from a cohort's
    /// survivor counts per period, e.g. `--alive 1000,631,468,382`: fitted α, β and projected
    /// survival and retention rates.
    Retention(RetentionArgs),
    /// Cohort table: customers by month (or --weekly) of first purchase; per period since, the
    /// share still purchasing, revenue, and cumulative revenue per customer.
    Cohorts(CohortArgs),
    /// Per-customer repeat-purchase summary: x (repeat transactions; same-day purchases are one),
    /// t_x (first to last purchase), T (first purchase to the end), mean repeat value.
    Summary(Common),
    /// RFM: recency (days since last purchase), frequency (purchases), monetary (total spend),
    /// scored 1–5 by quintiles (NTILE, ties by customer id) with a named segment per customer
    /// (優良顧客, 常連顧客, 新規顧客, 休眠顧客, 離反リスク顧客, …; the full mapping is in the docs
    /// of `joren_analytics::rfm::segment`).
    Rfm(Common),
    /// Probabilistic CLV models fitted by maximum likelihood: BG/NBD (`bgnbd`) or Pareto/NBD
    /// (`pnbd`) for purchases and survival, Gamma-Gamma (`gg`) for spend. Prints {"model","params","log_likelihood",
    /// "customers",…}; `--per-customer FILE` also writes P(alive), expected purchases, expected
    /// order value and CLV for every customer (from the chosen BG/NBD or Pareto/NBD model with
    /// Gamma-Gamma).
    ///
    /// With --per-customer each row also has a churn risk: score 0–100 =
    /// 100 × (½ (1 − P(alive)) + ½ clamp((overdue − 1) / 2, 0, 1)), where overdue = days since
    /// the last purchase ÷ the customer's interval, their own mean gap shrunk towards the
    /// shop's median gap: (x × own + shop) ÷ (x + 1). Bands: low below 30, medium below 60,
    /// high from 60. Expected next purchase = last purchase + interval. `--model bgbb` fits the
    /// discrete-opportunity BG/BB model (see --period-days).
    Clv(ClvArgs),
    /// Calibration/holdout validation: fit on the data up to --calibration-end, forecast the
    /// repeat purchases of every customer up to --holdout-end and compare with what they did:
    /// total error, per-customer correlation, and actual vs forecast by calibration frequency.
    Validate(ValidateArgs),
}

#[derive(Args, Clone)]
pub struct Common {
    /// Transactions CSV with a header row: customer_id,date,amount (extra columns ignored).
    #[arg(long, required_unless_present = "from_db", conflicts_with = "from_db")]
    transactions: Option<PathBuf>,
    /// Read the shop's own orders from the database (`--database-url`) instead of a CSV:
    /// cancelled and fully refunded orders left out, partial refunds deducted, days in the
    /// shop's time zone, amounts in minor units (yen), customers by their Joren id.
    #[arg(long)]
    from_db: bool,
    /// The order log read from the database for `--from-db` (filled in before running).
    #[arg(skip)]
    database_log: Option<std::sync::Arc<TransactionLog>>,
    /// Last day of observation (YYYY-MM-DD); later transactions are ignored. Default: the last
    /// date in the file.
    #[arg(long, alias = "end")]
    calibration_end: Option<String>,
    /// Time unit of t_x and T.
    #[arg(long, value_enum, default_value = "day")]
    time_unit: Unit,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write one row per customer to this CSV file.
    #[arg(long)]
    per_customer: Option<PathBuf>,
    /// Column names in the header.
    #[arg(long, default_value = "customer_id")]
    customer_column: String,
    #[arg(long, default_value = "date")]
    date_column: String,
    #[arg(long, default_value = "amount")]
    amount_column: String,
}

#[derive(Args)]
pub struct KpiArgs {
    #[command(flatten)]
    common: Common,
    /// First day of the period (YYYY-MM-DD).
    #[arg(long)]
    start: String,
    /// Activity window in days.
    #[arg(long, default_value_t = 365)]
    window_days: i32,
    /// Also split the KPIs by this column (e.g. acquisition_source): one set per group, each
    /// customer in the group of their first row.
    #[arg(long)]
    group_column: Option<String>,
}

#[derive(Args)]
pub struct RetentionArgs {
    /// Customers still subscribed at the start and after each period, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    alive: Vec<u64>,
    /// Periods to project from the start.
    #[arg(long, default_value_t = 12)]
    project: u32,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct CohortArgs {
    #[command(flatten)]
    common: Common,
    /// Weekly cohorts (weeks start on Monday) instead of monthly.
    #[arg(long)]
    weekly: bool,
    /// One cohort table per value of this column (e.g. acquisition_source), each customer in
    /// the group of their first row.
    #[arg(long)]
    group_column: Option<String>,
}

#[derive(Args)]
pub struct ClvArgs {
    #[command(flatten)]
    common: Common,
    /// Which model to report.
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: Model,
    /// Days ahead for expected purchases.
    #[arg(long, default_value_t = 90.0)]
    horizon_days: f64,
    /// Months of value in the CLV.
    #[arg(long, default_value_t = 12)]
    clv_months: u32,
    /// Discount rate per month for the CLV.
    #[arg(long, default_value_t = 0.01)]
    monthly_discount: f64,
    /// BG/BB only: days per purchase opportunity (365 = one chance a year, 30 ≈ monthly).
    #[arg(long, default_value_t = 365)]
    period_days: i32,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    common: Common,
    /// Last day of the holdout (YYYY-MM-DD). Default: the last date in the file.
    #[arg(long)]
    holdout_end: Option<String>,
    /// Which model to validate.
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: ValidateModel,
    /// Calibration frequencies from this number up share one row of the table.
    #[arg(long, default_value_t = 7)]
    max_frequency: u32,
}

#[derive(Clone, Copy, ValueEnum)]
enum Unit {
    Day,
    Week,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Model {
    Bgnbd,
    Pnbd,
    Gg,
    Bgbb,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ValidateModel {
    Bgnbd,
    Pnbd,
}

fn read_log(c: &Common, pb: &ProgressBar) -> Result<TransactionLog> {
    read_log_grouped(c, None, pb)
}

fn read_log_grouped(c: &Common, group: Option<&str>, pb: &ProgressBar) -> Result<TransactionLog> {
    let Some(path) = &c.transactions else {
        if group.is_some() {
            bail!("--group-column reads a CSV column: use it with --transactions");
        }
        let log = c.database_log.as_deref().context("--from-db: the order log was not read")?;
        if log.is_empty() {
            bail!("the database has no orders to analyse");
        }
        return Ok(log.clone());
    };
    pb.set_message(format!("reading {}", path.display()));
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut b = TransactionLogBuilder::new(2).column_names(&c.customer_column, &c.date_column, &c.amount_column);
    if let Some(g) = group {
        b = b.group_column(g);
    }
    // A customer_id,date,amount row takes about 24 bytes; reserving a little more than the
    // file can hold avoids copying the columns as they grow (untouched pages cost nothing).
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    b.reserve((size / 20) as usize);
    // A byte bar while reading; the spinner with step names afterwards.
    pb.set_length(size);
    pb.set_position(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:40}] {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut buf = vec![0u8; 8 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        b.feed(&buf[..n]).with_context(|| format!("reading {}", path.display()))?;
        pb.inc(n as u64);
    }
    pb.set_style(indicatif::ProgressStyle::default_spinner());
    let log = b.finish().with_context(|| format!("reading {}", path.display()))?;
    if log.is_empty() {
        bail!("{} has no transactions", path.display());
    }
    Ok(log)
}

fn end_day(c: &Common, log: &TransactionLog) -> Result<i32> {
    match &c.calibration_end {
        Some(d) => parse_day(d.as_bytes()).with_context(|| format!("--calibration-end must be YYYY-MM-DD, got {d}")),
        None => Ok(*log.day.iter().max().expect("non-empty")),
    }
}

fn unit(c: &Common) -> TimeUnit {
    match c.time_unit {
        Unit::Day => TimeUnit::Day,
        Unit::Week => TimeUnit::Week,
    }
}

fn csv_out(path: &PathBuf) -> Result<std::io::BufWriter<std::fs::File>> {
    Ok(std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    ))
}

/// Appends `v` with exactly `decimals` decimals (≤ 9), rounding the scaled value (so at an
/// exact decimal tie the last digit may differ from `format!`, which rounds the binary value): the
/// per-customer files hold millions of numbers and the standard exact-decimal formatting is
/// the slowest step of writing them. Non-finite values are written as `NaN`.
fn push_fixed(out: &mut String, v: f64, decimals: u32) {
    use std::fmt::Write as _;
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round();
    if !v.is_finite() || scaled >= 9.0e18 {
        let _ = write!(out, "{v:.*}", decimals as usize);
        return;
    }
    let n = scaled as u64;
    if v < 0.0 && n > 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", n / scale);
    if decimals > 0 {
        let _ = write!(out, ".{:0width$}", n % scale, width = decimals as usize);
    }
}

/// Writes `n` CSV lines made by `line(i, &mut buffer)`, formatting blocks of rows on all cores
/// and writing them in order (memory stays bounded by one block).
fn write_lines_parallel<W: Write>(w: &mut W, n: usize, line: impl Fn(usize, &mut String) + Sync) -> Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 16_384;
    const CHUNKS_PER_BLOCK: usize = 8;
    let chunks = n.div_ceil(CHUNK);
    for block in (0..chunks).step_by(CHUNKS_PER_BLOCK) {
        let texts: Vec<String> = (block..(block + CHUNKS_PER_BLOCK).min(chunks))
            .into_par_iter()
            .map(|c| {
                let mut text = String::with_capacity(CHUNK * 96);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    line(i, &mut text);
                }
                text
            })
            .collect();
        for t in texts {
            w.write_all(t.as_bytes())?;
        }
    }
    Ok(())
}

impl AnalyzeCommand {
    /// The input options, when the command reads a transaction log (all but `retention`).
    pub fn common_mut(&mut self) -> Option<&mut Common> {
        match self {
            Self::Kpi(a) => Some(&mut a.common),
            Self::Cohorts(a) => Some(&mut a.common),
            Self::Clv(a) => Some(&mut a.common),
            Self::Validate(a) => Some(&mut a.common),
            Self::Summary(c) | Self::Rfm(c) => Some(c),
            Self::Retention(_) => None,
        }
    }
}

impl Common {
    /// Whether the log comes from the database (`--from-db`).
    pub fn reads_database(&self) -> bool {
        self.from_db
    }

    /// Hands over the order log read from the database.
    pub fn set_database_log(&mut self, log: TransactionLog) {
        self.database_log = Some(std::sync::Arc::new(log));
    }
}

pub fn run(cmd: AnalyzeCommand) -> Result<()> {
    let pb = ProgressBar::new_spinner();
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = match cmd {
        AnalyzeCommand::Kpi(a) => run_kpi(&a, &pb),
        AnalyzeCommand::Cohorts(a) => run_cohorts(&a, &pb),
        AnalyzeCommand::Retention(a) => run_retention(&a),
        AnalyzeCommand::Summary(c) => run_summary(&c, &pb),
        AnalyzeCommand::Rfm(c) => run_rfm(&c, &pb),
        AnalyzeCommand::Clv(a) => run_clv(&a, &pb),
        AnalyzeCommand::Validate(a) => run_validate(&a, &pb),
    };
    pb.finish_and_clear();
    result
}

fn run_kpi(a: &KpiArgs, pb: &ProgressBar) -> Result<()> {
    let c = &a.common;
    let log = read_log_grouped(c, a.group_column.as_deref(), pb)?;
    let end = end_day(c, &log)?;
    let start =
        parse_day(a.start.as_bytes()).with_context(|| format!("--start must be YYYY-MM-DD, got {}", a.start))?;
    if start > end {
        bail!("--start {} is after the end of the period {}", a.start, date(end));
    }
    if a.window_days < 1 {
        bail!("--window-days must be at least 1");
    }
    pb.set_message("computing KPIs");
    let kpis = |log: &TransactionLog| -> Result<serde_json::Value> {
        let mut v = serde_json::to_value(joren_analytics::kpi::kpis(log, start, end, a.window_days))?;
        v["period_start"] = json!(date(start));
        v["period_end"] = json!(date(end));
        v["window_days"] = json!(a.window_days);
        Ok(v)
    };
    let mut v = kpis(&log)?;
    if a.group_column.is_none() {
        return print_object(c.format, &v);
    }
    let groups: Vec<(String, serde_json::Value)> =
        log.split_by_group().iter().map(|(name, sub)| Ok((name.clone(), kpis(sub)?))).collect::<Result<_>>()?;
    match c.format {
        Format::Json => {
            v["groups"] = groups.iter().map(|(g, k)| json!({"group": g, "kpis": k})).collect();
            println!("{v}");
        }
        Format::Csv => {
            let keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
            println!("group,{}", keys.join(","));
            for (g, k) in std::iter::once(("(all)".to_string(), v.clone())).chain(groups) {
                let cells: Vec<String> =
                    keys.iter().map(|key| k[key].to_string().trim_matches('"').to_string()).collect();
                println!("{},{}", csv_cell(&g), cells.join(","));
            }
        }
        Format::Table => {
            let rows = [
                "start_customers",
                "end_customers",
                "new_customers",
                "retention_rate",
                "churn_rate",
                "repeat_rate",
                "average_order_value",
                "simple_ltv",
            ];
            print!("{:<22}", "group");
            for r in rows {
                print!(" {r:>20}");
            }
            println!();
            for (g, k) in std::iter::once(("(all)".to_string(), v.clone())).chain(groups) {
                print!("{g:<22}");
                for r in rows {
                    let cell = match &k[r] {
                        serde_json::Value::Number(n) => match n.as_f64() {
                            Some(f) if n.is_f64() => format!("{f:.2}"),
                            _ => n.to_string(),
                        },
                        serde_json::Value::Null => "—".into(),
                        other => other.to_string(),
                    };
                    print!(" {cell:>20}");
                }
                println!();
            }
        }
    }
    Ok(())
}

/// A CSV cell, quoted when it holds a comma, quote or line break.
fn csv_cell(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

fn run_retention(a: &RetentionArgs) -> Result<()> {
    use joren_analytics::sbg;
    let f = sbg::fit(&a.alive).context("shifted-beta-geometric")?;
    let projection: Vec<_> = (1..=a.project)
        .map(|t| json!({"period": t, "survival": sbg::survival(&f.params, t), "retention_rate": sbg::retention_rate(&f.params, t)}))
        .collect();
    if a.format == Format::Table {
        println!(
            "sBG: alpha = {:.4}, beta = {:.4}, log-likelihood = {:.4}",
            f.params.alpha, f.params.beta, f.log_likelihood
        );
        println!("{:>6} {:>9} {:>9} {:>9}", "period", "observed", "survival", "retention");
        for t in 1..=a.project {
            let observed = a
                .alive
                .get(t as usize)
                .map(|n| format!("{:.1}%", 100.0 * *n as f64 / a.alive[0] as f64))
                .unwrap_or_default();
            println!(
                "{t:>6} {observed:>9} {:>8.1}% {:>8.1}%",
                100.0 * sbg::survival(&f.params, t),
                100.0 * sbg::retention_rate(&f.params, t)
            );
        }
        return Ok(());
    }
    print_object(
        a.format,
        &json!({"model": "sbg", "params": f.params, "standard_errors": f.standard_errors,
                "log_likelihood": f.log_likelihood, "customers": a.alive[0], "projection": projection}),
    )
}

fn run_cohorts(a: &CohortArgs, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::cohort::{Granularity, cohorts};
    let c = &a.common;
    let log = read_log_grouped(c, a.group_column.as_deref(), pb)?;
    let end = end_day(c, &log)?;
    pb.set_message("building cohorts");
    let g = if a.weekly { Granularity::Week } else { Granularity::Month };
    let tables: Vec<(String, Vec<joren_analytics::cohort::Cohort>)> = if a.group_column.is_some() {
        log.split_by_group().iter().map(|(name, sub)| (name.clone(), cohorts(sub, end, g))).collect()
    } else {
        vec![(String::new(), cohorts(&log, end, g))]
    };
    let grouped = a.group_column.is_some();
    match c.format {
        Format::Json if grouped => {
            let v: Vec<_> = tables.iter().map(|(g, t)| json!({"group": g, "cohorts": t})).collect();
            println!("{}", serde_json::to_string(&v)?);
        }
        Format::Json => println!("{}", serde_json::to_string(&tables[0].1)?),
        Format::Csv => {
            println!(
                "{}cohort,customers,period,active_share,revenue,cumulative_revenue_per_customer",
                if grouped { "group," } else { "" }
            );
            for (group, t) in &tables {
                let prefix = if grouped { format!("{},", csv_cell(group)) } else { String::new() };
                for row in t {
                    for k in 0..row.active_share.len() {
                        println!(
                            "{prefix}{},{},{k},{:.6},{:.2},{:.4}",
                            row.label,
                            row.customers,
                            row.active_share[k],
                            row.revenue[k],
                            row.cumulative_revenue_per_customer[k]
                        );
                    }
                }
            }
        }
        Format::Table => {
            for (group, t) in &tables {
                if grouped {
                    println!("== {group} ==");
                }
                let width = t.iter().map(|r| r.active_share.len()).max().unwrap_or(0).min(13);
                print!("{:<11} {:>8}", "cohort", "size");
                for k in 0..width {
                    print!(" {:>5}", format!("+{k}"));
                }
                println!();
                for row in t {
                    print!("{:<11} {:>8}", row.label, row.customers);
                    for share in row.active_share.iter().take(width) {
                        print!(" {:>4.0}%", share * 100.0);
                    }
                    println!();
                }
            }
        }
    }
    Ok(())
}

fn run_summary(c: &Common, pb: &ProgressBar) -> Result<()> {
    let log = read_log(c, pb)?;
    let end = end_day(c, &log)?;
    pb.set_message("summarising");
    let s = summarize(&log, end, unit(c));
    if let Some(path) = &c.per_customer {
        let mut w = csv_out(path)?;
        writeln!(w, "customer_id,frequency,recency,T,monetary_value")?;
        for i in 0..s.len() {
            writeln!(
                w,
                "{},{},{},{},{}",
                log.customer_ids[s.customer[i] as usize], s.frequency[i], s.recency[i], s.age[i], s.monetary_value[i]
            )?;
        }
        w.flush()?;
    }
    let out = json!({
        "customers": s.len(), "transactions": log.len(), "observation_end": date(end),
        "time_unit": unit(c), "repeaters": s.frequency.iter().filter(|&&x| x > 0).count(),
        "sum_frequency": s.frequency.iter().map(|&x| u64::from(x)).sum::<u64>(),
        "sum_recency": s.recency.iter().sum::<f64>(), "sum_T": s.age.iter().sum::<f64>(),
    });
    print_object(c.format, &out)
}

fn run_rfm(c: &Common, pb: &ProgressBar) -> Result<()> {
    let log = read_log(c, pb)?;
    let end = end_day(c, &log)?;
    pb.set_message("scoring RFM");
    let mut r = rfm::values(&log, end);
    rfm::score_quintiles(&log, &mut r);
    let levels = rfm::Levels::default();
    let mut counts: Vec<(rfm::Segment, usize, i64)> = Vec::new();
    let mut scored = 0;
    for i in 0..r.r.len() {
        if r.frequency[i] == 0 {
            continue;
        }
        scored += 1;
        let seg = rfm::segment(r.r[i], r.f[i], r.m[i], levels);
        match counts.iter_mut().find(|(s, _, _)| *s == seg) {
            Some(e) => {
                e.1 += 1;
                e.2 += r.monetary[i];
            }
            None => counts.push((seg, 1, r.monetary[i])),
        }
    }
    counts.sort_by_key(|(_, n, _)| std::cmp::Reverse(*n));
    if let Some(path) = &c.per_customer {
        let mut w = csv_out(path)?;
        writeln!(w, "customer_id,recency_days,frequency,monetary,R,F,M,RFM,segment")?;
        for i in 0..r.r.len() {
            if r.frequency[i] == 0 {
                continue;
            }
            let seg = rfm::segment(r.r[i], r.f[i], r.m[i], levels);
            writeln!(
                w,
                "{},{},{},{:.2},{},{},{},{}{}{},{}",
                log.customer_ids[i],
                r.recency_days[i],
                r.frequency[i],
                r.monetary[i] as f64 / 100.0,
                r.r[i],
                r.f[i],
                r.m[i],
                r.r[i],
                r.f[i],
                r.m[i],
                seg.name_ja()
            )?;
        }
        w.flush()?;
    }
    let n555 = (0..r.r.len()).filter(|&i| (r.r[i], r.f[i], r.m[i]) == (5, 5, 5)).count();
    let n111 = (0..r.r.len()).filter(|&i| (r.r[i], r.f[i], r.m[i]) == (1, 1, 1)).count();
    let total: i64 = counts.iter().map(|c| c.2).sum();
    if c.format == Format::Table {
        println!("RFM ({} customers, observation end {}): 555 = {n555}, 111 = {n111}", scored, date(end));
        println!("{:<16} {:>9} {:>7} {:>9}", "segment", "customers", "share", "revenue%");
        for (seg, n, m) in &counts {
            println!(
                "{:<16} {:>9} {:>6.1}% {:>8.1}%  {}",
                seg.name_ja(),
                n,
                100.0 * *n as f64 / scored as f64,
                100.0 * *m as f64 / total.max(1) as f64,
                seg.name_en()
            );
        }
        return Ok(());
    }
    let segments: Vec<_> = counts
        .iter()
        .map(|(s, n, m)| json!({"segment": s, "name_ja": s.name_ja(), "name_en": s.name_en(), "customers": n, "revenue": *m as f64 / 100.0}))
        .collect();
    print_object(
        c.format,
        &json!({"customers": scored, "observation_end": date(end), "n_555": n555, "n_111": n111, "segments": segments}),
    )
}

fn run_clv(a: &ClvArgs, pb: &ProgressBar) -> Result<()> {
    let c = &a.common;
    let log = read_log(c, pb)?;
    let end = end_day(c, &log)?;
    if a.model == Model::Bgbb {
        return run_bgbb(a, &log, end, pb);
    }
    pb.set_message("summarising");
    let s = summarize(&log, end, unit(c));
    let per_customer = c.per_customer.is_some();
    let bg = if a.model == Model::Bgnbd || (a.model == Model::Gg && per_customer) {
        pb.set_message("fitting BG/NBD");
        Some(bgnbd::fit(&s).context("BG/NBD")?)
    } else {
        None
    };
    let pn = if a.model == Model::Pnbd {
        pb.set_message("fitting Pareto/NBD");
        Some(pareto_nbd::fit(&s).context("Pareto/NBD")?)
    } else {
        None
    };
    let gg = if a.model == Model::Gg || per_customer {
        pb.set_message("fitting Gamma-Gamma");
        Some(gamma_gamma::fit(&s).context("Gamma-Gamma")?)
    } else {
        None
    };
    let mut out = match (&bg, &pn) {
        (_, Some(p)) if a.model == Model::Pnbd => {
            json!({"model": "pnbd", "params": p.params, "standard_errors": p.standard_errors,
                   "log_likelihood": p.log_likelihood, "customers": p.customers, "repeaters": p.repeaters,
                   "iterations": p.iterations})
        }
        (Some(b), _) if a.model == Model::Bgnbd => {
            json!({"model": "bgnbd", "params": b.params, "standard_errors": b.standard_errors,
                   "log_likelihood": b.log_likelihood, "customers": b.customers, "repeaters": b.repeaters,
                   "iterations": b.iterations})
        }
        _ => {
            let g = gg.as_ref().expect("fitted");
            json!({"model": "gg", "params": g.params, "standard_errors": g.standard_errors,
                   "log_likelihood": g.log_likelihood, "customers": g.repeaters, "iterations": g.iterations})
        }
    };
    out["time_unit"] = json!(unit(c));
    out["calibration_end"] = json!(date(end));
    if let Some(path) = &c.per_customer {
        pb.set_message("forecasting every customer");
        let model = match (&pn, &bg) {
            (Some(p), _) => clv::PurchaseModel::ParetoNbd(p.params),
            (None, Some(b)) => clv::PurchaseModel::BgNbd(b.params),
            (None, None) => unreachable!("a purchase model is fitted for per-customer output"),
        };
        let horizon = clv::Horizon {
            purchases_days: a.horizon_days,
            clv_months: a.clv_months,
            monthly_discount: a.monthly_discount,
        };
        let f = clv::forecast(&s, &model, &gg.as_ref().expect("fitted").params, horizon);
        let alive: Vec<f64> = f.iter().map(|f| f.p_alive).collect();
        let risk = churn::assess_all(&s, &alive, end, &churn::Settings::default()).context("churn risk")?;
        let mut w = csv_out(path)?;
        writeln!(
            w,
            "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases_{}d,expected_value,clv_{}m,\
             churn_risk,churn_band,expected_next_purchase",
            a.horizon_days, a.clv_months
        )?;
        write_lines_parallel(&mut w, f.len(), |i, out| {
            use std::fmt::Write as _;
            let (f, r) = (&f[i], &risk[i]);
            let _ = write!(
                out,
                "{},{},{},{},",
                log.customer_ids[s.customer[i] as usize], s.frequency[i], s.recency[i], s.age[i]
            );
            for (v, d) in
                [(s.monetary_value[i], 4), (f.p_alive, 6), (f.expected_purchases, 6), (f.expected_value, 4), (f.clv, 4)]
            {
                push_fixed(out, v, d);
                out.push(',');
            }
            let _ = writeln!(out, "{},{},{}", r.score, r.band.as_str(), date(r.expected_next_day));
        })?;
        w.flush()?;
        let band = |b: churn::Band| risk.iter().filter(|r| r.band == b).count();
        out["churn_bands"] = json!({"low": band(churn::Band::Low), "medium": band(churn::Band::Medium),
                                    "high": band(churn::Band::High)});
    }
    print_object(c.format, &out)
}

fn run_bgbb(a: &ClvArgs, log: &TransactionLog, end: i32, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::bgbb;
    if a.common.per_customer.is_some() {
        bail!("--per-customer is available for --model bgnbd and pnbd; BG/BB reports the fitted model");
    }
    if a.period_days < 1 {
        bail!("--period-days must be at least 1");
    }
    pb.set_message("counting purchase opportunities");
    let h = bgbb::Histories::from_log(log, end, a.period_days);
    pb.set_message("fitting BG/BB");
    let f = bgbb::fit(&h).context("BG/BB")?;
    print_object(
        a.common.format,
        &json!({"model": "bgbb", "params": f.params, "standard_errors": f.standard_errors,
                "log_likelihood": f.log_likelihood, "customers": f.customers, "period_days": a.period_days,
                "calibration_end": date(end)}),
    )
}

fn run_validate(a: &ValidateArgs, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::validation;
    let c = &a.common;
    let log = read_log(c, pb)?;
    let Some(cal) = &c.calibration_end else { bail!("--calibration-end is required: the day the fit ends") };
    let cal_end =
        parse_day(cal.as_bytes()).with_context(|| format!("--calibration-end must be YYYY-MM-DD, got {cal}"))?;
    let holdout_end = match &a.holdout_end {
        Some(d) => parse_day(d.as_bytes()).with_context(|| format!("--holdout-end must be YYYY-MM-DD, got {d}"))?,
        None => *log.day.iter().max().expect("non-empty"),
    };
    if holdout_end <= cal_end {
        bail!("the holdout must end after the calibration ({} ≤ {})", date(holdout_end), date(cal_end));
    }
    pb.set_message("summarising the calibration period");
    let s = summarize(&log, cal_end, unit(c));
    let horizon = f64::from(holdout_end - cal_end) / unit(c).days();
    let model = match a.model {
        ValidateModel::Bgnbd => {
            pb.set_message("fitting BG/NBD");
            clv::PurchaseModel::BgNbd(bgnbd::fit(&s).context("BG/NBD")?.params)
        }
        ValidateModel::Pnbd => {
            pb.set_message("fitting Pareto/NBD");
            clv::PurchaseModel::ParetoNbd(pareto_nbd::fit(&s).context("Pareto/NBD")?.params)
        }
    };
    pb.set_message("forecasting the holdout");
    let v = validation::check_forecast(&log, &s, &model, cal_end, holdout_end, a.max_frequency);
    let name = match a.model {
        ValidateModel::Bgnbd => "bgnbd",
        ValidateModel::Pnbd => "pnbd",
    };
    if c.format == Format::Table {
        pb.finish_and_clear();
        println!(
            "{name}: fitted to {}, forecast {} .. {} ({horizon:.1} {})",
            date(cal_end),
            date(cal_end + 1),
            date(holdout_end),
            if matches!(c.time_unit, Unit::Week) { "weeks" } else { "days" }
        );
        println!(
            "repeat purchases in the holdout: actual {}, forecast {:.1} ({:+.1}%); per-customer correlation {}; mean absolute error {:.3}",
            v.actual_total,
            v.predicted_total,
            v.error_percent,
            v.correlation.map(|r| format!("{r:.3}")).unwrap_or_else(|| "n/a".into()),
            v.mean_absolute_error
        );
        println!("{:>12} {:>9} {:>10} {:>10}", "calib. x", "customers", "actual", "forecast");
        for r in &v.by_frequency {
            let label = if r.or_more { format!("{}+", r.frequency) } else { r.frequency.to_string() };
            println!("{label:>12} {:>9} {:>10.3} {:>10.3}", r.customers, r.actual_mean, r.predicted_mean);
        }
        return Ok(());
    }
    let mut out = serde_json::to_value(&v)?;
    out["model"] = json!(name);
    out["calibration_end"] = json!(date(cal_end));
    out["holdout_end"] = json!(date(holdout_end));
    out["horizon"] = json!(horizon);
    out["time_unit"] = json!(unit(c));
    if c.format == Format::Csv {
        println!("frequency,or_more,customers,actual_mean,predicted_mean");
        for r in &v.by_frequency {
            println!("{},{},{},{:.6},{:.6}", r.frequency, r.or_more, r.customers, r.actual_mean, r.predicted_mean);
        }
        return Ok(());
    }
    println!("{out}");
    Ok(())
}

fn print_object(format: Format, v: &serde_json::Value) -> Result<()> {
    match format {
        Format::Json => println!("{v}"),
        Format::Csv => {
            let obj = v.as_object().expect("object");
            let flat: Vec<(String, String)> = obj
                .iter()
                .flat_map(|(k, v)| match v.as_object() {
                    Some(inner) => {
                        inner.iter().map(|(k2, v2)| (format!("{k}.{k2}"), v2.to_string())).collect::<Vec<_>>()
                    }
                    None => vec![(k.clone(), v.to_string())],
                })
                .collect();
            println!("{}", flat.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(","));
            println!("{}", flat.iter().map(|(_, v)| v.trim_matches('"')).collect::<Vec<_>>().join(","));
        }
        Format::Table => {
            for (k, v) in v.as_object().expect("object") {
                match v.as_object() {
                    Some(inner) => {
                        for (k2, v2) in inner {
                            println!("{:<22} {v2}", format!("{k}.{k2}"));
                        }
                    }
                    None => println!("{k:<22} {v}"),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::push_fixed;

    fn fixed(v: f64, d: u32) -> String {
        let mut s = String::new();
        push_fixed(&mut s, v, d);
        s
    }

    #[test]
    fn fixed_decimals_match_the_standard_formatting() {
        for (v, d) in
            [(0.0, 4), (1.23456789, 6), (-2.5, 2), (24.65861547, 4), (0.0000004, 6), (1234567.891, 0), (9.99999, 4)]
        {
            assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v} to {d} decimals");
        }
        assert_eq!(fixed(-0.00001, 4), "0.0000", "no minus sign on a value that rounds to zero");
        assert_eq!(fixed(f64::NAN, 4), "NaN");
    }
}
