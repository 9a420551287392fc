//! `joren analyze`: the analytics engine on a transactions CSV (`customer_id,date,amount`).

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::ProgressBar;
use joren_analytics::log::{civil_from_days, format_day as date, parse_day};
use joren_analytics::summary::summarize;
use joren_analytics::{
    TimeUnit, TransactionLog, TransactionLogBuilder, bgnbd, churn, clv, gamma_gamma, pareto_nbd, rfm,
};
use serde_json::json;

mod models;
mod reports;

use models::*;
use reports::*;

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

/// How long each step of a command took, logged at its end (`JOREN_LOG=info`): where the
/// time of an analysis goes (read, summarise, fit, forecast, write).
pub(super) struct Phases {
    command: &'static str,
    started: std::time::Instant,
    last: std::time::Instant,
    steps: Vec<(&'static str, f64)>,
}

impl Phases {
    pub(super) fn new(command: &'static str) -> Self {
        let now = std::time::Instant::now();
        Self { command, started: now, last: now, steps: Vec::new() }
    }

    /// Ends the step `name` (it began when the previous one ended).
    pub(super) fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.steps.push((name, (now - self.last).as_secs_f64()));
        self.last = now;
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        let steps: Vec<String> = self.steps.iter().map(|(n, s)| format!("{n} {s:.3} s")).collect();
        let total = self.started.elapsed().as_secs_f64();
        tracing::info!(command = self.command, "{} (total {total:.3} s)", steps.join(", "));
    }
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
    // A thread reads the file ahead while the parser works on what was read: two 4 MB
    // buffers (a batch of blocks each) passed back and forth. The thread stops at the end of
    // the file, or when the parser stops handing buffers back (it finished or failed).
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(1);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..2 {
        empty_tx.send(vec![0u8; 4 << 20]).expect("the receiver is here");
    }
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                let read = file.read(&mut buf).map(|n| (buf, n));
                let last = !matches!(read, Ok((_, n)) if n > 0);
                if full_tx.send(read).is_err() || last {
                    break;
                }
            }
        });
        let (empty_tx, full_rx) = (empty_tx, full_rx);
        for read in &full_rx {
            let (buf, n) = read.with_context(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            b.feed(&buf[..n]).with_context(|| format!("reading {}", path.display()))?;
            pb.inc(n as u64);
            // A closed channel means the reader has ended: the loop ends with it.
            let _ = empty_tx.send(buf);
        }
        Ok(())
    })?;
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

/// Appends `v` as `{}` shows it, whole numbers (days, in most files) without the float
/// formatter, which is most of the cost of writing them.
fn push_shortest(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    if v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative()) {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
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
    use super::{push_fixed, push_shortest};

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

    #[test]
    fn shortest_numbers_match_the_standard_formatting() {
        for v in [0.0, -0.0, 30.0, -2.0, 4.285714285714286, 1e15, 1e16, 123456789.0, 0.5, f64::NAN, f64::INFINITY] {
            let mut s = String::new();
            push_shortest(&mut s, v);
            assert_eq!(s, format!("{v}"), "{v:?}");
        }
    }
}
