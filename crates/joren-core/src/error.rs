//! Errors that name what is wrong with a code, not a sentence: the lower layers say *which* rule
//! refused an input (a [`Code`] and the values the rule names), and the web layer words it in the
//! reader's language (`joren_web::i18n::errors`). So the English pages never show Japanese error
//! text, and an API client can act on the code.

use std::fmt;

/// Why an input was refused. Each code is worded in Japanese and English by the web layer; the
/// values it names travel beside it as [`FieldError::args`] (the order is given on each code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // --- generic rules ---
    /// Empty where a value is needed.
    Required,
    /// Nothing chosen where a choice is needed.
    Choose,
    /// Longer than allowed: `[max, now]` characters.
    TooLong,
    /// A length outside `[min, max]` characters.
    LengthRange,
    /// More items than allowed: `[max]`.
    TooMany,
    /// A number outside `[min, max]`.
    Range,
    /// A number of days outside `[min, max]`.
    RangeDays,
    /// A number of months outside `[min, max]`.
    RangeMonths,
    /// A percentage outside `[min, max]`.
    RangePercent,
    /// An amount of yen outside `[min, max]`.
    RangeYen,
    /// A count of times (visits, reviews) outside `[min, max]`.
    RangeTimes,
    /// A number of minutes outside `[min, max]`.
    RangeMinutes,
    /// A value not among those allowed: `[value, allowed]`.
    NotOneOf,
    /// Control characters such as NUL.
    ControlChars,
    // --- formats: `[input]` ---
    BadEmail,
    BadPhone,
    NoSuchPhoneNumber,
    BadPostalCode,
    BadPrefecture,
    BadDate,
    BadDateTime,
    /// Not `HH:MM`.
    BadTime,
    BadWeekday,
    /// Not katakana: `[the character]`.
    BadKana,
    /// An amount that cannot be read: `[input]`.
    BadAmount,
    /// An amount with more decimals than its currency has: `[input]`.
    AmountDecimals,
    BadCurrency,
    BadNumber,
    /// Not yes/no: `[input]`.
    BadYesNo,
    /// JSON that cannot be read: `[detail]`.
    BadJson,
    /// A segment filter that cannot be used: `[detail]` (English, for developers).
    BadFilter,
    // --- dates ---
    /// Before the earliest date accepted: `[earliest]`.
    DateTooEarly,
    DateInFuture,
    DateInPast,
    StartAfterEnd,
    /// A month and day that is no date: `[month, day]`.
    NoSuchDay,
    // --- things that do not exist ---
    NoSuchCustomer,
    /// `[id]`
    NoSuchUser,
    /// `[id]`
    UserDisabled,
    /// `[name or level]`
    NoSuchRank,
    /// `[id]`
    NoSuchPlan,
    /// A saved segment: `[id]`.
    NoSuchSegment,
    /// An RFM segment code: `[code]`.
    NoSuchRfmSegment,
    NoSuchScenario,
    NotThisCustomersOrder,
    /// The customer was merged into another: `[survivor id]`.
    CustomerMerged,
    // --- customers ---
    NeedNameOrContact,
    NeedCompanyName,
    NeedSystemAndId,
    /// An external id already on another customer: `[system, id, customer]`.
    ExternalIdTaken,
    MergeIntoItself,
    AlreadyMerged,
    // --- orders ---
    NeedItems,
    /// A line's quantity × price above `[max]`.
    LineAmountTooLarge,
    DiscountOverTotal,
    RefundCancelled,
    /// A refund above what is left: `[remaining]`.
    RefundOverRemaining,
    // --- points, ranks, programme ---
    RanksDisabled,
    FirstTierZero,
    TierNameTaken,
    TierNotIncreasing,
    NeedTiers,
    NeedReason,
    NeedPerkGate,
    /// A reservation or redemption already cancelled: `[id]`.
    AlreadyCancelled,
    /// Not enough points: `[balance]`.
    NotEnoughPoints,
    // --- scenarios, templates, tasks ---
    /// `[detail]`
    TemplateSyntax,
    /// `[names]`
    TemplateUnknownVariables,
    /// `[detail]`
    TemplateRender,
    /// `[detail]`
    BadScenario,
    BadSkip,
    NeedSteps,
    ScenarioNotActive,
    /// Subject or body, one at least.
    NeedSubjectOrBody,
    TaskFinished,
    // --- users ---
    BadUsername,
    /// `[name]`
    UsernameTaken,
    /// `[min]`
    PasswordTooShort,
    /// `[max]`
    PasswordTooLong,
    PasswordHasUsername,
    PasswordCommon,
    ReadOnlyUser,
    OwnerOnly,
    NotYourUpload,
    // --- import ---
    NoHeaderRow,
    PresetOrdersOnly,
    /// `[detail]`
    BadMapping,
    NeedOrderDateColumn,
    NeedPriceColumn,
    /// `[columns, header columns]`
    ColumnCount,
    /// `[column, bytes, max]`
    CellTooLarge,
    /// `[line]`
    UnclosedQuote,
    /// A UTF-8 line in a Shift_JIS file: `[line]`.
    Utf8InShiftJis,
    /// A Shift_JIS line in a UTF-8 file: `[line]`.
    ShiftJisInUtf8,
    /// Bytes that are no text: `[line]`.
    Undecodable,
    /// An amount `[amount]` that its quantity `[quantity]` does not divide.
    NotDivisible,
    /// `[detail]`
    BadCsv,
    /// The same customer as line `[line]` of the same file.
    SameAsLine,
    /// Another line of the same order, `[line]`, was refused.
    OrderLineRefused,
    // --- concurrency and retries ---
    /// Someone else changed it meanwhile: try again.
    ChangedMeanwhile,
    Busy,
    /// An `Idempotency-Key` already used for another request.
    KeyReused,
    /// A job that is not dead: `[id, state]`.
    JobNotDead,
    /// A name another record already has: `[name]`.
    NameTaken,
    NotThisCustomersContact,
    /// An order in `[status]` cannot be cancelled (refund it).
    OrderNotCancellable,
    /// A redemption `[id]` already confirmed.
    RedemptionConfirmed,
    /// A plan no longer offered: `[name]`.
    PlanClosed,
    /// Already a member of `[plan name]`.
    AlreadyMember,
    /// A membership in `[status]` cannot take `[change]`.
    MembershipStateRefused,
    TicketRefunded,
    TicketUsedUp,
    /// Past its last day `[date]`.
    TicketExpired,
    /// An order with this `[external id]` exists with other contents.
    ExternalOrderDiffers,
    /// A count that must be 1 or more: `[value]`.
    NotPositive,
    /// Anything else, worded by its `[detail]` (internal, English).
    Other,
}

