//! The RFM and summary checksums of `shared/bench/README.md`, reproduced exactly on the
//! synthetic 100k-customer file from `shared/bench/gen_synthetic.py` (path in
//! `JOREN_SYNTH_100K`; `.ci/run` generates it; without it the test says so, except under CI).

use joren_analytics::log::days_from_civil;
use joren_analytics::summary::summarize;
use joren_analytics::{TimeUnit, TransactionLogBuilder, rfm};

#[test]
fn rfm_and_summary_checksums_match_the_baselines() {
    let Ok(path) = std::env::var("JOREN_SYNTH_100K") else {
        if std::env::var("CI").is_ok() {
            panic!("CI is set but JOREN_SYNTH_100K is not: .ci/run must generate the synthetic file");
        }
        eprintln!("NOTE: JOREN_SYNTH_100K not set — synthetic checksum test NOT run");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut b = TransactionLogBuilder::new(2);
    for chunk in bytes.chunks(1 << 20) {
        b.feed(chunk).unwrap();
    }
    let log = b.finish().unwrap();
    let end = days_from_civil(2024, 12, 31);
    let s = summarize(&log, end, TimeUnit::Day);
    assert_eq!(s.frequency.iter().map(|&x| u64::from(x)).sum::<u64>(), 829_754);
    assert_eq!(s.recency.iter().sum::<f64>() as u64, 29_767_385);
    assert_eq!(s.age.iter().sum::<f64>() as u64, 54_861_162);
    let mut r = rfm::values(&log, end);
    rfm::score_quintiles(&log.customer_ids, &mut r);
    let count = |code: (u8, u8, u8)| (0..r.r.len()).filter(|&c| (r.r[c], r.f[c], r.m[c]) == code).count();
    assert_eq!(count((5, 5, 5)), 8_417);
    assert_eq!(count((1, 1, 1)), 7_307);
}

/// Parameter recovery: the file is drawn from BG/NBD r 0.8, α 4.0 (weeks), a 0.6, b 6.0 and
/// Gamma-Gamma p 6.25, q 3.74, γ 15.44 (`gen_synthetic.py` defaults). The fits land near the
/// truth and on the optimum `lifetimes` finds for the same file (its BG/NBD in days r 0.81516,
/// α 29.8741, a 0.58921, b 5.79733; Gamma-Gamma p 5.75284, q 3.73331, γ 17.1121).
#[test]
fn fits_recover_the_generating_parameters() {
    use joren_analytics::{bgnbd, gamma_gamma};
    let Ok(path) = std::env::var("JOREN_SYNTH_100K") else {
        if std::env::var("CI").is_ok() {
            panic!("CI is set but JOREN_SYNTH_100K is not: .ci/run must generate the synthetic file");
        }
        eprintln!("NOTE: JOREN_SYNTH_100K not set — parameter recovery test NOT run");
        return;
    };
    let mut b = TransactionLogBuilder::new(2);
    b.feed(&std::fs::read(&path).unwrap()).unwrap();
    let log = b.finish().unwrap();
    let end = days_from_civil(2024, 12, 31);
    let rel = |got: f64, want: f64| ((got - want) / want).abs();

    let weeks = bgnbd::fit(&summarize(&log, end, TimeUnit::Week)).unwrap().params;
    for (got, truth, name) in
        [(weeks.r, 0.8, "r"), (weeks.alpha, 4.0, "alpha"), (weeks.a, 0.6, "a"), (weeks.b, 6.0, "b")]
    {
        assert!(rel(got, truth) < 0.1, "{name}: {got} vs true {truth}");
    }
    let days = summarize(&log, end, TimeUnit::Day);
    let bg = bgnbd::fit(&days).unwrap().params;
    for (got, want, name) in
        [(bg.r, 0.81516, "r"), (bg.alpha, 29.8741, "alpha"), (bg.a, 0.58921, "a"), (bg.b, 5.79733, "b")]
    {
        assert!(rel(got, want) < 1e-4, "{name}: {got} vs lifetimes {want}");
    }
    let gg = gamma_gamma::fit(&days).unwrap().params;
    for (got, want, name) in [(gg.p, 5.75284, "p"), (gg.q, 3.73331, "q"), (gg.gamma, 17.1121, "gamma")] {
        assert!(rel(got, want) < 1e-4, "{name}: {got} vs lifetimes {want}");
    }
    // The population mean spend p γ / (q − 1) is what the CLV uses; it is recovered closely.
    let mean = |p: f64, q: f64, g: f64| p * g / (q - 1.0);
    assert!(rel(mean(gg.p, gg.q, gg.gamma), mean(6.25, 3.74, 15.44)) < 0.05);
}
