//! `joren`: the one binary. `serve` runs the web app and API, `demo` starts a seeded demo
//! shop, `import`/`export` move CSV in and out, `migrate` updates the schema, `user` and
//! `token` manage access, `analyze` runs the analytics engine on a transactions CSV.

mod analyze;
mod automation;

/// mimalloc: the import hands millions of small allocations from the parsing thread to the
/// database thread, where glibc's allocator spends much of its time on cross-thread frees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use joren_app::import::{ImportKind, ImportOptions};
use joren_app::{Actor, App, AppConfig, DEFAULT_DATABASE_URL};
use joren_core::role::Role;

#[derive(Parser)]
#[command(name = "joren", version, about = "Joren 常連 — self-hosted customer retention for small shops", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// Database: `sqlite://path/file.db` (embedded, default) or `postgres://user@host/db`.
    #[arg(long, env = "JOREN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// The shop's IANA time zone (days, birthdays, reports).
    #[arg(long, env = "JOREN_TIME_ZONE", default_value = "Asia/Tokyo", global = true)]
    time_zone: String,
    /// Orders dated before this day are refused (API, forms, imports), so a typo such as 0001
    /// never lands; orders more than a day in the future are refused too.
    #[arg(long, env = "JOREN_EARLIEST_ORDER_DATE", default_value = "1990-01-01", global = true)]
    earliest_order_date: chrono::NaiveDate,
    #[command(flatten)]
    mail: automation::MailArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI and the /api/v1 JSON API.
    Serve(ServeArgs),
    /// Create a believable demo shop (about 2,000 customers, two years of orders) in its own
    /// database file, then serve it and print the URL and a login.
    Demo(DemoArgs),
    /// Import customers or orders from a CSV file (UTF-8 or Shift_JIS; columns detected from
    /// the header row). Rejected rows are printed and written to a reject file; a re-run of the
    /// same file creates no duplicates.
    Import(ImportArgs),
    /// Export customers or orders as CSV (UTF-8 with BOM, formula injection escaped).
    Export(ExportArgs),
    /// Recompute every customer's metrics from the order log (RFM segment, P(alive), expected
    /// purchases in 90 days, expected order value, 12-month CLV, churn risk, expected next
    /// purchase) and store them as the new snapshot the web pages and API read.
    Snapshot,
    /// Apply pending database migrations (also done automatically at start).
    Migrate,
    /// Run the job queue (points expiry, daily ranks and birthday points, the nightly
    /// snapshot, housekeeping) without the web server. `joren serve` runs one too; any number
    /// of workers on one PostgreSQL share the work without doing anything twice.
    Worker(WorkerArgs),
    /// Manage users (roles: owner, staff, viewer).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (`Authorization: Bearer jrn_…`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The points ledger: balances, manual grants and deductions, the expiry run, the monthly
    /// report (outstanding paid value for 資金決済法) and an integrity check.
    #[command(subcommand)]
    Points(PointsCommand),
    /// Ranks: a customer's tier, manual changes, the evaluation run and the distribution.
    #[command(subcommand)]
    Ranks(RanksCommand),
    /// Prepaid tickets (回数券): plans, sale, use, refund of the unused part, outstanding value.
    #[command(subcommand)]
    Tickets(TicketsCommand),
    /// Memberships: plans, start, renew, pause, resume, cancel with a reason, the report.
    #[command(subcommand)]
    Memberships(MembershipsCommand),
    /// Member-only perks: list, add, and "may customer X use perk Y".
    #[command(subcommand)]
    Perks(PerksCommand),
    /// Email: send a test mail through the configured SMTP server.
    #[command(subcommand)]
    Mail(automation::MailCommand),
    /// Follow-up scenarios: list, show, activate, pause, enrol a customer or a saved segment.
    #[command(subcommand)]
    Scenarios(automation::ScenariosCommand),
    /// Retention analytics on a transactions CSV (customer_id,date,amount): customer summary,
    /// RFM scores and segments, BG/NBD and Gamma-Gamma CLV models.
    #[command(subcommand)]
    Analyze(analyze::AnalyzeCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "JOREN_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Mark session cookies `Secure` (set when served over HTTPS).
    #[arg(long, env = "JOREN_SECURE_COOKIES")]
    secure_cookies: bool,
}

