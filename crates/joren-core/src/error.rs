//! Errors that name what is wrong with a code, not a sentence: the lower layers say *which* rule
//! refused an input (a [`Code`] and the values the rule names), and the web layer words it in the
//! reader's language (`joren_web::i18n::errors`). So the English pages never show Japanese error
//! text, and an API client can act on the code.

use std::fmt;

/// Declares [`Code`] from one list: each variant with the stable name an API client reads,
/// so the enum, [`Code::as_str`] and [`Code::ALL`] cannot disagree.
macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $name:ident => $code:literal, )*) => {
        /// Why an input was refused. Each code is worded in Japanese and English by the web layer; the
        /// values it names travel beside it as [`FieldError::args`] (the order is given on each code).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Code {
            /// Every code (for tests that check each one is worded and named).
            pub const ALL: &[Code] = &[$(Code::$name,)*];

            /// The stable code an API client reads (`snake_case`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $code,)*
                }
            }
        }
    };
}

codes! {
    // --- generic rules ---
    /// Empty where a value is needed.
    Required => "required",
    /// Nothing chosen where a choice is needed.
    Choose => "choose",
    /// Longer than allowed: `[max, now]` characters.
    TooLong => "too_long",
    /// A length outside `[min, max]` characters.
    LengthRange => "length_range",
    /// More items than allowed: `[max]`.
    TooMany => "too_many",
    /// A number outside `[min, max]`.
    Range => "range",
    /// A key (letters, digits, `_`, at most 40) that is not one: `[what was given]`.
    BadKey => "bad_key",
    /// The same value twice where each must be different: `[value]`.
    Duplicate => "duplicate",
    /// A number of days outside `[min, max]`.
    RangeDays => "range_days",
    /// A number of months outside `[min, max]`.
    RangeMonths => "range_months",
    /// A percentage outside `[min, max]`.
    RangePercent => "range_percent",
    /// An amount of yen outside `[min, max]`.
    RangeYen => "range_yen",
    /// A count of times (visits, reviews) outside `[min, max]`.
    RangeTimes => "range_times",
    /// A number of minutes outside `[min, max]`.
    RangeMinutes => "range_minutes",
    /// A value not among those allowed: `[value, allowed]`.
    NotOneOf => "not_one_of",
    /// Control characters such as NUL.
    ControlChars => "control_chars",
    /// Not a host name: `[input]`.
    BadHost => "bad_host",
    // --- formats: `[input]` ---
    BadEmail => "bad_email",
    BadPhone => "bad_phone",
    NoSuchPhoneNumber => "no_such_phone_number",
    BadPostalCode => "bad_postal_code",
    BadPrefecture => "bad_prefecture",
    BadDate => "bad_date",
    BadDateTime => "bad_date_time",
    // --- notes: input read and changed, not refused ---
    /// A postal code that lost its leading zero (Excel), padded: `[input, stored]`.
    PostalPadded => "postal_padded",
    /// A name holding 株式会社/(株)/… taken as a company: `[name]`.
    CompanyDetected => "company_detected",
    /// A one-line address split into its parts: `[input]`.
    AddressSplit => "address_split",
    /// 都道府県 and 市区町村 (and the 町域) filled from the postal code: `[postal code, address]`.
    AddressFromPostcode => "address_from_postcode",
    /// Not `HH:MM`.
    BadTime => "bad_time",
    BadWeekday => "bad_weekday",
    /// Not katakana: `[the character]`.
    BadKana => "bad_kana",
    /// An amount that cannot be read: `[input]`.
    BadAmount => "bad_amount",
    /// An amount with more decimals than its currency has: `[input]`.
    AmountDecimals => "amount_decimals",
    BadCurrency => "bad_currency",
    BadNumber => "bad_number",
    /// Not yes/no: `[input]`.
    BadYesNo => "bad_yes_no",
    /// JSON that cannot be read: `[detail]`.
    BadJson => "bad_json",
    /// A segment filter that cannot be used: `[detail]` (English, for developers).
    BadFilter => "bad_filter",
    /// Segment filters, each named by its place (`filter.all[1].op`): nested deeper than `[max]`.
    FilterTooDeep => "filter_too_deep",
    FilterNotObject => "filter_not_object",
    /// `all`/`any` beside other keys: `[group]`.
    FilterGroupAlone => "filter_group_alone",
    /// `all`/`any` not holding a list: `[group]`.
    FilterGroupList => "filter_group_list",
    FilterEmptyGroup => "filter_empty_group",
    /// `[key]`
    FilterUnknownKey => "filter_unknown_key",
    /// `[name, fields]`
    FilterUnknownField => "filter_unknown_field",
    /// `[op]`
    FilterUnknownOp => "filter_unknown_op",
    /// The operator does not suit the field: `[field, operators it takes]`.
    FilterOps => "filter_ops",
    /// The value does not suit the field and operator: `[field, op, what it must be]` (the last
    /// a word key: `@segf.value.number`, `…numbers`, `…text`, `…texts`, `…flag`).
    FilterValue => "filter_value",
    // --- dates ---
    /// Before the earliest date accepted: `[earliest]`.
    DateTooEarly => "date_too_early",
    DateInFuture => "date_in_future",
    DateInPast => "date_in_past",
    StartAfterEnd => "start_after_end",
    /// A month and day that is no date: `[month, day]`.
    NoSuchDay => "no_such_day",
    // --- things that do not exist ---
    NoSuchCustomer => "no_such_customer",
    /// `[id]`
    NoSuchUser => "no_such_user",
    /// `[id]`
    UserDisabled => "user_disabled",
    /// `[name or level]`
    NoSuchRank => "no_such_rank",
    /// `[id]`
    NoSuchPlan => "no_such_plan",
    /// `[id]`
    NoSuchProduct => "no_such_product",
    /// Items and an amount together: `[amount]`.
    ItemsOrAmount => "items_or_amount",
    /// A saved segment: `[id]`.
    NoSuchSegment => "no_such_segment",
    /// An RFM segment code: `[code]`.
    NoSuchRfmSegment => "no_such_rfm_segment",
    NoSuchScenario => "no_such_scenario",
    NotThisCustomersOrder => "not_this_customers_order",
    /// The customer was merged into another: `[survivor id]`.
    CustomerMerged => "customer_merged",
    // --- customers ---
    NeedNameOrContact => "need_name_or_contact",
    NeedCompanyName => "need_company_name",
    NeedSystemAndId => "need_system_and_id",
    /// An external id already on another customer: `[system, id, customer]`.
    ExternalIdTaken => "external_id_taken",
    MergeIntoItself => "merge_into_itself",
    AlreadyMerged => "already_merged",
    /// A LINE user already linked to another customer: `[customer id]`.
    LineUserTaken => "line_user_taken",
    /// Not a LINE user id (`U` and 32 hex digits): `[what was given]`.
    BadLineUserId => "bad_line_user_id",
    /// No LINE user is linked to the customer, or they blocked the account.
    NoLineUser => "no_line_user",
    /// No mobile number on the customer, or they replied STOP to SMS.
    NoSmsPhone => "no_sms_phone",
    /// An SMS text longer than `[most characters, segments it would take]`.
    SmsTooLong => "sms_too_long",
    /// A LINE card or one-tap answers given for a text or a mail.
    LineOnly => "line_only",
    /// The customer has no email address to answer at.
    NoEmailAddress => "no_email_address",
    // --- surveys ---
    /// An archived survey cannot be sent.
    SurveyArchived => "survey_archived",
    /// A survey link already answered.
    SurveyAnswered => "survey_answered",
    /// A survey link past its date.
    SurveyExpired => "survey_expired",
    // --- cases ---
    /// A case's steps are taken in order: `[the next step]` (`closed` when none is left).
    CaseStepOrder => "case_step_order",
    // --- referrals ---
    /// The referral programme is switched off.
    ReferralsOff => "referrals_off",
    /// No customer has this referral code: `[the code as typed]`.
    UnknownReferralCode => "unknown_referral_code",
    /// A customer referred by themselves (the field that matched is named).
    SelfReferral => "self_referral",
    /// The customer was referred already: `[by whom]`.
    AlreadyReferred => "already_referred",
    /// Only a customer without orders can be referred.
    NotNewCustomer => "not_new_customer",
    /// Not an address a LINE card can use (`https://…` for an image, `http(s)://…` for a
    /// button): `[what was given]`.
    BadUrl => "bad_url",
    // --- orders ---
    NeedItems => "need_items",
    /// A line's quantity × price above `[max]`.
    LineAmountTooLarge => "line_amount_too_large",
    DiscountOverTotal => "discount_over_total",
    RefundCancelled => "refund_cancelled",
    /// A refund above what is left: `[remaining]`.
    RefundOverRemaining => "refund_over_remaining",
    // --- points, ranks, programme ---
    RanksDisabled => "ranks_disabled",
    FirstTierZero => "first_tier_zero",
    TierNameTaken => "tier_name_taken",
    TierNotIncreasing => "tier_not_increasing",
    NeedTiers => "need_tiers",
    NeedReason => "need_reason",
    NeedPerkGate => "need_perk_gate",
    /// A reservation or redemption already cancelled: `[id]`.
    AlreadyCancelled => "already_cancelled",
    /// Not enough points: `[balance]`.
    NotEnoughPoints => "not_enough_points",
    // --- scenarios, templates, tasks ---
    /// `[detail]`
    TemplateSyntax => "template_syntax",
    /// `[names]`
    TemplateUnknownVariables => "template_unknown_variables",
    /// `[detail]`
    TemplateRender => "template_render",
    /// `[detail]`
    BadScenario => "bad_scenario",
    BadSkip => "bad_skip",
    NeedSteps => "need_steps",
    ScenarioNotActive => "scenario_not_active",
    /// Subject or body, one at least.
    NeedSubjectOrBody => "need_subject_or_body",
    TaskFinished => "task_finished",
    /// The conversation is open already.
    ConversationOpen => "conversation_open",
    /// The conversation is closed already.
    ConversationClosed => "conversation_closed",
    /// Another conversation with the same customer on the channel is open.
    ConversationOpenElsewhere => "conversation_open_elsewhere",
    /// Only a delivery that failed for good can be sent again.
    DeliveryNotFailed => "delivery_not_failed",
    /// Not an event a webhook can subscribe to: `[what was given]`.
    UnknownEvent => "unknown_event",
    // --- users ---
    BadUsername => "bad_username",
    /// `[name]`
    UsernameTaken => "username_taken",
    /// `[min]`
    PasswordTooShort => "password_too_short",
    /// `[max]`
    PasswordTooLong => "password_too_long",
    PasswordHasUsername => "password_has_username",
    PasswordCommon => "password_common",
    ReadOnlyUser => "read_only_user",
    OwnerOnly => "owner_only",
    /// The change would leave the shop without an enabled owner.
    LastOwner => "last_owner",
    NotYourUpload => "not_your_upload",
    // --- import ---
    NoHeaderRow => "no_header_row",
    /// `[detail]`
    BadMapping => "bad_mapping",
    NeedOrderDateColumn => "need_order_date_column",
    NeedPriceColumn => "need_price_column",
    /// `[columns, header columns]`
    ColumnCount => "column_count",
    /// `[column, bytes, max]`
    CellTooLarge => "cell_too_large",
    /// `[line]`
    UnclosedQuote => "unclosed_quote",
    /// A UTF-8 line in a Shift_JIS file: `[line]`.
    Utf8InShiftJis => "utf8_in_shift_jis",
    /// A Shift_JIS line in a UTF-8 file: `[line]`.
    ShiftJisInUtf8 => "shift_jis_in_utf8",
    /// Bytes that are no text: `[line]`.
    Undecodable => "undecodable",
    /// An amount `[amount]` that its quantity `[quantity]` does not divide.
    NotDivisible => "not_divisible",
    /// `[detail]`
    BadCsv => "bad_csv",
    /// The same customer as line `[line]` of the same file.
    SameAsLine => "same_as_line",
    /// Another line of the same order, `[line]`, was refused.
    OrderLineRefused => "order_line_refused",
    // --- concurrency and retries ---
    /// Someone else changed it meanwhile: try again.
    ChangedMeanwhile => "changed_meanwhile",
    Busy => "busy",
    /// An `Idempotency-Key` already used for another request.
    KeyReused => "key_reused",
    /// A job that is not dead: `[id, state]`.
    JobNotDead => "job_not_dead",
    /// A name another record already has: `[name]`.
    NameTaken => "name_taken",
    /// A SKU another product already has: `[sku]`.
    SkuTaken => "sku_taken",
    /// More points used than the sale comes to: `[total]`.
    PointsOverTotal => "points_over_total",
    NotThisCustomersContact => "not_this_customers_contact",
    /// An order in `[status]` cannot be cancelled (refund it).
    OrderNotCancellable => "order_not_cancellable",
    /// A redemption `[id]` already confirmed.
    RedemptionConfirmed => "redemption_confirmed",
    /// A plan no longer offered: `[name]`.
    PlanClosed => "plan_closed",
    /// Already a member of `[plan name]`.
    AlreadyMember => "already_member",
    /// A membership in `[status]` cannot take `[change]`.
    MembershipStateRefused => "membership_state_refused",
    TicketRefunded => "ticket_refunded",
    TicketUsedUp => "ticket_used_up",
    /// Past its last day `[date]`.
    TicketExpired => "ticket_expired",
    /// An order with this `[external id]` exists with other contents.
    ExternalOrderDiffers => "external_order_differs",
    /// A count that must be 1 or more: `[value]`.
    NotPositive => "not_positive",
    /// Anything else, worded by its `[detail]` (internal, English).
    Other => "other",
}