impl Code {
    /// Every code (for tests that check each one is worded and named).
    pub const ALL: &[Code] = {
        use Code::*;
        &[
            Required,
            Choose,
            TooLong,
            LengthRange,
            TooMany,
            Range,
            RangeDays,
            RangeMonths,
            RangePercent,
            RangeYen,
            RangeTimes,
            RangeMinutes,
            NotOneOf,
            ControlChars,
            BadEmail,
            BadPhone,
            NoSuchPhoneNumber,
            BadPostalCode,
            BadPrefecture,
            BadDate,
            BadDateTime,
            BadTime,
            BadWeekday,
            BadKana,
            BadAmount,
            AmountDecimals,
            BadCurrency,
            BadNumber,
            BadYesNo,
            BadJson,
            BadFilter,
            DateTooEarly,
            DateInFuture,
            DateInPast,
            StartAfterEnd,
            NoSuchDay,
            NoSuchCustomer,
            NoSuchUser,
            UserDisabled,
            NoSuchRank,
            NoSuchPlan,
            NoSuchSegment,
            NoSuchRfmSegment,
            NoSuchScenario,
            NotThisCustomersOrder,
            CustomerMerged,
            NeedNameOrContact,
            NeedCompanyName,
            NeedSystemAndId,
            ExternalIdTaken,
            MergeIntoItself,
            AlreadyMerged,
            NeedItems,
            LineAmountTooLarge,
            DiscountOverTotal,
            RefundCancelled,
            RefundOverRemaining,
            RanksDisabled,
            FirstTierZero,
            TierNameTaken,
            TierNotIncreasing,
            NeedTiers,
            NeedReason,
            NeedPerkGate,
            AlreadyCancelled,
            NotEnoughPoints,
            TemplateSyntax,
            TemplateUnknownVariables,
            TemplateRender,
            BadScenario,
            BadSkip,
            NeedSteps,
            ScenarioNotActive,
            NeedSubjectOrBody,
            TaskFinished,
            BadUsername,
            UsernameTaken,
            PasswordTooShort,
            PasswordTooLong,
            PasswordHasUsername,
            PasswordCommon,
            ReadOnlyUser,
            OwnerOnly,
            NotYourUpload,
            NoHeaderRow,
            PresetOrdersOnly,
            BadMapping,
            NeedOrderDateColumn,
            NeedPriceColumn,
            ColumnCount,
            CellTooLarge,
            UnclosedQuote,
            Utf8InShiftJis,
            ShiftJisInUtf8,
            Undecodable,
            NotDivisible,
            BadCsv,
            SameAsLine,
            OrderLineRefused,
            ChangedMeanwhile,
            Busy,
            KeyReused,
            JobNotDead,
            NameTaken,
            NotThisCustomersContact,
            OrderNotCancellable,
            RedemptionConfirmed,
            PlanClosed,
            AlreadyMember,
            MembershipStateRefused,
            TicketRefunded,
            TicketUsedUp,
            TicketExpired,
            ExternalOrderDiffers,
            NotPositive,
            Other,
        ]
    };

