//! `joren import` and `joren export`: CSV in (with a progress bar and a reject file) and out.

use super::*;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    Customers,
    Orders,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Preset {
    /// Detect columns from Japanese/English header names.
    Generic,
    /// Shopify's orders export (Admin → Orders → Export).
    Shopify,
}

#[derive(Args)]
pub(crate) struct ImportArgs {
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
pub(crate) struct ExportArgs {
    kind: Kind,
    /// Output file (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Column headers and coded values: ja (Japanese words, read back by `joren import`), en,
    /// or codes (field codes, for other programs).
    #[arg(long, default_value = "ja", value_parser = ["ja", "en", "codes"])]
    headers: String,
}

/// Counts bytes read, for the progress bar.
pub(crate) struct Counting<R> {
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

pub(crate) async fn import(g: &Global, a: ImportArgs, actor: &Actor) -> Result<()> {
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
    if !report.notes.is_empty() {
        println!("直して取り込んだ行 / rows imported with changes: {}", report.notes.len());
        for n in report.notes.iter().take(20) {
            if !n.changed.is_empty() {
                println!("  {} 行目 / line {}: {}", n.line, n.line, crate::field_lines(&n.changed));
            }
            if !n.dropped.is_empty() {
                println!(
                    "  {} 行目 / line {} 取り込まず / left out: {}",
                    n.line,
                    n.line,
                    crate::field_lines(&n.dropped)
                );
            }
        }
        if report.notes.len() > 20 {
            println!("  … {} more", report.notes.len() - 20);
        }
    }
    if !report.rejected.is_empty() {
        for r in report.rejected.iter().take(20) {
            println!("  {} 行目 / line {}: {}", r.line, r.line, crate::field_lines(&r.reasons));
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
        joren_app::import::write_rejects(
            std::io::BufWriter::new(f),
            ["行 / line", "理由 / reason"],
            &report.headers,
            &report.rejected,
            crate::field_lines,
        )?;
        println!("エラー行を書き出しました / rejected rows written to {}", path.display());
    }
    Ok(())
}

pub(crate) async fn export(g: &Global, a: ExportArgs, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let words = joren_web::i18n::export::for_request(Some(&a.headers), joren_web::i18n::Lang::Ja);
    let n = match a.kind {
        Kind::Customers => app.export_customers(actor, out, words.as_ref()).await?,
        Kind::Orders => app.export_orders(actor, out, words.as_ref()).await?,
    };
    eprintln!("{n} 件を出力しました / exported {n} records");
    Ok(())
}
