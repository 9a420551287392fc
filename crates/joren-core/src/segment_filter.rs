//! The segment filter language: conditions on customer attributes and metrics combined with
//! AND (`all`) / OR (`any`) groups, parsed from JSON into a checked tree. The store turns the
//! tree into SQL with every value bound as a parameter — filters are never pasted into SQL.
//!
//! ```json
//! {"all": [
//!   {"field": "segment", "op": "in", "value": ["dormant", "at_risk"]},
//!   {"any": [{"field": "p_alive", "op": "lt", "value": 0.3},
//!            {"field": "total_spent", "op": "gte", "value": 50000}]}
//! ]}
//! ```

use serde_json::Value;

use crate::FieldError;

/// What a field holds, which decides the operators and values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    Text,
    Flag,
    /// A list of text values (tags): `contains`.
    TextList,
    /// Purchased a product category (`eq` / `in`): true when any line item matches.
    Category,
}

/// Fields a filter may use: (name, kind).
pub const FIELDS: &[(&str, Kind)] = &[
    ("segment", Kind::Text),
    ("churn_band", Kind::Text),
    ("churn_score", Kind::Number),
    ("p_alive", Kind::Number),
    ("clv_12m", Kind::Number),
    ("expected_purchases_90d", Kind::Number),
    ("recency_days", Kind::Number),
    ("frequency", Kind::Number),
    ("total_spent", Kind::Number),
    ("birthday_month", Kind::Number),
    ("prefecture", Kind::Text),
    ("acquisition_source", Kind::Text),
    ("acquisition_campaign", Kind::Text),
    ("owner_user_id", Kind::Number),
    ("tags", Kind::TextList),
    ("purchased_category", Kind::Category),
    ("consent_email", Kind::Flag),
    ("consent_sms", Kind::Flag),
    ("consent_line", Kind::Flag),
    ("consent_dm", Kind::Flag),
];

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Contains,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "in" => Self::In,
            "contains" => Self::Contains,
            _ => return None,
        })
    }

    /// The SQL comparison for scalar operators.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Lte => "<=",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::In | Self::Contains => "",
        }
    }
}

/// A checked value.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Text(String),
    Flag(bool),
    Texts(Vec<String>),
    Numbers(Vec<f64>),
}

/// A checked filter tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Condition { field: &'static str, kind: Kind, op: Op, value: Operand },
}

/// Nesting depth and size limits: a filter is a human-made thing.
const MAX_DEPTH: usize = 6;
const MAX_CONDITIONS: usize = 100;

/// Parses and checks a filter; errors name the place, e.g. `filter.all[1].any[0].op`.
pub fn parse(v: &Value) -> Result<Filter, FieldError> {
    let mut count = 0;
    parse_at(v, "filter", 0, &mut count)
}

