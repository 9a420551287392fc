//! `joren`: the one binary. `serve` runs the web app and API, `demo` starts a seeded demo
//! shop, `import`/`export` move CSV in and out, `migrate` updates the schema, `user` and
//! `token` manage access, `analyze` runs the analytics engine on a transactions CSV.

mod access;
mod analyze;
mod automation;
mod channels;
mod data;
mod loyalty;
mod voice;

use access::*;
use data::*;
use loyalty::*;

/// mimalloc: the import hands millions of small allocations from the parsing thread to the
/// database thread, where glibc's allocator spends much of its time on cross-thread frees.
/// Built without transparent huge pages (`no_thp`; `MIMALLOC_ALLOW_THP=1` turns them back on):
/// their first touch stalled `joren analyze` on a busy machine (0.5–0.7 s of system time in a
/// 0.6 s run) and kept 40 MB more resident.
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
    /// Up to this many orders the dashboard's period figures are computed from the live order
    /// log on each view; above it, by the nightly analysis and kept with it (reading millions
    /// of orders per view would take seconds).
    #[arg(long, env = "JOREN_LIVE_DASHBOARD_ORDERS", default_value_t = joren_app::activity::LIVE_ORDER_LIMIT, global = true)]
    live_dashboard_orders: i64,
    #[command(flatten)]
    mail: automation::MailArgs,
    /// The LINE Official Account's channel secret (LINE Developers console → Basic settings):
    /// LINE's webhook calls to `/webhooks/line` are verified with it. Without it that address
    /// answers 404.
    #[arg(long, env = "JOREN_LINE_CHANNEL_SECRET", global = true, hide_env_values = true)]
    line_channel_secret: Option<String>,
    /// The LINE channel access token (LINE Developers console → Messaging API, long-lived):
    /// scenario steps and staff replies are pushed with it. Without it LINE messages are kept
    /// in the outbox as sent in test mode and nothing leaves the machine.
    #[arg(long, env = "JOREN_LINE_CHANNEL_TOKEN", global = true, hide_env_values = true)]
    line_channel_token: Option<String>,
    /// Where the LINE Messaging API is reached (a stand-in server for tests).
    #[arg(long, env = "JOREN_LINE_API_URL", global = true, default_value = joren_app::line::DEFAULT_API_URL)]
    line_api_url: String,
    #[command(flatten)]
    sms: channels::SmsArgs,
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
    /// Email: a test mail through the configured SMTP server, the mail settings, saved messages.
    #[command(subcommand)]
    Mail(automation::MailCommand),
    /// Follow-up scenarios: list, show, activate, pause, enrol a customer or a saved segment.
    #[command(subcommand)]
    Scenarios(automation::ScenariosCommand),
    /// The inbox (受信箱): conversations listed, shown, answered, assigned, closed.
    #[command(subcommand)]
    Inbox(channels::InboxCommand),
    /// LINE: link a user to a customer, a link code, friends not linked yet, send a message.
    #[command(subcommand)]
    Line(channels::LineCommand),
    /// Outbound webhooks: subscriptions, a test delivery, the delivery log, send again.
    #[command(subcommand)]
    Webhooks(channels::WebhooksCommand),
    /// The channels as started: LINE, SMS, mail replies, and the webhook addresses to give.
    #[command(subcommand)]
    Channels(channels::ChannelsCommand),
    /// SMS: send a customer a text, or see what a text would cost over a segment.
    #[command(subcommand)]
    Sms(channels::SmsCommand),
    /// Surveys (CSAT, NPS, CES): list, make, send to a customer, results, answers.
    #[command(subcommand)]
    Surveys(voice::SurveysCommand),
    /// The referral programme (紹介): referrals, a customer's code and link, record one, the
    /// report, the settings.
    #[command(subcommand)]
    Referrals(voice::ReferralsCommand),
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

fn config(g: &Global, secure_cookies: bool) -> Result<AppConfig> {
    let time_zone = g.time_zone.parse().map_err(|_| anyhow::anyhow!("unknown time zone {}", g.time_zone))?;
    let order_dates = joren_core::order::DateBounds { earliest: g.earliest_order_date, ..Default::default() };
    let mail = g.mail.config()?;
    Ok(AppConfig {
        time_zone,
        secure_cookies,
        background_jobs: true,
        order_dates,
        clock: Default::default(),
        mail,
        mail_test_only: false,
        line_channel_secret: g.line_channel_secret.clone(),
        line_channel_token: g.line_channel_token.clone(),
        line_api_url: g.line_api_url.trim_end_matches('/').to_string(),
        sms: g.sms.config()?,
        imap: g.mail.imap()?,
        live_dashboard_orders: g.live_dashboard_orders,
    })
}

