//! The load generators' common part: CONCURRENCY workers sending requests until a deadline,
//! each request timed from send to answer, and the figures printed on one line.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a run got: the answered requests' latencies, the others, and how long it took.
pub struct Load {
    answered: Vec<Duration>,
    errors: u64,
    elapsed: f64,
    concurrency: u64,
}

/// Runs `concurrency` workers until `deadline`. `request(worker, n, random)` makes a worker's
/// `n`th request (`random`: a fresh pseudo-random number, the same sequence each run) with the
/// status that counts as answered; anything else, or no answer, is an error.
/// The load generator's HTTP client: `concurrency` connections kept (the TLS provider
/// installed first, as every client in the workspace needs).
pub fn client(concurrency: u64) -> reqwest::Client {
    joren_app::install_tls();
    reqwest::Client::builder().pool_max_idle_per_host(concurrency as usize).build().expect("HTTP client")
}

pub async fn run<F>(concurrency: u64, deadline: Instant, request: F) -> Load
where
    F: Fn(u64, u64, u64) -> (reqwest::RequestBuilder, u16) + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut answered = Vec::new();
                let mut errors = 0u64;
                let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (w + 1);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let (req, expected) = request(w, n, state);
                    n += 1;
                    let sent = Instant::now();
                    let ok = req.send().await.map(|r| r.status().as_u16() == expected).unwrap_or(false);
                    if ok {
                        answered.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (answered, errors)
            })
        })
        .collect();
    let mut load = Load { answered: Vec::new(), errors: 0, elapsed: 0.0, concurrency };
    for w in workers {
        let (a, e) = w.await.expect("a load worker panicked");
        load.answered.extend(a);
        load.errors += e;
    }
    load.elapsed = started.elapsed().as_secs_f64();
    load
}

impl Load {
    /// Seconds the run took. (Each example compiles this file; not every one reads it.)
    #[allow(dead_code)]
    pub fn elapsed(&self) -> f64 {
        self.elapsed
    }

    /// Prints e.g. `23419 orders in 15.0s = 1560 orders/s with 16 connections; errors 0;
    /// latency p50 8.8 ms, p95 20.2 ms, p99 27.4 ms, max 44.9 ms`: `noun` counts the answered
    /// requests, `unit` names the rate.
    pub fn report(mut self, noun: &str, unit: &str) {
        self.answered.sort();
        let (all, n, elapsed, errors, concurrency) =
            (&self.answered, self.answered.len(), self.elapsed, self.errors, self.concurrency);
        let pct = |p: f64| all.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied();
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
        println!(
            "{n} {noun} in {elapsed:.1}s = {:.0} {unit}/s with {concurrency} connections; errors {errors}; \
             latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            n as f64 / elapsed,
            ms(pct(0.50)),
            ms(pct(0.95)),
            ms(pct(0.99)),
            ms(all.last().copied())
        );
    }
}