/// A refusal that is not about one field: its code and the values its wording names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub args: Vec<String>,
}

impl Problem {
    pub fn new(code: Code) -> Self {
        Self { code, args: Vec::new() }
    }

    /// A value the wording names (in the order the code documents).
    pub fn arg(mut self, a: impl fmt::Display) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Something that should not happen, described for a developer.
    pub fn other(detail: impl fmt::Display) -> Self {
        Self::new(Code::Other).arg(detail)
    }
}

impl From<Code> for Problem {
    fn from(code: Code) -> Self {
        Self::new(code)
    }
}

impl fmt::Display for Problem {
    /// The code and its values, for logs (people read the web layer's wording).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        if !self.args.is_empty() {
            write!(f, " ({})", self.args.join(", "))?;
        }
        Ok(())
    }
}

/// One invalid field: the field's name (as in the API/CSV contract), why it was refused, and
/// the values the reason names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: Code,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: Code) -> Self {
        Self { field: field.into(), code, args: Vec::new() }
    }

    /// A value the wording names (in the order the code documents).
    pub fn arg(mut self, a: impl fmt::Display) -> Self {
        self.args.push(a.to_string());
        self
    }
}

impl fmt::Display for FieldError {
    /// `field: code (values)`, for logs and tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code.as_str())?;
        if !self.args.is_empty() {
            write!(f, " ({})", self.args.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldError {}

/// Several invalid fields collected while validating one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    /// Every error as `field: code`, joined by `; `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl AsRef<[FieldError]> for FieldErrors {
    fn as_ref(&self) -> &[FieldError] {
        &self.0
    }
}

impl FieldErrors {
    /// Records `code` against `field`; values for its wording follow with `.arg(…)`.
    pub fn push(&mut self, field: &str, code: Code) -> &mut FieldError {
        self.0.push(FieldError::new(field, code));
        self.0.last_mut().expect("just pushed")
    }

    /// Records the error of `result` (if any) and returns its value.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else the first error.
    pub fn into_result(self) -> Result<(), FieldError> {
        match self.0.into_iter().next() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

impl FieldError {
    /// Adds a value in place (for [`FieldErrors::push`]'s `&mut`).
    pub fn with(&mut self, a: impl fmt::Display) -> &mut Self {
        self.args.push(a.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_named_as_serde_names_it() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} twice");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str(), "{c:?}");
        }
    }
}
