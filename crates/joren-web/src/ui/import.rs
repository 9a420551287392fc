//! CSV import (upload, preview with the column mapping, run, reject file) and export.

use super::*;

#[derive(Template)]
#[template(path = "import.html")]
pub(super) struct ImportPage {
    c: Chrome,
    error: Option<String>,
}

pub(super) async fn import_page(UiLang(t): UiLang, user: Option<WebUser>) -> UiResult {
    let user = require(user, "/import")?;
    Ok(render(&ImportPage { c: Chrome::new(t, &user, "import", "/import"), error: None }))
}

#[derive(Template)]
#[template(path = "import_preview.html")]
pub(super) struct PreviewPage {
    c: Chrome,
    token: String,
    kind: String,
    /// The kind and the layout in words.
    kind_label: &'static str,
    preset_label: String,
    preset: String,
    filename: String,
    encoding: String,
    headers: Vec<String>,
    /// (field code — the form's name only —, its label, the column mapped to it).
    fields: Vec<(String, &'static str, String)>,
    rows: Vec<Vec<String>>,
}

pub(super) async fn import_upload(State(s): State<AppState>, Staff { user, t }: Staff, mut mp: Multipart) -> UiResult {
    let bad = |m: String| UiError::Page(t, StatusCode::BAD_REQUEST, m);
    let (mut csrf, mut kind, mut preset, mut filename, mut content) =
        (String::new(), String::new(), String::new(), String::new(), Bytes::new());
    while let Some(field) = mp.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            filename = field.file_name().unwrap_or("upload.csv").to_string();
            content = field.bytes().await.map_err(|e| bad(e.to_string()))?;
        } else {
            let v = field.text().await.map_err(|e| bad(e.to_string()))?;
            match name.as_str() {
                "csrf" => csrf = v,
                "kind" => kind = v,
                "preset" => preset = v,
                _ => {}
            }
        }
    }
    check_csrf(t, &user, &csrf)?;
    user.actor.require_write().map_err(|e| UiError::from_app(t, e))?;
    let kind_v = ImportKind::parse(&kind).ok_or_else(|| bad(format!("unknown kind {kind}")))?;
    if content.is_empty() {
        return Ok(render(&ImportPage {
            c: Chrome::new(t, &user, "import", "/import"),
            error: Some("ファイルが空です / empty file".into()),
        }));
    }
    let mut options = ImportOptions::new(kind_v);
    options.preset = (!preset.is_empty()).then(|| preset.clone());
    let preview = match joren_app::import::preview(&content, &options) {
        Ok(p) => p,
        Err(e) => {
            return Ok(render(&ImportPage { c: Chrome::new(t, &user, "import", "/import"), error: Some(say(t, &e)) }));
        }
    };
    let token =
        s.app.stage_upload(&user.actor, kind_v, &filename, &content).await.map_err(|e| UiError::from_app(t, e))?;
    let field_names: Vec<&str> = match kind_v {
        ImportKind::Customers => joren_app::import::mapping::CUSTOMER_FIELDS.iter().map(|f| f.0).collect(),
        ImportKind::Orders => joren_app::import::mapping::ORDER_FIELDS.iter().map(|f| f.0).collect(),
    };
    let fields = field_names
        .iter()
        .map(|f| {
            let col = preview.mapping.iter().find(|(mf, _)| mf == f).map(|(_, h)| h.clone()).unwrap_or_default();
            (f.to_string(), t.maybe(&format!("import.f.{f}")).unwrap_or("?"), col)
        })
        .collect();
    Ok(render(&PreviewPage {
        c: Chrome::new(t, &user, "import", "/import"),
        token,
        kind_label: t.t(match kind_v {
            ImportKind::Customers => "import.kind_customers",
            ImportKind::Orders => "import.kind_orders",
        }),
        preset_label: t
            .t(if preview.preset == "shopify" { "import.preset_shopify" } else { "import.preset_generic" })
            .to_string(),
        kind,
        preset: preview.preset,
        filename,
        encoding: preview.encoding,
        headers: preview.headers,
        fields,
        rows: preview.rows,
    }))
}

#[derive(Template)]
#[template(path = "import_report.html")]
pub(super) struct ReportPage {
    c: Chrome,
    token: String,
    filename: String,
    report: ImportReport,
    /// Each rejected line with its reasons worded.
    rejects: Vec<(u64, String)>,
    /// Each line imported with changes: (line, what was changed, what was left out), worded.
    notes: Vec<(u64, String, String)>,
}

pub(super) async fn import_run(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(t, &user, &get("csrf"))?;
    let overrides =
        form.iter().filter_map(|(k, v)| k.strip_prefix("map.").map(|f| (f.to_string(), v.clone()))).collect();
    let preset = Some(get("preset")).filter(|p| !p.is_empty());
    let (upload, report) = s
        .app
        .run_staged_upload(&user.actor, &get("token"), preset, overrides)
        .await
        .map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&ReportPage {
        c: Chrome::new(t, &user, "import", "/import"),
        token: upload.token,
        filename: upload.filename,
        rejects: report.rejected.iter().map(|r| (r.line, say_fields(t, &r.reasons))).collect(),
        notes: report.notes.iter().map(|n| (n.line, say_fields(t, &n.changed), say_fields(t, &n.dropped))).collect(),
        report,
    }))
}

pub(super) async fn import_rejects(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(token): Path<String>,
) -> UiResult {
    let report = s.app.staged_upload_report(&user.actor, &token).await.map_err(|e| UiError::from_app(t, e))?;
    let mut buf = Vec::new();
    let head = [t.t("col.line"), t.t("col.reason")];
    joren_app::import::write_rejects(&mut buf, head, &report.headers, &report.rejected, |r| say_fields(t, r))
        .map_err(|e| UiError::from_app(t, AppError::Io(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"rejects.csv\""),
        ],
        buf,
    )
        .into_response())
}

pub(super) async fn export(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(kind): Path<String>,
    Query(q): Query<crate::i18n::export::ExportQuery>,
) -> UiResult {
    let mut buf = Vec::new();
    let err = |e| UiError::from_app(t, e);
    let words = q.words(t.0);
    match kind.as_str() {
        "customers.csv" => s.app.export_customers(&user.actor, &mut buf, words.as_ref()).await.map_err(err)?,
        "orders.csv" => s.app.export_orders(&user.actor, &mut buf, words.as_ref()).await.map_err(err)?,
        _ => return Err(err(AppError::NotFound("export"))),
    };
    Ok(crate::api::csv_download(&kind, buf))
}
