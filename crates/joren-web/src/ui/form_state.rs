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

/// A refused form that belongs to one row of a page — one 回数券's "use" or "refund" form,
/// one membership's cancel form — as typed, with its problems beside its fields and a problem
/// no field is to blame for (the ticket was used up meanwhile) under the key `"form"`.
#[derive(Default)]
pub(crate) struct RowForm {
    /// Which form (`"ticket-use"`, `"membership-cancel"`…); "" when none came back refused.
    pub form: &'static str,
    /// The row's id (0 for a form not tied to a row, such as "sell a ticket").
    pub id: i64,
    pub state: FormState,
    /// Refused because of the row's state rather than what was typed (409, not 422).
    pub conflict: bool,
}

impl RowForm {
    /// The row form `form` for row `id`, as typed in `values`, refused with `e`: field errors
    /// beside the fields the form has (any other under `"form"`), any other error under
    /// `"form"`.
    pub(crate) fn refused(
        form: &'static str,
        id: i64,
        values: impl IntoIterator<Item = (&'static str, String)>,
        e: &joren_app::AppError,
        t: Tr,
    ) -> Self {
        let mut state = FormState::new(values);
        let conflict = !matches!(e, joren_app::AppError::Validation(_));
        match e {
            joren_app::AppError::Validation(v) => {
                for fe in &v.0 {
                    let field = if state.values.contains_key(fe.field.as_str()) { fe.field.as_str() } else { "form" };
                    state.errors.entry(field.to_string()).or_insert_with(|| crate::i18n::errors::field_error(fe, t.0));
                }
            }
            other => {
                state.errors.insert("form".into(), crate::i18n::errors::app_error(other, t.0));
            }
        }
        Self { form, id, state, conflict }
    }

    /// Whether this is the refused form `form` of row `id`.
    /// (`id` by value or by reference: templates' macros pass their arguments by reference.)
    pub(crate) fn is(&self, form: &str, id: impl std::borrow::Borrow<i64>) -> bool {
        self.form == form && self.id == *id.borrow()
    }

    /// Field `k` of form `form` in row `id`: as typed if that form came back refused, else "".
    pub(crate) fn v(&self, form: &str, id: impl std::borrow::Borrow<i64>, k: &str) -> &str {
        if self.is(form, id) { self.state.v(k) } else { "" }
    }

    /// The problem with field `k` (or `"form"`) of form `form` in row `id`, else "".
    pub(crate) fn err(&self, form: &str, id: impl std::borrow::Borrow<i64>, k: &str) -> &str {
        if self.is(form, id) { self.state.err(k) } else { "" }
    }
}