#[derive(Args)]
struct WorkerArgs {
    /// The worker's name in the queue (default: host and process id).
    #[arg(long)]
    name: Option<String>,
    /// Do what is due now, print a JSON summary and exit (for cron, scripts and tests).
    #[arg(long)]
    until_idle: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Address to serve the demo on.
    #[arg(long, env = "JOREN_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Where the demo database lives (recreated on every run; your shop's database is untouched).
    #[arg(long, default_value = "sqlite://joren-data/demo.db")]
    demo_database_url: String,
    /// Number of individual customers to generate.
    #[arg(long, default_value_t = 2000)]
    customers: usize,
    /// Random seed: the same seed gives the same shop.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Only generate the data; do not start the server.
    #[arg(long)]
    no_serve: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Customers,
    Orders,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// Detect columns from Japanese/English header names.
    Generic,
    /// Shopify's orders export (Admin → Orders → Export).
    Shopify,
}

#[derive(Args)]
struct ImportArgs {
    /// What the file holds.
    kind: Kind,
    /// The CSV file.
    file: PathBuf,
    /// Column layout (default: detected; Shopify exports are recognised by their headers).
    #[arg(long)]
    preset: Option<Preset>,
    /// Override a column: `--map phone=連絡先` (field = header name or 1-based column number).
    #[arg(long = "map", value_name = "FIELD=HEADER")]
    map: Vec<String>,
    /// Name of the system the file's ids come from (default `csv`, or `shopify`).
    #[arg(long)]
    system: Option<String>,
    /// Where to write rejected rows (default: FILE.rejects.csv).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Rows per transaction.
    #[arg(long, default_value_t = 20000)]
    batch_size: usize,
}

#[derive(Args)]
struct ExportArgs {
    kind: Kind,
    /// Output file (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input (`--password-stdin`) or
    /// generated and printed (`--generate-password`); nothing else secret is printed.
    Create {
        username: String,
        #[arg(long, value_enum, default_value = "staff")]
        role: RoleArg,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, conflicts_with = "generate_password")]
        password_stdin: bool,
        #[arg(long)]
        generate_password: bool,
    },
    /// List users.
    List,
    /// Change a user's role.
    SetRole {
        username: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Set a new password (read from standard input).
    Passwd { username: String },
    /// Disable a user (ends their sessions).
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Owner,
    Staff,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Owner => Role::Owner,
            RoleArg::Staff => Role::Staff,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(Subcommand)]
