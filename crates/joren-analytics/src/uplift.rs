//! Uplift of a scenario against its holdout: the treated and the control group compared on
//! the repeat-purchase rate, orders per customer and revenue per customer over a window after
//! entry, each with the difference, a 95 % confidence interval (normal approximation: the
//! two-proportion interval for the rate, Welch's for the means) and the group sizes — and an
//! honest "too small to tell" when either group is under [`MIN_GROUP`] or the interval spans
//! zero.

use serde::Serialize;

/// Fewer customers than this in either group: too small to tell.
pub const MIN_GROUP: usize = 30;
/// The two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// One customer's outcome in the window after entering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub control: bool,
    pub orders: u32,
    /// Revenue in minor units (yen).
    pub revenue: i64,
}

/// One measure compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub treated: f64,
    pub control: f64,
    /// treated − control.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Whether the interval excludes zero.
    pub significant: bool,
}

/// What the report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A group has fewer than [`MIN_GROUP`] customers.
    TooSmall,
    /// The repeat-rate interval lies above zero.
    Helps,
    /// The repeat-rate interval lies below zero.
    Hurts,
    /// The interval spans zero: no difference shown yet.
    NoClearDifference,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uplift {
    pub treated_n: usize,
    pub control_n: usize,
    pub repeat_rate: Comparison,
    pub orders_per_customer: Comparison,
    pub revenue_per_customer: Comparison,
    pub verdict: Verdict,
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let m = xs.iter().sum::<f64>() / n;
    let v = if xs.len() > 1 { xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, v)
}

fn compare(treated: &[f64], control: &[f64], proportion: bool) -> Comparison {
    let (mt, vt) = mean_var(treated);
    let (mc, vc) = mean_var(control);
    let (nt, nc) = (treated.len().max(1) as f64, control.len().max(1) as f64);
    let se = if proportion { (mt * (1.0 - mt) / nt + mc * (1.0 - mc) / nc).sqrt() } else { (vt / nt + vc / nc).sqrt() };
    let d = mt - mc;
    let (lo, hi) = (d - Z95 * se, d + Z95 * se);
    Comparison { treated: mt, control: mc, difference: d, ci_low: lo, ci_high: hi, significant: lo > 0.0 || hi < 0.0 }
}

/// Compares the treated and control customers' outcomes.
pub fn uplift(outcomes: &[Outcome]) -> Uplift {
    let pick = |control: bool, f: &dyn Fn(&Outcome) -> f64| -> Vec<f64> {
        outcomes.iter().filter(|o| o.control == control).map(f).collect()
    };
    let repeat = |o: &Outcome| if o.orders > 0 { 1.0 } else { 0.0 };
    let orders = |o: &Outcome| f64::from(o.orders);
    let revenue = |o: &Outcome| o.revenue as f64;
    let treated_n = outcomes.iter().filter(|o| !o.control).count();
    let control_n = outcomes.len() - treated_n;
    let repeat_rate = compare(&pick(false, &repeat), &pick(true, &repeat), true);
    let verdict = if treated_n < MIN_GROUP || control_n < MIN_GROUP {
        Verdict::TooSmall
    } else if repeat_rate.ci_low > 0.0 {
        Verdict::Helps
    } else if repeat_rate.ci_high < 0.0 {
        Verdict::Hurts
    } else {
        Verdict::NoClearDifference
    };
    Uplift {
        treated_n,
        control_n,
        repeat_rate,
        orders_per_customer: compare(&pick(false, &orders), &pick(true, &orders), false),
        revenue_per_customer: compare(&pick(false, &revenue), &pick(true, &revenue), false),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic shop with a known effect: the treated come back with probability 0.30,
    /// the control with 0.20 (a +10 point uplift), each return one order of ¥3,000.
    fn synthetic(n: usize, seed: u64) -> Vec<Outcome> {
        with_rates(n, seed, 0.30, 0.20)
    }

    fn with_rates(n: usize, seed: u64, treated: f64, control_rate: f64) -> Vec<Outcome> {
        let mut state = seed;
        let mut next = || {
            // SplitMix64: deterministic, no dependency.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|i| {
                let control = i % 10 < 3;
                let p = if control { control_rate } else { treated };
                let back = next() < p;
                Outcome { control, orders: u32::from(back), revenue: if back { 3_000 } else { 0 } }
            })
            .collect()
    }

    #[test]
    fn a_known_effect_is_found_inside_its_interval() {
        let u = uplift(&synthetic(20_000, 7));
        assert_eq!((u.treated_n, u.control_n), (14_000, 6_000));
        let r = u.repeat_rate;
        assert!(r.ci_low < 0.10 && 0.10 < r.ci_high, "the true +0.10 lies in [{}, {}]", r.ci_low, r.ci_high);
        assert!((r.difference - 0.10).abs() < 0.02, "{}", r.difference);
        assert_eq!(u.verdict, Verdict::Helps);
        // Revenue per customer: +¥300 (0.10 × ¥3,000).
        let m = u.revenue_per_customer;
        assert!(m.ci_low < 300.0 && 300.0 < m.ci_high, "[{}, {}]", m.ci_low, m.ci_high);
    }

    #[test]
    fn the_interval_covers_the_truth_about_95_percent_of_the_time() {
        let covered = (0..400).filter(|s| {
            let r = uplift(&synthetic(2_000, 1_000 + s)).repeat_rate;
            r.ci_low <= 0.10 && 0.10 <= r.ci_high
        });
        let rate = covered.count() as f64 / 400.0;
        assert!((0.92..=0.98).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn small_groups_are_called_too_small() {
        let u = uplift(&synthetic(60, 3));
        assert_eq!(u.control_n, 18);
        assert_eq!(u.verdict, Verdict::TooSmall);
        // No effect at all reads "no clear difference", however large the groups.
        let flat = with_rates(20_000, 9, 0.25, 0.25);
        assert_eq!(uplift(&flat).verdict, Verdict::NoClearDifference);
    }
}
