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
    rfm::score_quintiles(&log, &mut r);
    let count = |code: (u8, u8, u8)| (0..r.r.len()).filter(|&c| (r.r[c], r.f[c], r.m[c]) == code).count();
    assert_eq!(count((5, 5, 5)), 8_417);
    assert_eq!(count((1, 1, 1)), 7_307);
}
