//! Message templates written by shop staff: subject and body with `{{ variables }}`, rendered
//! by a sandboxed engine made for user-written templates (minijinja: no file or code access,
//! a fuel limit on work, undefined variables an error). An unknown variable is refused when the
//! template is saved, not when a customer's mail is made.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::FieldError;

/// The variables a template may use, with what each holds (shown beside the editor).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("name", "宛名 (山田 太郎 様 / 株式会社サンプル 御中)", "Addressee (surname first with 様, or 御中)"),
    ("family_name", "姓", "Family name"),
    ("given_name", "名", "Given name"),
    ("company", "会社名", "Company"),
    ("shop_name", "店名", "Shop name"),
    ("rank", "ランク名", "Rank"),
    ("points", "ポイント残高", "Points balance"),
    ("points_expiring", "次に失効するポイント数", "Points expiring next"),
    ("points_expiry_date", "次の失効日", "Next expiry date"),
    ("last_item", "最後に買った商品", "Last item bought"),
    ("recommended_item", "おすすめの商品", "Recommended item"),
    ("order_total", "きっかけの注文の合計 (円)", "Total of the order that started it (yen)"),
    ("unsubscribe_url", "配信停止のリンク", "Unsubscribe link"),
];

/// What a template is rendered with. Every field is always present (empty when unknown), so a
/// template never fails for one customer and not another.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Context {
    pub name: String,
    pub family_name: String,
    pub given_name: String,
    pub company: String,
    pub shop_name: String,
    pub rank: String,
    pub points: i64,
    pub points_expiring: i64,
    pub points_expiry_date: String,
    pub last_item: String,
    pub recommended_item: String,
    pub order_total: i64,
    pub unsubscribe_url: String,
}

impl Context {
    /// A stand-in customer for previews and for checking templates when they are saved.
    pub fn sample() -> Self {
        Self {
            name: "山田 花子 様".into(),
            family_name: "山田".into(),
            given_name: "花子".into(),
            shop_name: "サンプル商店".into(),
            rank: "ゴールド".into(),
            points: 1_200,
            points_expiring: 300,
            points_expiry_date: "2026-12-31".into(),
            last_item: "有機コーヒー豆 200g".into(),
            recommended_item: "ドリップバッグ 10袋".into(),
            order_total: 3_980,
            unsubscribe_url: "https://example.jp/u/sample".into(),
            ..Default::default()
        }
    }
}

/// Work one render may do (a loop over a huge range runs out instead of hanging a worker).
const FUEL: u64 = 100_000;

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// Checks a template's syntax and variables; `field` names it in the error.
pub fn check(field: &str, source: &str) -> Result<(), FieldError> {
    let env = env();
    let tmpl = env
        .template_from_str(source)
        .map_err(|e| FieldError::new(field, crate::Code::TemplateSyntax).arg(e.detail().unwrap_or("?")))?;
    let mut unknown: Vec<String> =
        tmpl.undeclared_variables(false).into_iter().filter(|v| !VARIABLES.iter().any(|(k, _, _)| k == v)).collect();
    if !unknown.is_empty() {
        unknown.sort();
        return Err(FieldError::new(field, crate::Code::TemplateUnknownVariables).arg(unknown.join(", ")));
    }
    tmpl.render(Context::sample())
        .map(|_| ())
        .map_err(|e| FieldError::new(field, crate::Code::TemplateRender).arg(e.detail().unwrap_or("?")))
}

/// The variables a template uses (`None` when it does not parse).
pub fn variables(source: &str) -> Option<std::collections::HashSet<String>> {
    let env = env();
    let tmpl = env.template_from_str(source).ok()?;
    Some(tmpl.undeclared_variables(false))
}

/// Renders a checked template for one customer.
pub fn render(field: &str, source: &str, ctx: &Context) -> Result<String, FieldError> {
    env()
        .render_str(source, ctx)
        .map_err(|e| FieldError::new(field, crate::Code::TemplateRender).arg(e.detail().unwrap_or("?")))
}

/// `s` with the characters HTML gives meaning to escaped.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The HTML part of a plain-text body: escaped, paragraphs kept, links made clickable.
pub fn text_to_html(text: &str) -> String {
    html_document(&text_to_html_fragment(text))
}

/// A mail's HTML document around `body` (HTML).
pub fn html_document(body: &str) -> String {
    format!("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.7\">{body}</body></html>")
}

/// Plain text as HTML lines (escaped, links made clickable), to put inside a document.
pub fn text_to_html_fragment(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut html_line = String::new();
        for word in line.split(' ') {
            if !html_line.is_empty() {
                html_line.push(' ');
            }
            if word.starts_with("https://") || word.starts_with("http://") {
                let w = escape_html(word);
                html_line.push_str(&format!("<a href=\"{w}\">{w}</a>"));
            } else {
                html_line.push_str(&escape_html(word));
            }
        }
        out.push_str(&html_line);
        out.push_str("<br>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_variables_render_and_unknown_ones_are_refused_at_save() {
        assert!(check("body", "{{ name }}、ご購入ありがとうございます。残り {{ points }} pt").is_ok());
        let e = check("body", "{{ name }} {{ nickname }} {{ coupon }}").unwrap_err();
        assert_eq!(e.field, "body");
        assert!(e.args[0].contains("coupon, nickname"), "{}", e);
        assert!(check("subject", "{{ name ").is_err(), "syntax errors are refused");
        let out = render("body", "{{ name }}へ {{ shop_name }}より", &Context::sample()).unwrap();
        assert_eq!(out, "山田 花子 様へ サンプル商店より");
    }

    #[test]
    fn templates_cannot_run_away() {
        assert!(
            check("body", "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}").is_err()
        );
    }

    #[test]
    fn the_html_part_escapes_and_links() {
        let html = text_to_html("<b>こんにちは</b>\n停止: https://example.jp/u/a?x=1&y=2");
        assert!(html.contains("&lt;b&gt;こんにちは&lt;/b&gt;<br>"));
        assert!(html.contains("<a href=\"https://example.jp/u/a?x=1&amp;y=2\">"));
    }
}
