//! Golden tests on the CDNOW sample (Fader, Hardie & Lee 2005): the summary rebuilt from the raw
//! log, and the BG/NBD and Gamma-Gamma maximum-likelihood fits and per-customer values listed in
//! `shared/data/README.md`.

use joren_analytics::log::days_from_civil;
use joren_analytics::summary::{CustomerSummary, summarize};
use joren_analytics::{TimeUnit, TransactionLog, TransactionLogBuilder, bgnbd, gamma_gamma};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/../../../shared/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cdnow() -> (TransactionLog, CustomerSummary) {
    let mut b = TransactionLogBuilder::new(2);
    b.feed(&data("cdnow_sample_transactions.csv")).unwrap();
    let log = b.finish().unwrap();
    let s = summarize(&log, days_from_civil(1997, 9, 30), TimeUnit::Week);
    (log, s)
}

/// The published calibration summary as given (x, t_x, T in weeks and zbar, all to 2 dp): the
/// data the reference maximum-likelihood values were computed on.
fn published_summary() -> CustomerSummary {
    let text = String::from_utf8(data("cdnow_customers_summary_with_transactions.csv")).unwrap();
    let mut s = CustomerSummary { unit: TimeUnit::Week, ..Default::default() };
    for (i, line) in text.lines().skip(1).enumerate() {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        s.customer.push(i as u32);
        s.frequency.push(f[1] as u32);
        s.recency.push(f[2]);
        s.age.push(f[3]);
        s.monetary_value.push(f[4]);
        s.first_day.push(0);
        s.last_day.push(0);
    }
    s
}

fn rel(actual: f64, expected: f64, tol: f64, what: &str) {
    let e = ((actual - expected) / expected).abs();
    assert!(e <= tol, "{what}: {actual} vs {expected} (relative error {e:.2e} > {tol:.0e})");
}

#[test]
fn summary_rebuilt_from_raw_matches_the_published_summary() {
    let (log, s) = cdnow();
    assert_eq!(log.len(), 6919);
    assert_eq!(log.customers(), 2357);
    assert_eq!(s.len(), 2357);
    let text = String::from_utf8(data("cdnow_customers_summary_with_transactions.csv")).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let i = log.customer_ids.iter().position(|id| id == f[0]).unwrap();
        let j = s.customer.iter().position(|&c| c as usize == i).unwrap();
        assert_eq!(s.frequency[j].to_string(), f[1], "x of {}", f[0]);
        assert_eq!(format!("{:.2}", s.recency[j]), f[2], "t_x of {}", f[0]);
        assert_eq!(format!("{:.2}", s.age[j]), f[3], "T of {}", f[0]);
        assert!((s.monetary_value[j] - f[4].parse::<f64>().unwrap()).abs() <= 0.005 + 1e-9, "zbar of {}", f[0]);
        checked += 1;
    }
    assert_eq!(checked, 2357);
    assert_eq!(s.frequency.iter().filter(|&&x| x > 0).count(), 946, "946 repeaters");
}

