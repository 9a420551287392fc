//! What a settings-style form shows: each field's value (as stored, or as typed when the form
//! came back refused) and each field's error, worded for the reader. Templates read it as
//! `f.v("name")`, `f.err("name")`, `f.is("mode", "smtp")`.

use std::collections::HashMap;

use joren_core::FieldError;

use crate::i18n::Tr;

#[derive(Default)]
pub(crate) struct FormState {
    pub values: HashMap<&'static str, String>,
    pub errors: HashMap<String, String>,
}

impl FormState {
    pub(crate) fn new(values: impl IntoIterator<Item = (&'static str, String)>) -> Self {
        Self { values: values.into_iter().collect(), errors: HashMap::new() }
    }

    /// The field's value ("" when it has none).
    pub(crate) fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or_default()
    }

    /// The field's error ("" when it has none).
    pub(crate) fn err(&self, k: impl AsRef<str>) -> &str {
        self.errors.get(k.as_ref()).map(String::as_str).unwrap_or_default()
    }

    pub(crate) fn is(&self, k: &str, v: &str) -> bool {
        self.v(k) == v
    }

    /// Puts each refusal beside its field, worded for the reader (the first one a field got).
    pub(crate) fn refuse(&mut self, errors: &[FieldError], t: Tr) {
        for e in errors {
            self.errors.entry(e.field.clone()).or_insert_with(|| crate::i18n::errors::field_error(e, t.0));
        }
    }
}
