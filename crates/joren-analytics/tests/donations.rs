//! BG/BB on the donations data of Fader, Hardie & Shang (2010, table 1): 11,104 first-time
//! supporters of 1995, six yearly repeat opportunities (1996–2001), counted by (x, t_x).
//! The paper's maximum-likelihood estimates are α 1.204, β 0.750, γ 0.657, δ 2.783.

use joren_analytics::bgbb::{self, Histories};

const TABLE: [(u32, u32, f64); 22] = [
    (0, 0, 3464.0),
    (1, 1, 1091.0),
    (1, 2, 277.0),
    (1, 3, 129.0),
    (1, 4, 78.0),
    (1, 5, 119.0),
    (1, 6, 129.0),
    (2, 2, 613.0),
    (2, 3, 255.0),
    (2, 4, 155.0),
    (2, 5, 173.0),
    (2, 6, 234.0),
    (3, 3, 322.0),
    (3, 4, 181.0),
    (3, 5, 225.0),
    (3, 6, 357.0),
    (4, 4, 240.0),
    (4, 5, 284.0),
    (4, 6, 512.0),
    (5, 5, 335.0),
    (5, 6, 728.0),
    (6, 6, 1203.0),
];

fn donations() -> Histories {
    let mut h = Histories::default();
    for (x, t_x, count) in TABLE {
        h.push(x, t_x, 6, count);
    }
    h
}

#[test]
fn fit_reproduces_the_published_estimates() {
    let h = donations();
    assert_eq!(h.customers(), 11104.0);
    let fit = bgbb::fit(&h).unwrap();
    let p = fit.params;
    for (got, want, name) in
        [(p.alpha, 1.204, "alpha"), (p.beta, 0.750, "beta"), (p.gamma, 0.657, "gamma"), (p.delta, 2.783, "delta")]
    {
        assert!((got - want).abs() < 0.0015, "{name}: {got} vs published {want}");
    }
    assert!((fit.log_likelihood - -33225.6).abs() < 0.1, "LL {}", fit.log_likelihood);
    assert!(fit.standard_errors.unwrap().iter().all(|v| v.is_finite() && *v > 0.0));
}

#[test]
fn forecasts_rank_customers_by_their_history() {
    let p = bgbb::Params { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };
    // Six donations in six years: almost surely still a supporter; one early donation then
    // five silent years: probably gone.
    let loyal = bgbb::p_alive(&p, 6, 6, 6);
    let lapsed = bgbb::p_alive(&p, 1, 1, 6);
    assert!(loyal > 0.9 && lapsed < 0.2, "{loyal} {lapsed}");
    let e_loyal = bgbb::conditional_expected_purchases(&p, 6, 6, 6, 5).unwrap();
    let e_lapsed = bgbb::conditional_expected_purchases(&p, 1, 1, 6, 5).unwrap();
    assert!(e_loyal > 2.0 && e_lapsed < 0.5 && e_lapsed > 0.0, "{e_loyal} {e_lapsed}");
    assert!(e_loyal < 5.0, "at most one donation per opportunity");
    // Expected purchases over the next opportunities cannot exceed P(alive) × opportunities.
    assert!(bgbb::conditional_expected_purchases(&p, 3, 5, 6, 1).unwrap() <= bgbb::p_alive(&p, 3, 5, 6));
}