#[test]
fn bgnbd_fit_and_per_customer_values_match_maximum_likelihood() {
    let (log, s) = cdnow();
    let fit = bgnbd::fit(&s).unwrap();
    let p = fit.params;
    rel(p.r, 0.2425929, 1e-4, "r");
    rel(p.alpha, 4.4135317, 1e-4, "alpha");
    rel(p.a, 0.7928861, 1e-4, "a");
    rel(p.b, 2.4257532, 1e-4, "b");
    rel(fit.log_likelihood, -9582.42556, 1e-4, "log-likelihood");
    // On the published (2 dp) summary the optimum is reproduced to the digits given.
    let published = bgnbd::fit(&published_summary()).unwrap();
    for (got, want, name) in [
        (published.params.r, 0.2425929, "r"),
        (published.params.alpha, 4.4135317, "alpha"),
        (published.params.a, 0.7928861, "a"),
        (published.params.b, 2.4257532, "b"),
    ] {
        rel(got, want, 2e-6, name);
    }
    rel(published.log_likelihood, -9582.42556, 1e-9, "log-likelihood on the published summary");
    let se = fit.standard_errors.expect("standard errors");
    assert!(se.iter().all(|v| v.is_finite() && *v > 0.0), "{se:?}");

    let ml = bgnbd::Params { r: 0.2425929, alpha: 4.4135317, a: 0.7928861, b: 2.4257532 };
    let data = bgnbd::Compressed::from_summary(&s);
    rel(bgnbd::log_likelihood(&ml, &data), -9582.42556, 1e-6, "LL at the published optimum");
    // The README's table lists x, t_x, T to 2 dp; the reference values were computed on those.
    for (id, x, t_x, t, e39, alive) in [
        ("1", 2.0, 30.43, 38.86, 1.2259105, 0.7266092),
        ("2", 1.0, 1.71, 38.86, 0.2032506, 0.2122274),
        ("3", 0.0, 0.0, 38.86, 0.1947809, 1.0),
        ("1516", 26.0, 30.86, 31.0, 20.7505699, 0.9689197),
    ] {
        let i = log.customer_ids.iter().position(|c| c == id).unwrap();
        let j = s.customer.iter().position(|&c| c as usize == i).unwrap();
        assert_eq!(f64::from(s.frequency[j]), x);
        assert!((s.recency[j] - t_x).abs() < 0.005 && (s.age[j] - t).abs() < 0.005);
        rel(
            bgnbd::conditional_expected_purchases(&ml, x, t_x, t, 39.0).unwrap(),
            e39,
            1e-5,
            &format!("E[Y(39)] of {id}"),
        );
        rel(bgnbd::p_alive(&ml, x, t_x, t), alive, 1e-5, &format!("P(alive) of {id}"));
    }
    for (t, e) in [(1.0, 0.053185), (3.0, 0.150632), (32.0, 1.043737), (78.0, 1.857972)] {
        rel(bgnbd::expected_purchases_new(&ml, t).unwrap(), e, 1e-5, &format!("E[X({t})]"));
    }
}

#[test]
fn gamma_gamma_fit_matches_maximum_likelihood() {
    let (log, s) = cdnow();
    let fit = gamma_gamma::fit(&s).unwrap();
    assert_eq!(fit.repeaters, 946);
    // From the raw log the mean values are exact, not rounded to cents as in the published
    // summary; the Gamma-Gamma likelihood is flat along p, so the optimum moves by ~1e-4.
    rel(fit.params.p, 6.2488044, 3e-4, "p");
    rel(fit.params.q, 3.7445878, 3e-4, "q");
    rel(fit.params.gamma, 15.4477404, 3e-4, "gamma");
    rel(fit.log_likelihood, -4055.92324, 1e-4, "log-likelihood");
    let published = gamma_gamma::fit(&published_summary()).unwrap();
    rel(published.params.p, 6.2488044, 2e-6, "p on the published summary");
    rel(published.params.q, 3.7445878, 2e-6, "q on the published summary");
    rel(published.params.gamma, 15.4477404, 2e-6, "gamma on the published summary");
    rel(published.log_likelihood, -4055.92324, 1e-9, "log-likelihood on the published summary");
    let ml = gamma_gamma::Params { p: 6.2488044, q: 3.7445878, gamma: 15.4477404 };
    // Per-customer values at the published optimum, on the published (cent-rounded) zbar.
    let table = published_summary();
    for (id, ez) in [("1", 24.6586154), ("2", 18.9114776), ("3", 35.1710036), ("1516", 39.8902773)] {
        let i = log.customer_ids.iter().position(|c| c == id).unwrap();
        let j = s.customer.iter().position(|&c| c as usize == i).unwrap();
        let k: usize = id.parse::<usize>().unwrap() - 1;
        assert!((table.monetary_value[k] - s.monetary_value[j]).abs() <= 0.005 + 1e-9);
        let v = gamma_gamma::expected_average_value(&ml, f64::from(table.frequency[k]), table.monetary_value[k]);
        rel(v, ez, 1e-5, &format!("E[Z] of {id}"));
    }
}