enum PointsCommand {
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
enum RanksCommand {
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
enum TicketsCommand {
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
enum MembershipsCommand {
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
enum PerksCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (shown only once).
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "api")]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

fn config(g: &Global, secure_cookies: bool) -> Result<AppConfig> {
    let time_zone = g.time_zone.parse().map_err(|_| anyhow::anyhow!("unknown time zone {}", g.time_zone))?;
    let order_dates = joren_core::order::DateBounds { earliest: g.earliest_order_date, ..Default::default() };
    let mail = g.mail.config()?;
    Ok(AppConfig { time_zone, secure_cookies, background_jobs: true, order_dates, clock: Default::default(), mail })
}

async fn open(url: &str, config: AppConfig) -> Result<App> {
    App::open(url, config).await.with_context(|| format!("opening database {url}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_) | Command::Demo(_)) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JOREN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or a service manager gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let system = Actor::system("cli");
    match cli.command {
        Command::Serve(a) => {
            let app = open(&cli.global.database_url, config(&cli.global, a.secure_cookies)?).await?;
            serve(app, a.addr, None).await
        }
        Command::Demo(a) => demo(&cli.global, a).await,
        Command::Import(a) => import(&cli.global, a, &system).await,
        Command::Snapshot => {
            let app = open(&cli.global.database_url, config(&cli.global, false)?).await?;
            let pb = ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb.set_message("注文ログを分析しています / analysing the order log");
            let snapshot = app.refresh_metrics(&system).await;
            pb.finish_and_clear();
            let snapshot = snapshot?;
            println!(
                "スナップショット #{} / snapshot #{}: {} 人 / customers, {} 件の注文 / orders, 観測終了 / observation end {}",
                snapshot.id, snapshot.id, snapshot.customers, snapshot.orders, snapshot.observation_end
            );
            match snapshot.diagnostics.get("not_fitted").and_then(|v| v.as_str()) {
                Some(why) => println!("CLV モデルは未適用 / CLV models not fitted: {why}"),
                None => println!("BG/NBD: {}", snapshot.diagnostics["bgnbd"]["params"]),
            }
            Ok(())
        }
        Command::Export(a) => {
            let app = open(&cli.global.database_url, config(&cli.global, false)?).await?;
            let out: Box<dyn Write + Send> = match &a.output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let n = match a.kind {
                Kind::Customers => app.export_customers(&system, out).await?,
                Kind::Orders => app.export_orders(&system, out).await?,
            };
            eprintln!("{n} 件を出力しました / exported {n} records");
            Ok(())
        }
        Command::Worker(a) => worker(open(&cli.global.database_url, config(&cli.global, false)?).await?, a).await,
        Command::Migrate => {
            open(&cli.global.database_url, config(&cli.global, false)?).await?;
            eprintln!("migrations applied to {}", cli.global.database_url);
            Ok(())
        }
        Command::User(c) => user(&cli.global, c, &system).await,
        Command::Token(c) => token(&cli.global, c, &system).await,
        Command::Points(c) => points(&cli.global, c, &system).await,
        Command::Ranks(c) => ranks(&cli.global, c, &system).await,
        Command::Tickets(c) => tickets(&cli.global, c, &system).await,
        Command::Memberships(c) => memberships(&cli.global, c, &system).await,
        Command::Perks(c) => perks(&cli.global, c, &system).await,
        Command::Mail(c) => {
            automation::mail(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Scenarios(c) => {
            automation::scenarios(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Analyze(mut c) => {
            if let Some(common) = c.common_mut().filter(|c| c.reads_database()) {
                let app = open(&cli.global.database_url, config(&cli.global, false)?).await?;
                common.set_database_log(app.order_log().await?.log.clone());
            }
            // The engine runs on plain threads (rayon), outside the async runtime.
            tokio::task::spawn_blocking(move || analyze::run(c)).await?
        }
    }
}

async fn serve(app: App, addr: SocketAddr, banner: Option<String>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    match banner {
        Some(b) => println!("{}", b.replace("{url}", &format!("http://{bound}/"))),
        None => println!("Joren is running at http://{bound}/  (Ctrl+C to stop)"),
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app.config.background_jobs.then(|| {
        let mut stopped = stopped.clone();
        tokio::spawn(joren_app::jobs::run_worker(app.clone(), joren_app::jobs::worker_name(), async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    });
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    };
    joren_web::serve(app, listener, shutdown).await?;
    if let Some(w) = worker {
        // A job in the middle of its work finishes (its transaction commits or rolls back).
        let _ = w.await;
    }
    Ok(())
}

/// `joren worker`: runs the job queue without the web server (a second process, or a shop
/// that serves from one machine and works on another), until Ctrl+C — or, with
/// `--until-idle`, until nothing is due.
async fn worker(app: App, a: WorkerArgs) -> Result<()> {
    let name = a.name.unwrap_or_else(joren_app::jobs::worker_name);
    if a.until_idle {
        let mut total = joren_app::jobs::WorkPass::default();
        let mut auto = joren_app::scenarios::AutomationPass::default();
        loop {
            let pass = app.work_once(&name, 100).await?;
            total.scheduled += pass.scheduled;
            total.done += pass.done;
            total.failed += pass.failed;
            total.fenced += pass.fenced;
            let a = app.automate_once().await?;
            auto.events += a.events;
            auto.enrolled += a.enrolled;
            auto.steps += a.steps;
            auto.messages += a.messages;
            if pass.done + pass.failed + pass.fenced == 0 && a.events + a.steps + a.messages == 0 {
                break;
            }
        }
        let mut out = serde_json::to_value(total)?;
        out["automation"] = serde_json::to_value(auto)?;
        println!("{out}");
        return Ok(());
    }
    eprintln!("worker {name} running (Ctrl+C to stop)");
    joren_app::jobs::run_worker(app, name, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

async fn demo(g: &Global, a: DemoArgs) -> Result<()> {
    let url = a.demo_database_url.clone();
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{path}{suffix}");
            if std::path::Path::new(&p).exists() {
                std::fs::remove_file(&p).with_context(|| format!("removing old demo database {p}"))?;
            }
        }
    }
    // The demo shop's customers are made up: its mail never leaves the machine.
    let mut cfg = config(g, false)?;
    cfg.mail.transport = joren_app::mail::Transport::Test;
    let app = open(&url, cfg).await?;
    let pb = ProgressBar::new_spinner();
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    let started = std::time::Instant::now();
    let summary =
        app.generate_demo(a.seed, a.customers, &mut |step| pb.set_message(format!("デモの店を作成中: {step}"))).await?;
    pb.finish_and_clear();
    eprintln!(
        "デモの店を作成しました ({:.1}s): 顧客 {} 人 + 法人 {} 社, 注文 {} 件, 対応履歴 {} 件 (返金 {}, キャンセル {})",
        started.elapsed().as_secs_f64(),
        summary.customers,
        summary.accounts,
        summary.orders,
        summary.interactions,
        summary.refunds,
        summary.cancellations
    );
    eprintln!(
        "  ロイヤルティ: ランク対象 {} 人, 回数券 {} 枚, 定期便会員 {} 人 (ポイント・ランク → /points)",
        summary.ranked, summary.tickets, summary.memberships
    );
    eprintln!(
        "  フォロー自動化 (テストモード・送信しません): シナリオ 3 本, 進行 {} 人, メール {} 通 (→ /scenarios, /tasks)",
        summary.scenario_runs, summary.messages
    );
    if a.no_serve {
        return Ok(());
    }
    let (user, password, _, _) = joren_app::demo::DEMO_USERS[0];
    let banner = format!(
        "\n  Joren デモ: {{url}}\n  ログイン / login: {user} / {password}   (スタッフ: tanaka, 閲覧: viewer — 同じパスワード)\n  データベース: {url}\n  Ctrl+C で終了\n"
    );
    serve(app, a.addr, Some(banner)).await
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

async fn import(g: &Global, a: ImportArgs, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    let file = std::fs::File::open(&a.file).with_context(|| format!("opening {}", a.file.display()))?;
    let len = file.metadata()?.len();
    let read = Arc::new(AtomicU64::new(0));
    let input = Counting { inner: std::io::BufReader::with_capacity(1 << 20, file), read: read.clone() };
    let mut options = ImportOptions::new(match a.kind {
        Kind::Customers => ImportKind::Customers,
        Kind::Orders => ImportKind::Orders,
    });
    options.preset = a.preset.map(|p| match p {
        Preset::Generic => "generic".to_string(),
        Preset::Shopify => "shopify".to_string(),
    });
    options.source_system = a.system.clone();
    options.batch_size = a.batch_size.max(1);
    for m in &a.map {
        let (f, h) = m.split_once('=').with_context(|| format!("--map must be FIELD=HEADER, got {m}"))?;
        options.overrides.push((f.trim().to_string(), h.trim().to_string()));
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let report = app
        .import_csv(actor, input, &options, &mut |rows| {
            pb.set_position(read.load(Ordering::Relaxed));
            pb.set_message(format!("{rows} 行"));
        })
        .await?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("文字コード / encoding: {}   形式 / preset: {}", report.encoding, report.preset);
    if report.mixed_encoding {
        println!(
            "注意: 別の文字コードの行が混ざっています (その行はエラー行へ) / warning: the file mixes encodings (those lines are rejected)"
        );
    }
    println!(
        "列の対応 / mapping: {}",
        report.mapping.iter().map(|(f, h)| format!("{f}←{h}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "読込 {} 行 / rows read; 新規 {} created; 更新 {} updated; 変更なし {} unchanged; 取込済み {} already imported; 注文から作成した顧客 {} customers created; エラー {} rejected ({secs:.1}s)",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.skipped_existing,
        report.customers_created,
        report.rejected.len()
    );
    if !report.rejected.is_empty() {
        for r in report.rejected.iter().take(20) {
            println!("  {} 行目 / line {}: {}", r.line, r.line, r.reason);
        }
        if report.rejected.len() > 20 {
            println!("  … {} more", report.rejected.len() - 20);
        }
        let path = a.rejects.clone().unwrap_or_else(|| {
            let mut p = a.file.clone().into_os_string();
            p.push(".rejects.csv");
            PathBuf::from(p)
        });
        let f = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        joren_app::import::write_rejects(std::io::BufWriter::new(f), &report.headers, &report.rejected)?;
        println!("エラー行を書き出しました / rejected rows written to {}", path.display());
    }
    Ok(())
}

fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_line(&mut s).context("reading password from standard input")?;
    let p = s.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("empty password on standard input");
    }
    Ok(p)
}

async fn user(g: &Global, c: UserCommand, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        UserCommand::Create { username, role, display_name, password_stdin, generate_password } => {
            let password = if password_stdin {
                read_password_stdin()?
            } else if generate_password {
                joren_app::auth::random_token()[..20].to_string()
            } else {
                bail!("give --password-stdin (read from standard input) or --generate-password (printed once)");
            };
            let id = app.create_user(actor, &username, &display_name, role.into(), &password).await?;
            println!("created user {username} (id {id}, role {})", Role::from(role).as_str());
            if generate_password {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            for u in app.list_users(actor).await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.id,
                    u.username,
                    u.role.as_str(),
                    u.display_name,
                    if u.disabled { "\t(disabled)" } else { "" }
                );
            }
        }
        UserCommand::SetRole { username, role } => {
            app.update_user(actor, &username, Some(role.into()), None, None).await?;
            println!("{username} is now {}", Role::from(role).as_str());
        }
        UserCommand::Passwd { username } => {
            let p = read_password_stdin()?;
            app.update_user(actor, &username, None, Some(&p), None).await?;
            println!("password of {username} changed");
        }
        UserCommand::Disable { username } => {
            app.update_user(actor, &username, None, None, Some(true)).await?;
            println!("{username} disabled");
        }
        UserCommand::Enable { username } => {
            app.update_user(actor, &username, None, None, Some(false)).await?;
            println!("{username} enabled");
        }
    }
    Ok(())
}

async fn points(g: &Global, c: PointsCommand, actor: &Actor) -> Result<()> {
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

async fn ranks(g: &Global, c: RanksCommand, actor: &Actor) -> Result<()> {
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

async fn tickets(g: &Global, c: TicketsCommand, actor: &Actor) -> Result<()> {
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

async fn memberships(g: &Global, c: MembershipsCommand, actor: &Actor) -> Result<()> {
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

async fn perks(g: &Global, c: PerksCommand, actor: &Actor) -> Result<()> {
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

async fn token(g: &Global, c: TokenCommand, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        TokenCommand::Create { user, name } => {
            let (secret, id) = app.create_api_token(actor, &user, &name).await?;
            eprintln!("token {id} for {user} created; it is shown only once:");
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in app.list_api_tokens(actor).await? {
                println!(
                    "{}\tuser {}\t{}\tcreated {}\tlast used {}{}",
                    t.id,
                    t.user_id,
                    t.name,
                    app.local_time(t.created_at),
                    t.last_used_at.map(|d| app.local_time(d)).unwrap_or_else(|| "never".into()),
                    if t.revoked { "\t(revoked)" } else { "" }
                );
            }
        }
        TokenCommand::Revoke { id } => {
            app.revoke_api_token(actor, id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
