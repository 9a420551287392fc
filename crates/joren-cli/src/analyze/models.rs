//! The models: CLV (BG/NBD or Pareto/NBD with Gamma-Gamma, or BG/BB) and holdout validation.

use super::*;

pub(super) fn run_clv(a: &ClvArgs, pb: &ProgressBar) -> Result<()> {
    let c = &a.common;
    let mut ph = Phases::new("clv");
    let log = read_log(c, pb)?;
    ph.mark("read");
    let end = end_day(c, &log)?;
    if a.model == Model::Bgbb {
        return run_bgbb(a, &log, end, pb);
    }
    pb.set_message("summarising");
    let s = summarize(&log, end, unit(c));
    let ids = log.into_customer_ids();
    ph.mark("summarise");
    let per_customer = c.per_customer.is_some();
    let (want_bg, want_pn) =
        (a.model == Model::Bgnbd || (a.model == Model::Gg && per_customer), a.model == Model::Pnbd);
    let want_gg = a.model == Model::Gg || per_customer;
    // The purchase model and the spend model are fitted side by side: each spreads its
    // likelihood over the cores, and the steps between (the optimiser, setting up the data)
    // of one fill the other's gaps.
    pb.set_message("fitting the models");
    let (purchase, gg) = rayon::join(
        || -> Result<_> {
            let bg = want_bg.then(|| bgnbd::fit(&s)).transpose().context("BG/NBD")?;
            let pn = want_pn.then(|| pareto_nbd::fit(&s)).transpose().context("Pareto/NBD")?;
            Ok((bg, pn))
        },
        || want_gg.then(|| gamma_gamma::fit(&s)).transpose().context("Gamma-Gamma"),
    );
    let ((bg, pn), gg) = (purchase?, gg?);
    ph.mark("fit");
    let mut out = match (&bg, &pn) {
        (_, Some(p)) if a.model == Model::Pnbd => {
            json!({"model": "pnbd", "params": p.params, "standard_errors": p.standard_errors,
                   "log_likelihood": p.log_likelihood, "customers": p.customers, "repeaters": p.repeaters,
                   "iterations": p.iterations})
        }
        (Some(b), _) if a.model == Model::Bgnbd => {
            json!({"model": "bgnbd", "params": b.params, "standard_errors": b.standard_errors,
                   "log_likelihood": b.log_likelihood, "customers": b.customers, "repeaters": b.repeaters,
                   "iterations": b.iterations})
        }
        _ => {
            let g = gg.as_ref().expect("fitted");
            json!({"model": "gg", "params": g.params, "standard_errors": g.standard_errors,
                   "log_likelihood": g.log_likelihood, "customers": g.repeaters, "iterations": g.iterations})
        }
    };
    out["time_unit"] = json!(unit(c));
    out["calibration_end"] = json!(date(end));
    if let Some(path) = &c.per_customer {
        pb.set_message("forecasting every customer");
        let model = match (&pn, &bg) {
            (Some(p), _) => clv::PurchaseModel::ParetoNbd(p.params),
            (None, Some(b)) => clv::PurchaseModel::BgNbd(b.params),
            (None, None) => unreachable!("a purchase model is fitted for per-customer output"),
        };
        let horizon = clv::Horizon {
            purchases_days: a.horizon_days,
            clv_months: a.clv_months,
            monthly_discount: a.monthly_discount,
        };
        let f = clv::forecast(&s, &model, &gg.as_ref().expect("fitted").params, horizon);
        let alive: Vec<f64> = f.iter().map(|f| f.p_alive).collect();
        let risk = churn::assess_all(&s, &alive, end, &churn::Settings::default()).context("churn risk")?;
        ph.mark("forecast, churn risk");
        let mut w = csv_out(path)?;
        writeln!(
            w,
            "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases_{}d,expected_value,clv_{}m,\
             churn_risk,churn_band,expected_next_purchase",
            a.horizon_days, a.clv_months
        )?;
        write_lines_parallel(&mut w, f.len(), |i, out| {
            use std::fmt::Write as _;
            let (f, r) = (&f[i], &risk[i]);
            let _ = write!(out, "{},{},", &ids[s.customer[i] as usize], s.frequency[i]);
            for v in [s.recency[i], s.age[i]] {
                push_shortest(out, v);
                out.push(',');
            }
            for (v, d) in
                [(s.monetary_value[i], 4), (f.p_alive, 6), (f.expected_purchases, 6), (f.expected_value, 4), (f.clv, 4)]
            {
                push_fixed(out, v, d);
                out.push(',');
            }
            let _ = write!(out, "{},{},", r.score, r.band.as_str());
            let (y, m, d) = civil_from_days(r.expected_next_day);
            let _ = writeln!(out, "{y:04}-{m:02}-{d:02}");
        })?;
        w.flush()?;
        ph.mark("write");
        let band = |b: churn::Band| risk.iter().filter(|r| r.band == b).count();
        out["churn_bands"] = json!({"low": band(churn::Band::Low), "medium": band(churn::Band::Medium),
                                    "high": band(churn::Band::High)});
    }
    print_object(c.format, &out)
}