#[test]
fn too_little_data_is_refused_with_a_reason() {
    let log = TransactionLog::from_rows([("1", 0, 100), ("1", 7, 100), ("2", 3, 50)], 2);
    let s = summarize(&log, 30, TimeUnit::Week);
    let e = bgnbd::fit(&s).unwrap_err();
    assert!(e.to_string().contains("at least 30 customers"), "{e}");
    assert!(gamma_gamma::fit(&s).is_err());
}

#[test]
fn pareto_nbd_fit_matches_maximum_likelihood() {
    use joren_analytics::pareto_nbd;
    let ml = pareto_nbd::Params { r: 0.5532755, alpha: 10.5776126, s: 0.6062136, beta: 11.6679113 };
    let published = published_summary();
    let d = bgnbd::Compressed::from_summary(&published);
    rel(pareto_nbd::log_likelihood(&ml, &d), -9594.97393, 1e-7, "LL at the published optimum");
    let fit = pareto_nbd::fit(&published).unwrap();
    rel(fit.params.r, 0.5532755, 1e-4, "r");
    rel(fit.params.alpha, 10.5776126, 1e-4, "alpha");
    rel(fit.params.s, 0.6062136, 1e-4, "s");
    rel(fit.params.beta, 11.6679113, 1e-4, "beta");
    rel(fit.log_likelihood, -9594.97393, 1e-6, "log-likelihood");
    let (_, raw) = cdnow();
    let from_raw = pareto_nbd::fit(&raw).unwrap();
    rel(from_raw.params.r, 0.5532755, 1e-3, "r from the raw log");
    rel(from_raw.log_likelihood, -9594.97393, 1e-4, "log-likelihood from the raw log");
}

