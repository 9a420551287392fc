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
    use crate::Code;
    let err = |p: &str, code: Code| FieldError::new(p, code);
    if depth > MAX_DEPTH {
        return Err(err(path, Code::FilterTooDeep).arg(MAX_DEPTH));
    }
    let Some(obj) = v.as_object() else { return Err(err(path, Code::FilterNotObject)) };
    for (group, is_all) in [("all", true), ("any", false)] {
        if let Some(list) = obj.get(group) {
            if obj.len() != 1 {
                return Err(err(path, Code::FilterGroupAlone).arg(group));
            }
            let Some(items) = list.as_array() else { return Err(err(path, Code::FilterGroupList).arg(group)) };
            if items.is_empty() {
                return Err(err(&format!("{path}.{group}"), Code::FilterEmptyGroup));
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
        return Err(err(path, Code::TooMany).arg(MAX_CONDITIONS));
    }
    for key in obj.keys() {
        if !matches!(key.as_str(), "field" | "op" | "value") {
            return Err(err(&format!("{path}.{key}"), Code::FilterUnknownKey).arg(key));
        }
    }
    let name = obj.get("field").and_then(Value::as_str).ok_or_else(|| err(&format!("{path}.field"), Code::Required))?;
    let Some(&(field, kind)) = FIELDS.iter().find(|(f, _)| *f == name) else {
        let names: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
        return Err(err(&format!("{path}.field"), Code::FilterUnknownField).arg(name).arg(names.join(", ")));
    };
    let op_text = obj.get("op").and_then(Value::as_str).ok_or_else(|| err(&format!("{path}.op"), Code::Required))?;
    let op = Op::parse(op_text).ok_or_else(|| err(&format!("{path}.op"), Code::FilterUnknownOp).arg(op_text))?;
    let value = obj.get("value").ok_or_else(|| err(&format!("{path}.value"), Code::Required))?;
    let vpath = format!("{path}.value");
    // What the value must be, as a word key the web layer words (`@segf.value.number`, …).
    let bad = |what: &str| err(&vpath, Code::FilterValue).arg(field).arg(op_text).arg(format!("@segf.value.{what}"));
    let texts = |v: &Value| -> Option<Vec<String>> {
        let a = v.as_array()?;
        let t: Option<Vec<String>> = a.iter().map(|x| x.as_str().map(str::to_string)).collect();
        t.filter(|t| !t.is_empty() && t.len() <= 100)
    };
    let operand = match (kind, op) {
        (Kind::Number, Op::In) => {
            let a = value.as_array().ok_or_else(|| bad("numbers"))?;
            let n: Option<Vec<f64>> = a.iter().map(Value::as_f64).collect();
            Operand::Numbers(n.filter(|n| !n.is_empty() && n.len() <= 100).ok_or_else(|| bad("numbers"))?)
        }
        (Kind::Number, Op::Contains) => {
            return Err(err(&format!("{path}.op"), Code::FilterOps).arg(field).arg("eq, ne, lt, lte, gt, gte, in"));
        }
        (Kind::Number, _) => Operand::Number(value.as_f64().ok_or_else(|| bad("number"))?),
        (Kind::Text, Op::In) => Operand::Texts(texts(value).ok_or_else(|| bad("texts"))?),
        (Kind::Text, Op::Eq | Op::Ne) => Operand::Text(value.as_str().ok_or_else(|| bad("text"))?.to_string()),
        (Kind::Text, _) => return Err(err(&format!("{path}.op"), Code::FilterOps).arg(field).arg("eq, ne, in")),
        (Kind::Flag, Op::Eq) => Operand::Flag(value.as_bool().ok_or_else(|| bad("flag"))?),
        (Kind::Flag, _) => return Err(err(&format!("{path}.op"), Code::FilterOps).arg(field).arg("eq")),
        (Kind::TextList, Op::Contains) => Operand::Text(value.as_str().ok_or_else(|| bad("text"))?.to_string()),
        (Kind::TextList, _) => return Err(err(&format!("{path}.op"), Code::FilterOps).arg(field).arg("contains")),
        (Kind::Category, Op::Eq) => Operand::Text(value.as_str().ok_or_else(|| bad("text"))?.to_string()),
        (Kind::Category, Op::In) => Operand::Texts(texts(value).ok_or_else(|| bad("texts"))?),
        (Kind::Category, _) => return Err(err(&format!("{path}.op"), Code::FilterOps).arg(field).arg("eq, in")),
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
        assert_eq!((x.code, x.args[0].as_str()), (crate::Code::FilterUnknownField, "nope"));
        assert_eq!(e(json!({"field": "p_alive", "op": "like", "value": 1})).field, "filter.op");
        assert_eq!(
            e(json!({"field": "p_alive", "op": "lt", "value": "0.3; DROP TABLE customers"})).field,
            "filter.value"
        );
        let ops = e(json!({"field": "tags", "op": "eq", "value": "VIP"}));
        assert_eq!(
            (ops.field.as_str(), ops.code, ops.args.clone()),
            ("filter.op", crate::Code::FilterOps, vec!["tags".into(), "contains".into()])
        );
        let value = e(json!({"field": "p_alive", "op": "lt", "value": "x"}));
        assert_eq!((value.code, value.args[2].as_str()), (crate::Code::FilterValue, "@segf.value.number"));
        assert_eq!(e(json!({"all": []})).field, "filter.all");
        assert_eq!(e(json!({"all": [], "any": []})).field, "filter");
        assert_eq!(e(json!({"field": "segment", "op": "eq", "value": "x", "extra": 1})).field, "filter.extra");
        assert_eq!(e(json!([1])).field, "filter");
        let mut deep = json!({"field": "frequency", "op": "gte", "value": 2});
        for _ in 0..8 {
            deep = json!({"all": [deep]});
        }
        assert_eq!(e(deep).code, crate::Code::FilterTooDeep);
    }

    mod fuzz {
        //! Property tests: any JSON — mostly filter-shaped, with the real vocabulary and wrong
        //! types, depths and sizes — parses or is refused at a named place, never panics; and
        //! every well-formed filter parses back into the tree it was made from.
        use proptest::prelude::*;
        use serde_json::{Map, Value, json};

        use super::super::*;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => Just("all".to_string()),
                4 => Just("any".to_string()),
                6 => Just("field".to_string()),
                6 => Just("op".to_string()),
                6 => Just("value".to_string()),
                1 => "[a-z]{1,6}",
            ]
        }

        fn leaf() -> impl Strategy<Value = Value> {
            let field = prop::sample::select(FIELDS.iter().map(|f| f.0).collect::<Vec<_>>());
            let op = prop::sample::select(vec!["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "like"]);
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                (-1e12f64..1e12).prop_map(|n| json!(n)),
                field.prop_map(|f| json!(f)),
                op.prop_map(|o| json!(o)),
                "\\PC{0,12}".prop_map(Value::String),
            ]
        }

        fn any_json() -> impl Strategy<Value = Value> {
            leaf().prop_recursive(9, 160, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::vec((key(), inner), 0..4)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
                ]
            })
        }

        /// A well-formed condition for each kind of field, with its JSON.
        fn condition() -> impl Strategy<Value = (Value, Filter)> {
            (0..FIELDS.len(), any::<bool>(), -1e9f64..1e9, "[a-z0-9]{1,8}", any::<bool>()).prop_map(
                |(i, pick, n, t, b)| {
                    let (field, kind) = FIELDS[i];
                    let (op, op_text, value, operand) = match kind {
                        Kind::Number if pick => (Op::In, "in", json!([n, n + 1.0]), Operand::Numbers(vec![n, n + 1.0])),
                        Kind::Number => (Op::Gte, "gte", json!(n), Operand::Number(n)),
                        Kind::Text | Kind::Category if pick => {
                            (Op::In, "in", json!([t.clone()]), Operand::Texts(vec![t.clone()]))
                        }
                        Kind::Text | Kind::Category => (Op::Eq, "eq", json!(t.clone()), Operand::Text(t.clone())),
                        Kind::Flag => (Op::Eq, "eq", json!(b), Operand::Flag(b)),
                        Kind::TextList => (Op::Contains, "contains", json!(t.clone()), Operand::Text(t.clone())),
                    };
                    (
                        json!({"field": field, "op": op_text, "value": value}),
                        Filter::Condition { field, kind, op, value: operand },
                    )
                },
            )
        }

        fn well_formed() -> impl Strategy<Value = (Value, Filter)> {
            condition().prop_recursive(MAX_DEPTH as u32, 60, 4, |inner| {
                (any::<bool>(), prop::collection::vec(inner, 1..4)).prop_map(|(all, parts)| {
                    let (json, trees): (Vec<Value>, Vec<Filter>) = parts.into_iter().unzip();
                    if all {
                        (json!({ "all": json }), Filter::All(trees))
                    } else {
                        (json!({ "any": json }), Filter::Any(trees))
                    }
                })
            })
        }

        /// Depth in groups and number of conditions of a parsed tree.
        fn shape(f: &Filter) -> (usize, usize) {
            match f {
                Filter::Condition { .. } => (0, 1),
                Filter::All(parts) | Filter::Any(parts) => {
                    let shapes: Vec<_> = parts.iter().map(shape).collect();
                    (1 + shapes.iter().map(|s| s.0).max().unwrap_or(0), shapes.iter().map(|s| s.1).sum())
                }
            }
        }

        fn conditions_are_checked(f: &Filter) -> bool {
            match f {
                Filter::All(parts) | Filter::Any(parts) => {
                    !parts.is_empty() && parts.iter().all(conditions_are_checked)
                }
                Filter::Condition { field, kind, op, value } => {
                    FIELDS.contains(&(*field, *kind))
                        && matches!(
                            (kind, op, value),
                            (Kind::Number, Op::In, Operand::Numbers(_))
                                | (
                                    Kind::Number,
                                    Op::Eq | Op::Ne | Op::Lt | Op::Lte | Op::Gt | Op::Gte,
                                    Operand::Number(_)
                                )
                                | (Kind::Text, Op::Eq | Op::Ne, Operand::Text(_))
                                | (Kind::Text | Kind::Category, Op::In, Operand::Texts(_))
                                | (Kind::Flag, Op::Eq, Operand::Flag(_))
                                | (Kind::TextList, Op::Contains, Operand::Text(_))
                                | (Kind::Category, Op::Eq, Operand::Text(_))
                        )
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_json_parses_into_a_checked_tree_or_is_refused_at_a_named_place(v in any_json()) {
                match parse(&v) {
                    Ok(f) => {
                        let (depth, count) = shape(&f);
                        prop_assert!(depth <= MAX_DEPTH + 1, "depth {depth}");
                        prop_assert!(count <= MAX_CONDITIONS, "{count} conditions");
                        prop_assert!(conditions_are_checked(&f), "{f:?}");
                    }
                    Err(e) => {
                        prop_assert!(e.field.starts_with("filter"), "{e:?}");
                        // Refused by one of the filter's rules, each with its own code.
                        prop_assert!(e.code.as_str().starts_with("filter_") || matches!(e.code, crate::Code::Required | crate::Code::TooMany), "{e:?}");
                    }
                }
            }

            #[test]
            fn a_well_formed_filter_parses_back_into_its_tree((v, tree) in well_formed()) {
                prop_assert_eq!(parse(&v).expect("well formed"), tree);
            }
        }
    }
}