    /// The stable code an API client reads (`snake_case`).
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            Required => "required",
            Choose => "choose",
            TooLong => "too_long",
            LengthRange => "length_range",
            TooMany => "too_many",
            Range => "range",
            RangeDays => "range_days",
            RangeMonths => "range_months",
            RangePercent => "range_percent",
            RangeYen => "range_yen",
            RangeTimes => "range_times",
            RangeMinutes => "range_minutes",
            NotOneOf => "not_one_of",
            ControlChars => "control_chars",
            BadEmail => "bad_email",
            BadPhone => "bad_phone",
            NoSuchPhoneNumber => "no_such_phone_number",
            BadPostalCode => "bad_postal_code",
            BadPrefecture => "bad_prefecture",
            BadDate => "bad_date",
            BadDateTime => "bad_date_time",
            BadTime => "bad_time",
            BadWeekday => "bad_weekday",
            BadKana => "bad_kana",
            BadAmount => "bad_amount",
            AmountDecimals => "amount_decimals",
            BadCurrency => "bad_currency",
            BadNumber => "bad_number",
            BadYesNo => "bad_yes_no",
            BadJson => "bad_json",
            BadFilter => "bad_filter",
            DateTooEarly => "date_too_early",
            DateInFuture => "date_in_future",
            DateInPast => "date_in_past",
            StartAfterEnd => "start_after_end",
            NoSuchDay => "no_such_day",
            NoSuchCustomer => "no_such_customer",
            NoSuchUser => "no_such_user",
            UserDisabled => "user_disabled",
            NoSuchRank => "no_such_rank",
            NoSuchPlan => "no_such_plan",
            NoSuchSegment => "no_such_segment",
            NoSuchRfmSegment => "no_such_rfm_segment",
            NoSuchScenario => "no_such_scenario",
            NotThisCustomersOrder => "not_this_customers_order",
            CustomerMerged => "customer_merged",
            NeedNameOrContact => "need_name_or_contact",
            NeedCompanyName => "need_company_name",
            NeedSystemAndId => "need_system_and_id",
            ExternalIdTaken => "external_id_taken",
            MergeIntoItself => "merge_into_itself",
            AlreadyMerged => "already_merged",
            NeedItems => "need_items",
            LineAmountTooLarge => "line_amount_too_large",
            DiscountOverTotal => "discount_over_total",
            RefundCancelled => "refund_cancelled",
            RefundOverRemaining => "refund_over_remaining",
            RanksDisabled => "ranks_disabled",
            FirstTierZero => "first_tier_zero",
            TierNameTaken => "tier_name_taken",
            TierNotIncreasing => "tier_not_increasing",
            NeedTiers => "need_tiers",
            NeedReason => "need_reason",
            NeedPerkGate => "need_perk_gate",
            AlreadyCancelled => "already_cancelled",
            NotEnoughPoints => "not_enough_points",
            TemplateSyntax => "template_syntax",
            TemplateUnknownVariables => "template_unknown_variables",
            TemplateRender => "template_render",
            BadScenario => "bad_scenario",
            BadSkip => "bad_skip",
            NeedSteps => "need_steps",
            ScenarioNotActive => "scenario_not_active",
            NeedSubjectOrBody => "need_subject_or_body",
            TaskFinished => "task_finished",
            BadUsername => "bad_username",
            UsernameTaken => "username_taken",
            PasswordTooShort => "password_too_short",
            PasswordTooLong => "password_too_long",
            PasswordHasUsername => "password_has_username",
            PasswordCommon => "password_common",
            ReadOnlyUser => "read_only_user",
            OwnerOnly => "owner_only",
            NotYourUpload => "not_your_upload",
            NoHeaderRow => "no_header_row",
            PresetOrdersOnly => "preset_orders_only",
            BadMapping => "bad_mapping",
            NeedOrderDateColumn => "need_order_date_column",
            NeedPriceColumn => "need_price_column",
            ColumnCount => "column_count",
            CellTooLarge => "cell_too_large",
            UnclosedQuote => "unclosed_quote",
            Utf8InShiftJis => "utf8_in_shift_jis",
            ShiftJisInUtf8 => "shift_jis_in_utf8",
            Undecodable => "undecodable",
            NotDivisible => "not_divisible",
            BadCsv => "bad_csv",
            SameAsLine => "same_as_line",
            OrderLineRefused => "order_line_refused",
            ChangedMeanwhile => "changed_meanwhile",
            Busy => "busy",
            KeyReused => "key_reused",
            JobNotDead => "job_not_dead",
            NameTaken => "name_taken",
            NotThisCustomersContact => "not_this_customers_contact",
            OrderNotCancellable => "order_not_cancellable",
            RedemptionConfirmed => "redemption_confirmed",
            PlanClosed => "plan_closed",
            AlreadyMember => "already_member",
            MembershipStateRefused => "membership_state_refused",
            TicketRefunded => "ticket_refunded",
            TicketUsedUp => "ticket_used_up",
            TicketExpired => "ticket_expired",
            ExternalOrderDiffers => "external_order_differs",
            NotPositive => "not_positive",
            Other => "other",
        }
    }
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

    /// The same refusal for another field (a nested input's error placed on its parent).
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
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
        // A code missing from ALL would still have its as_str arm; count the arms' names.
        let source = include_str!("error.rs");
        let arms = source.lines().filter(|l| l.trim_start().ends_with("\",") && l.contains(" => \"")).count();
        assert_eq!(arms, Code::ALL.len(), "every code has an as_str arm and is in ALL");
    }
}