pub(super) fn run_bgbb(a: &ClvArgs, log: &TransactionLog, end: i32, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::bgbb;
    if a.common.per_customer.is_some() {
        bail!("--per-customer is available for --model bgnbd and pnbd; BG/BB reports the fitted model");
    }
    if a.period_days < 1 {
        bail!("--period-days must be at least 1");
    }
    pb.set_message("counting purchase opportunities");
    let h = bgbb::Histories::from_log(log, end, a.period_days);
    pb.set_message("fitting BG/BB");
    let f = bgbb::fit(&h).context("BG/BB")?;
    print_object(
        a.common.format,
        &json!({"model": "bgbb", "params": f.params, "standard_errors": f.standard_errors,
                "log_likelihood": f.log_likelihood, "customers": f.customers, "period_days": a.period_days,
                "calibration_end": date(end)}),
    )
}

pub(super) fn run_validate(a: &ValidateArgs, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::validation;
    let c = &a.common;
    let log = read_log(c, pb)?;
    let Some(cal) = &c.calibration_end else { bail!("--calibration-end is required: the day the fit ends") };
    let cal_end =
        parse_day(cal.as_bytes()).with_context(|| format!("--calibration-end must be YYYY-MM-DD, got {cal}"))?;
    let holdout_end = match &a.holdout_end {
        Some(d) => parse_day(d.as_bytes()).with_context(|| format!("--holdout-end must be YYYY-MM-DD, got {d}"))?,
        None => *log.day.iter().max().expect("non-empty"),
    };
    if holdout_end <= cal_end {
        bail!("the holdout must end after the calibration ({} ≤ {})", date(holdout_end), date(cal_end));
    }
    pb.set_message("summarising the calibration period");
    let s = summarize(&log, cal_end, unit(c));
    let horizon = f64::from(holdout_end - cal_end) / unit(c).days();
    let model = match a.model {
        ValidateModel::Bgnbd => {
            pb.set_message("fitting BG/NBD");
            clv::PurchaseModel::BgNbd(bgnbd::fit(&s).context("BG/NBD")?.params)
        }
        ValidateModel::Pnbd => {
            pb.set_message("fitting Pareto/NBD");
            clv::PurchaseModel::ParetoNbd(pareto_nbd::fit(&s).context("Pareto/NBD")?.params)
        }
    };
    pb.set_message("forecasting the holdout");
    let v = validation::check_forecast(&log, &s, &model, cal_end, holdout_end, a.max_frequency);
    let name = match a.model {
        ValidateModel::Bgnbd => "bgnbd",
        ValidateModel::Pnbd => "pnbd",
    };
    if c.format == Format::Table {
        pb.finish_and_clear();
        println!(
            "{name}: fitted to {}, forecast {} .. {} ({horizon:.1} {})",
            date(cal_end),
            date(cal_end + 1),
            date(holdout_end),
            if matches!(c.time_unit, Unit::Week) { "weeks" } else { "days" }
        );
        println!(
            "repeat purchases in the holdout: actual {}, forecast {:.1} ({:+.1}%); per-customer correlation {}; mean absolute error {:.3}",
            v.actual_total,
            v.predicted_total,
            v.error_percent,
            v.correlation.map(|r| format!("{r:.3}")).unwrap_or_else(|| "n/a".into()),
            v.mean_absolute_error
        );
        println!("{:>12} {:>9} {:>10} {:>10}", "calib. x", "customers", "actual", "forecast");
        for r in &v.by_frequency {
            let label = if r.or_more { format!("{}+", r.frequency) } else { r.frequency.to_string() };
            println!("{label:>12} {:>9} {:>10.3} {:>10.3}", r.customers, r.actual_mean, r.predicted_mean);
        }
        return Ok(());
    }
    let mut out = serde_json::to_value(&v)?;
    out["model"] = json!(name);
    out["calibration_end"] = json!(date(cal_end));
    out["holdout_end"] = json!(date(holdout_end));
    out["horizon"] = json!(horizon);
    out["time_unit"] = json!(unit(c));
    if c.format == Format::Csv {
        println!("frequency,or_more,customers,actual_mean,predicted_mean");
        for r in &v.by_frequency {
            println!("{},{},{},{:.6},{:.6}", r.frequency, r.or_more, r.customers, r.actual_mean, r.predicted_mean);
        }
        return Ok(());
    }
    println!("{out}");
    Ok(())
}
