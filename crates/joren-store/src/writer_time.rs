//! How long each kind of work holds SQLite's one writer, for finding what slows ingest: with
//! `JOREN_LOG=joren_store::writer_time=debug` every 10 s a line sums, per label, the writer turns
//! taken, the time held (from the turn to its release or commit) and the longest turn; the
//! group commits are counted apart (`commit`). A task labels its work with [`labelled`]; work
//! without a label (requests) counts as `request`. Off, it costs one `tracing::enabled!` check
//! per turn.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

tokio::task_local! {
    static LABEL: &'static str;
}

/// Runs `work` with its writer turns counted under `label` (e.g. the scenario engine's phases).
pub async fn labelled<F: std::future::Future>(label: &'static str, work: F) -> F::Output {
    LABEL.scope(label, work).await
}

/// When a writer turn began and whose it is; `None` while the log is off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turn {
    label: &'static str,
    start: Instant,
}

impl Turn {
    pub(crate) fn begin() -> Option<Self> {
        tracing::enabled!(target: "joren_store::writer_time", tracing::Level::DEBUG)
            .then(|| Turn { label: LABEL.try_with(|l| *l).unwrap_or("request"), start: Instant::now() })
    }

    /// A group commit that started now.
    pub(crate) fn commit() -> Option<Self> {
        Self::begin().map(|t| Turn { label: "commit", ..t })
    }

    /// Records the turn as ended now.
    pub(crate) fn end(self) {
        let held = self.start.elapsed();
        let mut sums = SUMS.lock().unwrap_or_else(|e| e.into_inner());
        let (since, by_label) = sums.get_or_insert_with(|| (Instant::now(), BTreeMap::new()));
        let s = by_label.entry(self.label).or_default();
        s.turns += 1;
        s.held += held;
        s.longest = s.longest.max(held);
        if since.elapsed() >= PERIOD {
            let line: Vec<String> = by_label
                .iter()
                .map(|(label, s)| {
                    format!(
                        "{label}: {} turns {:.3} s (longest {:.1} ms)",
                        s.turns,
                        s.held.as_secs_f64(),
                        s.longest.as_secs_f64() * 1e3
                    )
                })
                .collect();
            tracing::debug!(target: "joren_store::writer_time", seconds = since.elapsed().as_secs_f64(), "{}", line.join("; "));
            *sums = None;
        }
    }
}

const PERIOD: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Sum {
    turns: u64,
    held: Duration,
    longest: Duration,
}

static SUMS: Mutex<Option<(Instant, BTreeMap<&'static str, Sum>)>> = Mutex::new(None);
