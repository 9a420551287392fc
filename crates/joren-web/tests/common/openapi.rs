//! Every JSON answer a test gets from `/api/v1` is checked against what openapi.json says that
//! answer looks like (method, path, status): a test that meets an answer its document does not
//! describe fails, so the document cannot drift from the code. With `JOREN_RECORD_API=<file>`
//! set, answers whose response has no schema yet are appended to the file (JSON lines) for
//! `scripts/openapi_schemas.py` to describe.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::Value;

fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json is JSON"))
}

/// The documented path template of a concrete API path (`/customers/12/points` →
/// `/customers/{id}/points`), preferring literal segments over parameters.
pub fn template(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&'static str, usize)> = None;
    for t in doc()["paths"].as_object()?.keys() {
        let parts: Vec<&str> = t.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                true
            } else {
                literal += 1;
                p == s
            }
        });
        if fits && best.is_none_or(|(_, n)| literal > n) {
            best = Some((t.as_str(), literal));
        }
    }
    best.map(|b| b.0)
}

/// Checks a 2xx JSON answer against its documented schema; panics naming the first mismatch.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    if !(200..300).contains(&status) || status == 204 || body.is_null() {
        return;
    }
    let Some(t) = template(path) else { return };
    let response = &doc()["paths"][t][method.to_lowercase()]["responses"][status.to_string()];
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        if let Ok(file) = std::env::var("JOREN_RECORD_API") {
            let line = serde_json::json!({"method": method.to_lowercase(), "path": t, "status": status.to_string(), "body": body});
            // One line at a time: the tests of a binary run on several threads.
            static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _turn = WRITING.lock().unwrap_or_else(|e| e.into_inner());
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(file).unwrap();
            f.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        return;
    }
    if let Err(e) = matches(schema, body, "$") {
        panic!("{method} {path} → {status}: the answer does not match openapi.json ({t}): {e}\n{body}");
    }
}

fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => resolve(&doc()["components"]["schemas"][name]),
        None => schema,
    }
}

/// Whether `v` fits `schema` as far as these keywords go: type (one or a list), properties,
/// required, items, enum, oneOf/anyOf.
fn matches(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(schema);
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return if options.iter().any(|o| matches(o, v, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: fits none of its choices"))
        };
    }
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = allowed.is_empty() || allowed.contains(&kind) || (kind == "integer" && allowed.contains(&"number"));
    if !fits {
        return Err(format!("{at} is {kind}, documented as {allowed:?}"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(v)
    {
        return Err(format!("{at} = {v} is not one of {options:?}"));
    }
    if let Value::Object(o) = v {
        for r in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !o.contains_key(r) {
                return Err(format!("{at}.{r} is documented as required but missing"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, s) in props {
                if let Some(x) = o.get(k) {
                    matches(s, x, &format!("{at}.{k}"))?;
                }
            }
        }
    }
    if let (Value::Array(items), false) = (v, schema["items"].is_null()) {
        for (i, x) in items.iter().enumerate() {
            matches(&schema["items"], x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