async fn open(url: &str, config: AppConfig) -> Result<App> {
    App::open(url, config).await.with_context(|| format!("opening database {url}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", worded(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error for the person at the terminal: an application error (with its code) worded in
/// Japanese and English by the web layer's words, each invalid field named as the input names
/// it, after any context the command added.
fn worded(e: &anyhow::Error) -> String {
    use joren_web::i18n::{Lang, errors::app_error};
    let Some(app) = e.chain().find_map(|c| c.downcast_ref::<joren_app::AppError>()) else { return format!("{e:#}") };
    let text = match app {
        joren_app::AppError::Validation(errors) => field_lines(&errors.0),
        other => format!("{} / {}", app_error(other, Lang::Ja), app_error(other, Lang::En)),
    };
    match e.downcast_ref::<joren_app::AppError>() {
        Some(_) => text,
        None => format!("{e}: {text}"),
    }
}

/// Field errors as `field: 日本語 / English`, joined by `; ` (the CLI names fields as the JSON
/// and CSV it reads do).
pub(crate) fn field_lines(errors: &[joren_core::FieldError]) -> String {
    use joren_web::i18n::{Lang, errors::field_error};
    errors
        .iter()
        .map(|f| {
            let (ja, en) = (field_error(f, Lang::Ja), field_error(f, Lang::En));
            if f.field.is_empty() { format!("{ja} / {en}") } else { format!("{}: {ja} / {en}", f.field) }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn run() -> Result<()> {
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
        Command::Export(a) => export(&cli.global, a, &system).await,
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
        Command::Inbox(c) => {
            channels::inbox(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Line(c) => {
            channels::line(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Channels(c) => {
            channels::channels(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Sms(c) => {
            channels::sms(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Webhooks(c) => {
            channels::webhooks(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Surveys(c) => {
            voice::surveys(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
        }
        Command::Referrals(c) => {
            voice::referrals(open(&cli.global.database_url, config(&cli.global, false)?).await?, c, &system).await
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
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let other = SocketAddr::new(addr.ip(), addr.port().wrapping_add(1).max(1024));
            anyhow::bail!(
                "ポート {port} は別のプログラムが使用中です。--addr で別のポートを指定してください (例: --addr {other}) / \
                 port {port} is already in use by another program; choose another with --addr (e.g. --addr {other})",
                port = addr.port()
            );
        }
        Err(e) => return Err(e).with_context(|| format!("binding {addr}")),
    };
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
    cfg.mail_test_only = true;
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
    eprintln!("  受信箱: LINE の会話 {} 件 (テストモード・送信しません → /inbox)", summary.conversations);
    eprintln!("  アンケート: 回答 {} 件 (NPS・満足度・退会理由 → /surveys)", summary.survey_answers);
    eprintln!("  紹介: {} 件 (付与済み・取り消し・購入待ち → /referrals)", summary.referrals);
    eprintln!("  クレーム: {} 件 (手順の途中・期限超過・完了 → /cases, /checklist)", summary.cases);
    // A ready API token for the demo's owner: the demo has its own database, so a token made
    // with `joren token create` against the default one would not open it.
    let (user, password, _, _) = joren_app::demo::DEMO_USERS[0];
    let (token, _) = app.create_api_token(&joren_app::Actor::system("demo"), user, "demo").await?;
    eprintln!("  API トークン / API token ({user}): {token}");
    eprintln!("    例 / e.g.: curl -H \"Authorization: Bearer {token}\" http://{}/api/v1/customers", a.addr);
    if a.no_serve {
        return Ok(());
    }
    let banner = format!(
        "\n  Joren デモ: {{url}}\n  ログイン / login: {user} / {password}   (スタッフ: tanaka, 閲覧: viewer — 同じパスワード)\n  データベース: {url}\n  Ctrl+C で終了\n"
    );
    serve(app, a.addr, Some(banner)).await
}
