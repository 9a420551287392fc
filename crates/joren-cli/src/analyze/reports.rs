//! The descriptive reports: KPIs, retention, cohorts, the customer summary and RFM.

use super::*;

pub(super) fn run_kpi(a: &KpiArgs, pb: &ProgressBar) -> Result<()> {
    let c = &a.common;
    let log = read_log_grouped(c, a.group_column.as_deref(), pb)?;
    let end = end_day(c, &log)?;
    let start =
        parse_day(a.start.as_bytes()).with_context(|| format!("--start must be YYYY-MM-DD, got {}", a.start))?;
    if start > end {
        bail!("--start {} is after the end of the period {}", a.start, date(end));
    }
    if a.window_days < 1 {
        bail!("--window-days must be at least 1");
    }
    pb.set_message("computing KPIs");
    let kpis = |log: &TransactionLog| -> Result<serde_json::Value> {
        let mut v = serde_json::to_value(joren_analytics::kpi::kpis(log, start, end, a.window_days))?;
        v["period_start"] = json!(date(start));
        v["period_end"] = json!(date(end));
        v["window_days"] = json!(a.window_days);
        Ok(v)
    };
    let mut v = kpis(&log)?;
    if a.group_column.is_none() {
        return print_object(c.format, &v);
    }
    let groups: Vec<(String, serde_json::Value)> =
        log.split_by_group().iter().map(|(name, sub)| Ok((name.clone(), kpis(sub)?))).collect::<Result<_>>()?;
    match c.format {
        Format::Json => {
            v["groups"] = groups.iter().map(|(g, k)| json!({"group": g, "kpis": k})).collect();
            println!("{v}");
        }
        Format::Csv => {
            let keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
            println!("group,{}", keys.join(","));
            for (g, k) in std::iter::once(("(all)".to_string(), v.clone())).chain(groups) {
                let cells: Vec<String> =
                    keys.iter().map(|key| k[key].to_string().trim_matches('"').to_string()).collect();
                println!("{},{}", csv_cell(&g), cells.join(","));
            }
        }
        Format::Table => {
            let rows = [
                "start_customers",
                "end_customers",
                "new_customers",
                "retention_rate",
                "churn_rate",
                "repeat_rate",
                "average_order_value",
                "simple_ltv",
            ];
            print!("{:<22}", "group");
            for r in rows {
                print!(" {r:>20}");
            }
            println!();
            for (g, k) in std::iter::once(("(all)".to_string(), v.clone())).chain(groups) {
                print!("{g:<22}");
                for r in rows {
                    let cell = match &k[r] {
                        serde_json::Value::Number(n) => match n.as_f64() {
                            Some(f) if n.is_f64() => format!("{f:.2}"),
                            _ => n.to_string(),
                        },
                        serde_json::Value::Null => "—".into(),
                        other => other.to_string(),
                    };
                    print!(" {cell:>20}");
                }
                println!();
            }
        }
    }
    Ok(())
}

