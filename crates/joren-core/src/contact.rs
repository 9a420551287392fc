//! Contact persons (担当者) of a company account.

use serde::{Deserialize, Serialize};

use crate::customer::normalize_email;
use crate::kana::normalize_kana;
use crate::phone::normalize_phone;
use crate::{FieldError, FieldErrors};

/// A validated contact person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactProfile {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub department: String,
    pub role: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub line_user_id: Option<String>,
    pub notes: String,
}

impl ContactProfile {
    /// `営業部 部長 鈴木 一郎 様`: department and title before the name, 様 after it.
    pub fn display_name(&self) -> String {
        let name = crate::customer::display_name(
            crate::customer::CustomerKind::Person,
            &self.family_name,
            &self.given_name,
            "",
        );
        [self.department.as_str(), self.role.as_str(), name.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Contact person fields as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub family_name: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name_kana: String,
    #[serde(default)]
    pub given_name_kana: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub line_user_id: String,
    #[serde(default)]
    pub notes: String,
}

impl ContactInput {
    pub fn validate(self) -> Result<ContactProfile, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.family_name.trim().is_empty() {
            errors.push("family_name", crate::Code::Required);
        }
        let kana = |errors: &mut FieldErrors, field: &str, v: &str| -> String {
            if v.trim().is_empty() { String::new() } else { errors.take(normalize_kana(field, v)).unwrap_or_default() }
        };
        let maybe =
            |errors: &mut FieldErrors, field: &str, v: &str, f: fn(&str, &str) -> Result<String, FieldError>| {
                if v.trim().is_empty() { None } else { errors.take(f(field, v)) }
            };
        let p = ContactProfile {
            family_name: self.family_name.trim().to_string(),
            given_name: self.given_name.trim().to_string(),
            family_name_kana: kana(&mut errors, "family_name_kana", &self.family_name_kana),
            given_name_kana: kana(&mut errors, "given_name_kana", &self.given_name_kana),
            department: self.department.trim().to_string(),
            role: self.role.trim().to_string(),
            email: maybe(&mut errors, "email", &self.email, normalize_email),
            phone: maybe(&mut errors, "phone", &self.phone, normalize_phone),
            line_user_id: Some(self.line_user_id.trim().to_string()).filter(|s| !s.is_empty()),
            notes: self.notes.trim().to_string(),
        };
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_display_puts_title_before_name() {
        let c = ContactInput {
            family_name: "鈴木".into(),
            given_name: "一郎".into(),
            department: "営業部".into(),
            role: "部長".into(),
            phone: "03-1234-5678".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.display_name(), "営業部 部長 鈴木 一郎 様");
        assert_eq!(c.phone.as_deref(), Some("+81312345678"));
    }

    #[test]
    fn contact_needs_a_family_name() {
        let e = ContactInput::default().validate().unwrap_err();
        assert_eq!(e.0[0].field, "family_name");
    }
}
