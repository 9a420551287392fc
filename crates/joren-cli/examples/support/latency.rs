//! What the load generators print: how many requests got their answer in how long, the rate,
//! errors and latency percentiles, on one line.

use std::time::Duration;

/// Prints e.g. `23419 orders in 15.0s = 1560 orders/s with 16 connections; errors 0; latency
/// p50 8.8 ms, p95 20.2 ms, p99 27.4 ms, max 44.9 ms`: `noun` counts the answered requests,
/// `unit` names the rate.
pub fn report(noun: &str, unit: &str, mut answered: Vec<Duration>, errors: u64, elapsed: f64, concurrency: u64) {
    answered.sort();
    let n = answered.len();
    let pct = |p: f64| answered.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied();
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    println!(
        "{n} {noun} in {elapsed:.1}s = {:.0} {unit}/s with {concurrency} connections; errors {errors}; \
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        n as f64 / elapsed,
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(pct(0.99)),
        ms(answered.last().copied())
    );
}