/// A CSV cell, quoted when it holds a comma, quote or line break.
pub(super) fn csv_cell(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

pub(super) fn run_retention(a: &RetentionArgs) -> Result<()> {
    use joren_analytics::sbg;
    let f = sbg::fit(&a.alive).context("shifted-beta-geometric")?;
    let projection: Vec<_> = (1..=a.project)
        .map(|t| json!({"period": t, "survival": sbg::survival(&f.params, t), "retention_rate": sbg::retention_rate(&f.params, t)}))
        .collect();
    if a.format == Format::Table {
        println!(
            "sBG: alpha = {:.4}, beta = {:.4}, log-likelihood = {:.4}",
            f.params.alpha, f.params.beta, f.log_likelihood
        );
        println!("{:>6} {:>9} {:>9} {:>9}", "period", "observed", "survival", "retention");
        for t in 1..=a.project {
            let observed = a
                .alive
                .get(t as usize)
                .map(|n| format!("{:.1}%", 100.0 * *n as f64 / a.alive[0] as f64))
                .unwrap_or_default();
            println!(
                "{t:>6} {observed:>9} {:>8.1}% {:>8.1}%",
                100.0 * sbg::survival(&f.params, t),
                100.0 * sbg::retention_rate(&f.params, t)
            );
        }
        return Ok(());
    }
    print_object(
        a.format,
        &json!({"model": "sbg", "params": f.params, "standard_errors": f.standard_errors,
                "log_likelihood": f.log_likelihood, "customers": a.alive[0], "projection": projection}),
    )
}

pub(super) fn run_cohorts(a: &CohortArgs, pb: &ProgressBar) -> Result<()> {
    use joren_analytics::cohort::{Granularity, cohorts};
    let c = &a.common;
    let log = read_log_grouped(c, a.group_column.as_deref(), pb)?;
    let end = end_day(c, &log)?;
    pb.set_message("building cohorts");
    let g = if a.weekly { Granularity::Week } else { Granularity::Month };
    let tables: Vec<(String, Vec<joren_analytics::cohort::Cohort>)> = if a.group_column.is_some() {
        log.split_by_group().iter().map(|(name, sub)| (name.clone(), cohorts(sub, end, g))).collect()
    } else {
        vec![(String::new(), cohorts(&log, end, g))]
    };
    let grouped = a.group_column.is_some();
    match c.format {
        Format::Json if grouped => {
            let v: Vec<_> = tables.iter().map(|(g, t)| json!({"group": g, "cohorts": t})).collect();
            println!("{}", serde_json::to_string(&v)?);
        }
        Format::Json => println!("{}", serde_json::to_string(&tables[0].1)?),
        Format::Csv => {
            println!(
                "{}cohort,customers,period,active_share,revenue,cumulative_revenue_per_customer",
                if grouped { "group," } else { "" }
            );
            for (group, t) in &tables {
                let prefix = if grouped { format!("{},", csv_cell(group)) } else { String::new() };
                for row in t {
                    for k in 0..row.active_share.len() {
                        println!(
                            "{prefix}{},{},{k},{:.6},{:.2},{:.4}",
                            row.label,
                            row.customers,
                            row.active_share[k],
                            row.revenue[k],
                            row.cumulative_revenue_per_customer[k]
                        );
                    }
                }
            }
        }
        Format::Table => {
            for (group, t) in &tables {
                if grouped {
                    println!("== {group} ==");
                }
                let width = t.iter().map(|r| r.active_share.len()).max().unwrap_or(0).min(13);
                print!("{:<11} {:>8}", "cohort", "size");
                for k in 0..width {
                    print!(" {:>5}", format!("+{k}"));
                }
                println!();
                for row in t {
                    print!("{:<11} {:>8}", row.label, row.customers);
                    for share in row.active_share.iter().take(width) {
                        print!(" {:>4.0}%", share * 100.0);
                    }
                    println!();
                }
            }
        }
    }
    Ok(())
}

pub(super) fn run_summary(c: &Common, pb: &ProgressBar) -> Result<()> {
    let mut ph = Phases::new("summary");
    let log = read_log(c, pb)?;
    ph.mark("read");
    let end = end_day(c, &log)?;
    pb.set_message("summarising");
    let s = summarize(&log, end, unit(c));
    ph.mark("summarise");
    if let Some(path) = &c.per_customer {
        let mut w = csv_out(path)?;
        writeln!(w, "customer_id,frequency,recency,T,monetary_value")?;
        write_lines_parallel(&mut w, s.len(), |i, out| {
            use std::fmt::Write as _;
            let _ = write!(out, "{},{}", &log.customer_ids[s.customer[i] as usize], s.frequency[i]);
            for v in [s.recency[i], s.age[i], s.monetary_value[i]] {
                out.push(',');
                push_shortest(out, v);
            }
            out.push('\n');
        })?;
        w.flush()?;
        ph.mark("write");
    }
    let out = json!({
        "customers": s.len(), "transactions": log.len(), "observation_end": date(end),
        "time_unit": unit(c), "repeaters": s.frequency.iter().filter(|&&x| x > 0).count(),
        "sum_frequency": s.frequency.iter().map(|&x| u64::from(x)).sum::<u64>(),
        "sum_recency": s.recency.iter().sum::<f64>(), "sum_T": s.age.iter().sum::<f64>(),
    });
    print_object(c.format, &out)
}

pub(super) fn run_rfm(c: &Common, pb: &ProgressBar) -> Result<()> {
    let mut ph = Phases::new("rfm");
    let log = read_log(c, pb)?;
    ph.mark("read");
    let end = end_day(c, &log)?;
    pb.set_message("scoring RFM");
    let mut r = rfm::values(&log, end);
    let ids = log.into_customer_ids();
    ph.mark("aggregate");
    rfm::score_quintiles(&ids, &mut r);
    ph.mark("score");
    let levels = rfm::Levels::default();
    let mut counts: Vec<(rfm::Segment, usize, i64)> = Vec::new();
    let mut scored = 0;
    for i in 0..r.r.len() {
        if r.frequency[i] == 0 {
            continue;
        }
        scored += 1;
        let seg = rfm::segment(r.r[i], r.f[i], r.m[i], levels);
        match counts.iter_mut().find(|(s, _, _)| *s == seg) {
            Some(e) => {
                e.1 += 1;
                e.2 += r.monetary[i];
            }
            None => counts.push((seg, 1, r.monetary[i])),
        }
    }
    counts.sort_by_key(|(_, n, _)| std::cmp::Reverse(*n));
    if let Some(path) = &c.per_customer {
        let mut w = csv_out(path)?;
        writeln!(w, "customer_id,recency_days,frequency,monetary,R,F,M,RFM,segment")?;
        let scored: Vec<usize> = (0..r.r.len()).filter(|&i| r.frequency[i] > 0).collect();
        write_lines_parallel(&mut w, scored.len(), |k, out| {
            use std::fmt::Write as _;
            let i = scored[k];
            let (rs, fs, ms) = (r.r[i], r.f[i], r.m[i]);
            // Cents written exactly from the integer (what `{:.2}` of the yen value shows).
            let cents = r.monetary[i];
            let _ = writeln!(
                out,
                "{},{},{},{}{}.{:02},{rs},{fs},{ms},{rs}{fs}{ms},{}",
                &ids[i],
                r.recency_days[i],
                r.frequency[i],
                if cents < 0 { "-" } else { "" },
                cents.unsigned_abs() / 100,
                cents.unsigned_abs() % 100,
                rfm::segment(rs, fs, ms, levels).name_ja()
            );
        })?;
        w.flush()?;
        ph.mark("write");
    }
    let n555 = (0..r.r.len()).filter(|&i| (r.r[i], r.f[i], r.m[i]) == (5, 5, 5)).count();
    let n111 = (0..r.r.len()).filter(|&i| (r.r[i], r.f[i], r.m[i]) == (1, 1, 1)).count();
    let total: i64 = counts.iter().map(|c| c.2).sum();
    if c.format == Format::Table {
        println!("RFM ({} customers, observation end {}): 555 = {n555}, 111 = {n111}", scored, date(end));
        println!("{:<16} {:>9} {:>7} {:>9}", "segment", "customers", "share", "revenue%");
        for (seg, n, m) in &counts {
            println!(
                "{:<16} {:>9} {:>6.1}% {:>8.1}%  {}",
                seg.name_ja(),
                n,
                100.0 * *n as f64 / scored as f64,
                100.0 * *m as f64 / total.max(1) as f64,
                seg.name_en()
            );
        }
        return Ok(());
    }
    let segments: Vec<_> = counts
        .iter()
        .map(|(s, n, m)| json!({"segment": s, "name_ja": s.name_ja(), "name_en": s.name_en(), "customers": n, "revenue": *m as f64 / 100.0}))
        .collect();
    print_object(
        c.format,
        &json!({"customers": scored, "observation_end": date(end), "n_555": n555, "n_111": n111, "segments": segments}),
    )
}
