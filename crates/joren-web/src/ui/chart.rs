//! Every chart on the pages, drawn on the server as SVG (no script, no CDN): horizontal bars
//! (segments, CLV) and columns by period with an optional dashed line (points movement,
//! membership retention). One fixed drawing width, so a chart with two months and one with
//! thirty draw their labels at the same size; the SVG scales down to the screen
//! (`width: 100%`, `max-width` the drawing width) and never up. Labels and captions are
//! escaped; values carry thousands separators.

use std::fmt::Write;

/// The drawing width in SVG units (≈ CSS pixels at full size).
/// Narrow enough that on a 390 px phone (≈ 330 px of card) labels still read at ≈ 9 px.
pub(crate) const WIDTH: f64 = 480.0;
/// Label size in SVG units.
const FONT: f64 = 14.0;

/// Escapes text for SVG.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(id: &str, height: f64, title: &str) -> String {
    format!(
        "<svg viewBox=\"0 0 {WIDTH:.0} {height:.0}\" class=\"chart\" role=\"img\" id=\"{}\" aria-label=\"{}\" \
         style=\"max-width:{WIDTH:.0}px\" font-size=\"{FONT:.0}\">",
        esc(id),
        esc(title)
    )
}

/// Horizontal bars, one row per (label, value, caption shown after the bar).
pub(crate) fn bars(id: &str, title: &str, rows: &[(String, f64, String)], color: &str) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let (row_h, label_w, caption_w) = (26.0, 140.0, 110.0);
    let bar_w = WIDTH - label_w - caption_w - 16.0;
    let mut svg = open(id, row_h * rows.len() as f64 + 6.0, title);
    for (i, (label, v, caption)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let w = (v / max * bar_w).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.0}\" width=\"{w:.1}\" height=\"{:.0}\" fill=\"{color}\"><title>{}: {}</title></rect>\
             <text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            label_w - 8.0,
            y + 18.0,
            esc(label),
            y + 4.0,
            row_h - 8.0,
            esc(label),
            esc(caption),
            label_w + w + 6.0,
            y + 18.0,
            esc(caption)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One series of a column chart.
pub(crate) struct Series<'a> {
    pub label: &'a str,
    pub color: &'a str,
    pub values: Vec<f64>,
}

/// Columns per category (months, periods), the series side by side, with a value axis, a
/// legend, and optionally a dashed line over the categories (e.g. a model's projection).
/// `max` fixes the axis (1.0 for shares); `show` words a value for the axis and the tooltips.
pub(crate) fn columns(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series<'_>],
    line: Option<&Series<'_>>,
    max: Option<f64>,
    show: &dyn Fn(f64) -> String,
) -> String {
    let n = categories.len().max(1);
    let data_max = series.iter().chain(line).flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
    let max = max.unwrap_or(data_max).max(1e-9);
    let (left, right, top, plot_h) = (60.0, 8.0, 12.0, 170.0);
    let group_w = (WIDTH - left - right) / n as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).min(28.0);
    let y = |v: f64| top + plot_h - (v / max).clamp(0.0, 1.0) * plot_h;
    let legend_y = top + plot_h + 44.0;
    let mut svg = open(id, legend_y + 10.0, title);
    // The axis: zero, half and the top, with their values.
    for f in [0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.0}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#dde2e8\"/>\
             <text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - right,
            y(max * f),
            y(max * f),
            left - 6.0,
            y(max * f) + 4.0,
            esc(&show(max * f))
        );
    }
    // At most 6 category labels (a month label is ≈ 60 units wide), so they never overlap.
    let every = n.div_ceil(6);
    for (i, cat) in categories.iter().enumerate() {
        let x0 = left + i as f64 * group_w + (group_w - bar_w * series.len() as f64) / 2.0;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                x0 + j as f64 * bar_w,
                y(v),
                (bar_w - 1.0).max(1.0),
                top + plot_h - y(v),
                s.color,
                esc(cat),
                esc(s.label),
                esc(&show(v))
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
                left + (i as f64 + 0.5) * group_w,
                top + plot_h + 18.0,
                esc(cat)
            );
        }
    }
    if let Some(l) = line {
        let points: Vec<String> = l
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", left + (i as f64 + 0.5) * group_w, y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>",
            points.join(" "),
            l.color
        );
    }
    let mut x = left;
    for s in series {
        let _ = write!(
            svg,
            "<rect x=\"{x:.0}\" y=\"{:.0}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            legend_y - 11.0,
            s.color,
            x + 16.0,
            legend_y,
            esc(s.label)
        );
        x += 24.0 + s.label.chars().count() as f64 * FONT;
    }
    if let Some(l) = line {
        let _ = write!(
            svg,
            "<line x1=\"{x:.0}\" x2=\"{:.0}\" y1=\"{:.0}\" y2=\"{:.0}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            x + 20.0,
            legend_y - 5.0,
            legend_y - 5.0,
            l.color,
            x + 26.0,
            legend_y,
            esc(l.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_month_and_thirty_draw_at_the_same_width_with_labels_thinned() {
        let show = |v: f64| joren_core::money::group_digits(v as i64);
        let s = |n: usize| Series { label: "付与", color: "#8c522d", values: vec![12_345.0; n] };
        let one = columns("c", "t", &["2026-01".into()], &[s(1)], None, None, &show);
        let many: Vec<String> = (0..30).map(|i| format!("M{i}")).collect();
        let thirty = columns("c", "t", &many, &[s(30)], None, None, &show);
        for svg in [&one, &thirty] {
            assert!(svg.starts_with("<svg viewBox=\"0 0 480 "), "{svg}");
        }
        assert!(one.contains(">12,345<"), "the axis reads with separators: {one}");
        assert_eq!(thirty.matches("text-anchor=\"middle\"").count(), 6, "every fifth of 30 labels");
    }

    #[test]
    fn text_is_escaped() {
        let svg = bars("b", "<t>", &[("<script>".into(), 1.0, "a&b".into())], "#000");
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;") && svg.contains("a&amp;b"), "{svg}");
    }
}
