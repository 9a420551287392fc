//! Joren's domain types and rules. No I/O lives here: everything is a pure function or a
//! value type, unit-tested directly.

pub mod address;
pub mod business_hours;
pub mod case;
pub mod checklist;
pub mod contact;
pub mod csv_safety;
pub mod customer;
pub mod dates;
pub mod error;
pub mod event;
pub mod fingerprint;
pub mod kana;
pub mod line;
pub mod membership;
pub mod money;
pub mod order;
pub mod perk;
pub mod phone;
pub mod points;
pub mod postal;
pub mod postcodes;
pub mod product;
pub mod programme;
pub mod rank;
pub mod referral;
pub mod reply_text;
pub mod retry;
pub mod role;
pub mod scenario;
pub mod secret;
pub mod segment_filter;
pub mod sms;
pub mod success;
pub mod survey;
pub mod template;
pub mod text;
pub mod ticket;
pub mod time;

pub use error::{Code, FieldError, FieldErrors, Problem};