#[test]
fn pareto_nbd_per_customer_values_are_consistent_with_its_likelihood() {
    use joren_analytics::pareto_nbd::{self, Params};
    use joren_analytics::special::ln_gamma;
    let ml = Params { r: 0.5532755, alpha: 10.5776126, s: 0.6062136, beta: 11.6679113 };
    for (x, t_x, t) in [(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (1.0, 1.71, 38.86), (26.0, 30.86, 31.0)] {
        // P(alive) = the "alive at T" part of the likelihood over the whole likelihood.
        let ln_alive = ln_gamma(ml.r + x) - ln_gamma(ml.r) + ml.r * ml.alpha.ln() + ml.s * ml.beta.ln()
            - (ml.r + x) * (ml.alpha + t).ln()
            - ml.s * (ml.beta + t).ln();
        let expected = (ln_alive - pareto_nbd::ln_likelihood_one(&ml, x, t_x, t).unwrap()).exp();
        let alive = pareto_nbd::p_alive(&ml, x, t_x, t).unwrap();
        rel(alive, expected, 1e-10, "P(alive)");
        assert!(alive > 0.0 && alive <= 1.0);
        // E[Y] grows with the horizon and stays below rate × horizon × P(alive).
        let e39 = pareto_nbd::conditional_expected_purchases(&ml, x, t_x, t, 39.0).unwrap();
        let e78 = pareto_nbd::conditional_expected_purchases(&ml, x, t_x, t, 78.0).unwrap();
        assert!(e39 > 0.0 && e78 > e39);
        assert!(e39 < (ml.r + x) / (ml.alpha + t) * 39.0 * alive);
    }
    // A long silence lowers P(alive); the s → 1 limit joins the general formula continuously.
    let quiet = pareto_nbd::p_alive(&ml, 3.0, 5.0, 38.86).unwrap();
    let recent = pareto_nbd::p_alive(&ml, 3.0, 38.0, 38.86).unwrap();
    assert!(quiet < recent);
    let near =
        |s: f64| pareto_nbd::conditional_expected_purchases(&Params { s, ..ml }, 2.0, 30.43, 38.86, 39.0).unwrap();
    rel(near(1.0), near(1.0 + 1e-6), 1e-5, "s = 1 limit");
}

#[test]
fn holdout_validation_reproduces_the_papers_forecast_quality() {
    use joren_analytics::{pareto_nbd, validation};
    let (log, s) = cdnow();
    let (cal_end, holdout_end) = (days_from_civil(1997, 9, 30), days_from_civil(1998, 6, 30));
    let actual = validation::holdout_transactions(&log, &s, cal_end, holdout_end);
    assert_eq!(actual.iter().sum::<u32>(), 1882, "actual repeat transactions in weeks 40–78");
    let weeks = f64::from(holdout_end - cal_end) / 7.0;
    let bg = bgnbd::fit(&s).unwrap().params;
    let predicted: Vec<f64> = (0..s.len())
        .map(|i| {
            bgnbd::conditional_expected_purchases(&bg, f64::from(s.frequency[i]), s.recency[i], s.age[i], weeks)
                .unwrap()
        })
        .collect();
    let v = validation::compare(&predicted, &actual, &s.frequency, 7);
    // The per-customer forecasts are golden-tested above; their sum under-forecasts the holdout
    // (the paper reports BG/NBD under-forecasting; conditional on calibration behaviour the gap
    // is about 12 %: 1,653 forecast against 1,882 actual).
    assert!(v.error_percent < -5.0 && v.error_percent > -15.0, "BG/NBD holdout error {}%", v.error_percent);
    assert!(v.correlation.unwrap() > 0.5, "per-customer correlation {:?}", v.correlation);
    assert_eq!(v.by_frequency.iter().map(|r| r.customers).sum::<usize>(), 2357);
    let zero = &v.by_frequency[0];
    assert_eq!((zero.frequency, zero.customers), (0, 1411), "1,411 customers made no repeat purchase");
    // Heavier calibration buyers buy more in the holdout, as forecast.
    assert!(v.by_frequency[7].actual_mean > v.by_frequency[1].actual_mean);
    assert!(v.by_frequency[7].predicted_mean > v.by_frequency[1].predicted_mean);

    let pn = pareto_nbd::fit(&s).unwrap().params;
    let predicted: Vec<f64> = (0..s.len())
        .map(|i| {
            pareto_nbd::conditional_expected_purchases(&pn, f64::from(s.frequency[i]), s.recency[i], s.age[i], weeks)
                .unwrap()
        })
        .collect();
    let p = validation::compare(&predicted, &actual, &s.frequency, 7);
    // As in the paper, Pareto/NBD under-forecasts a little less than BG/NBD.
    assert!(
        p.error_percent < -5.0 && p.error_percent > v.error_percent,
        "Pareto/NBD holdout error {}%",
        p.error_percent
    );
    println!(
        "holdout: BG/NBD {:.1} ({:+.2}%), Pareto/NBD {:.1} ({:+.2}%)",
        v.predicted_total, v.error_percent, p.predicted_total, p.error_percent
    );
}

#[test]
fn data_without_heterogeneity_is_refused_not_fitted_to_extremes() {
    // 60 customers who all bought every 10 days until the end and spent the same each time:
    // nobody drops out and nobody differs, so neither the dropout Beta nor the spend Gamma
    // can be estimated.
    let n = 60;
    let s = CustomerSummary {
        customer: (0..n).collect(),
        frequency: vec![6; n as usize],
        recency: vec![60.0; n as usize],
        age: vec![60.0; n as usize],
        monetary_value: vec![25.0; n as usize],
        first_day: vec![0; n as usize],
        last_day: vec![60; n as usize],
        unit: TimeUnit::Day,
    };
    let bg = bgnbd::fit(&s);
    assert!(matches!(bg, Err(joren_analytics::AnalyticsError::NotConverged(_))), "{bg:?}");
    let gg = gamma_gamma::fit(&s);
    assert!(matches!(gg, Err(joren_analytics::AnalyticsError::NotConverged(_))), "{gg:?}");
}