fn parse_at(v: &Value, path: &str, depth: usize, count: &mut usize) -> Result<Filter, FieldError> {
    let err = |p: &str, m: String| FieldError::new(p, m);
    if depth > MAX_DEPTH {
        return Err(err(path, format!("groups may nest at most {MAX_DEPTH} deep")));
    }
    let Some(obj) = v.as_object() else { return Err(err(path, "an object is expected".into())) };
    for (group, is_all) in [("all", true), ("any", false)] {
        if let Some(list) = obj.get(group) {
            if obj.len() != 1 {
                return Err(err(path, format!("`{group}` must be the only key of its object")));
            }
            let Some(items) = list.as_array() else { return Err(err(path, format!("`{group}` takes a list"))) };
            if items.is_empty() {
                return Err(err(&format!("{path}.{group}"), "an empty group matches nothing useful".into()));
            }
            let parts = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_at(item, &format!("{path}.{group}[{i}]"), depth + 1, count))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if is_all { Filter::All(parts) } else { Filter::Any(parts) });
        }
    }
    *count += 1;
    if *count > MAX_CONDITIONS {
        return Err(err(path, format!("at most {MAX_CONDITIONS} conditions")));
    }
    for key in obj.keys() {
        if !matches!(key.as_str(), "field" | "op" | "value") {
            return Err(err(&format!("{path}.{key}"), "unknown key (use field, op, value, or all/any)".into()));
        }
    }
    let name =
        obj.get("field").and_then(Value::as_str).ok_or_else(|| err(&format!("{path}.field"), "missing".into()))?;
    let Some(&(field, kind)) = FIELDS.iter().find(|(f, _)| *f == name) else {
        let names: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
        return Err(err(&format!("{path}.field"), format!("unknown field {name} (fields: {})", names.join(", "))));
    };
    let op_text = obj.get("op").and_then(Value::as_str).ok_or_else(|| err(&format!("{path}.op"), "missing".into()))?;
    let op = Op::parse(op_text).ok_or_else(|| err(&format!("{path}.op"), format!("unknown operator {op_text}")))?;
    let value = obj.get("value").ok_or_else(|| err(&format!("{path}.value"), "missing".into()))?;
    let vpath = format!("{path}.value");
    let bad = |what: &str| err(&vpath, format!("{field} {op_text} needs {what}"));
    let texts = |v: &Value| -> Option<Vec<String>> {
        let a = v.as_array()?;
        let t: Option<Vec<String>> = a.iter().map(|x| x.as_str().map(str::to_string)).collect();
        t.filter(|t| !t.is_empty() && t.len() <= 100)
    };
    let operand = match (kind, op) {
        (Kind::Number, Op::In) => {
            let a = value.as_array().ok_or_else(|| bad("a list of numbers"))?;
            let n: Option<Vec<f64>> = a.iter().map(Value::as_f64).collect();
            Operand::Numbers(n.filter(|n| !n.is_empty() && n.len() <= 100).ok_or_else(|| bad("a list of numbers"))?)
        }
        (Kind::Number, Op::Contains) => {
            return Err(err(&format!("{path}.op"), format!("{field} is a number: use eq, ne, lt, lte, gt, gte or in")));
        }
        (Kind::Number, _) => Operand::Number(value.as_f64().ok_or_else(|| bad("a number"))?),
        (Kind::Text, Op::In) => Operand::Texts(texts(value).ok_or_else(|| bad("a list of texts"))?),
        (Kind::Text, Op::Eq | Op::Ne) => Operand::Text(value.as_str().ok_or_else(|| bad("a text"))?.to_string()),
        (Kind::Text, _) => return Err(err(&format!("{path}.op"), format!("{field} takes eq, ne or in"))),
        (Kind::Flag, Op::Eq) => Operand::Flag(value.as_bool().ok_or_else(|| bad("true or false"))?),
        (Kind::Flag, _) => return Err(err(&format!("{path}.op"), format!("{field} takes eq"))),
        (Kind::TextList, Op::Contains) => Operand::Text(value.as_str().ok_or_else(|| bad("a text"))?.to_string()),
        (Kind::TextList, _) => return Err(err(&format!("{path}.op"), format!("{field} takes contains"))),
        (Kind::Category, Op::Eq) => Operand::Text(value.as_str().ok_or_else(|| bad("a text"))?.to_string()),
        (Kind::Category, Op::In) => Operand::Texts(texts(value).ok_or_else(|| bad("a list of texts"))?),
        (Kind::Category, _) => return Err(err(&format!("{path}.op"), format!("{field} takes eq or in"))),
    };
    Ok(Filter::Condition { field, kind, op, value: operand })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_groups_parse_into_a_tree() {
        let f = parse(&json!({"all": [
            {"field": "segment", "op": "in", "value": ["dormant", "at_risk"]},
            {"any": [{"field": "p_alive", "op": "lt", "value": 0.3}, {"field": "consent_email", "op": "eq", "value": true}]}
        ]}))
        .unwrap();
        let Filter::All(parts) = f else { panic!() };
        assert_eq!(parts.len(), 2);
        assert!(matches!(&parts[1], Filter::Any(x) if x.len() == 2));
        assert_eq!(
            parts[0],
            Filter::Condition {
                field: "segment",
                kind: Kind::Text,
                op: Op::In,
                value: Operand::Texts(vec!["dormant".into(), "at_risk".into()])
            }
        );
    }

    #[test]
    fn mistakes_are_named_by_their_place() {
        let e = |v: Value| parse(&v).unwrap_err();
        let x = e(
            json!({"all": [{"field": "p_alive", "op": "lt", "value": 0.3}, {"any": [{"field": "nope", "op": "eq", "value": 1}]}]}),
        );
        assert_eq!(x.field, "filter.all[1].any[0].field");
        assert!(x.message.contains("unknown field nope"));
        assert_eq!(e(json!({"field": "p_alive", "op": "like", "value": 1})).field, "filter.op");
        assert_eq!(
            e(json!({"field": "p_alive", "op": "lt", "value": "0.3; DROP TABLE customers"})).field,
            "filter.value"
        );
        assert_eq!(e(json!({"field": "tags", "op": "eq", "value": "VIP"})).field, "filter.op");
        assert_eq!(e(json!({"all": []})).field, "filter.all");
        assert_eq!(e(json!({"all": [], "any": []})).field, "filter");
        assert_eq!(e(json!({"field": "segment", "op": "eq", "value": "x", "extra": 1})).field, "filter.extra");
        assert_eq!(e(json!([1])).field, "filter");
        let mut deep = json!({"field": "frequency", "op": "gte", "value": 2});
        for _ in 0..8 {
            deep = json!({"all": [deep]});
        }
        assert!(e(deep).message.contains("nest"));
    }
}
