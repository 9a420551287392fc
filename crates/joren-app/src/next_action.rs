//! Next best action: what to do about a customer, from their segment, churn risk and value.
//! The rules are data the owner can edit (stored as a setting); the first matching rule wins
//! and every suggestion says which facts made it match.

use joren_store::CustomerMetrics;
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result};

/// One rule: every condition given must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// RFM segment code (`champions`, `loyal`, `new`, `dormant`, `at_risk`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Churn band (`low`, `medium`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn_band: Option<String>,
    /// Predicted 12-month CLV at least this (yen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_clv: Option<f64>,
    pub action_ja: String,
    pub action_en: String,
}

/// A suggestion with the facts behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub action_ja: String,
    pub action_en: String,
    /// The conditions that matched, e.g. `["segment = dormant", "churn band = high"]`.
    pub because: Vec<String>,
    /// The same conditions as values, for a page to word.
    pub reasons: Vec<Reason>,
}

/// One condition a suggestion's rule matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The customer's RFM segment (its code).
    Segment { segment: String },
    /// The churn-risk band (`high`, `medium`, `low`) and score (0–100).
    ChurnBand { band: String, score: Option<i64> },
    /// The 12-month CLV at or above the rule's minimum (yen).
    Clv { clv: f64, min: f64 },
    /// No condition: the rule every customer matches.
    Default,
}

const SETTING: &str = "next_best_action_rules";

/// The rules a shop starts with (the playbook), most specific first.
pub fn default_rules() -> Vec<Rule> {
    let r = |segment: Option<&str>, band: Option<&str>, min_clv: Option<f64>, ja: &str, en: &str| Rule {
        segment: segment.map(str::to_string),
        churn_band: band.map(str::to_string),
        min_clv,
        action_ja: ja.into(),
        action_en: en.into(),
    };
    vec![
        r(
            None,
            Some("high"),
            Some(10_000.0),
            "担当者から個別に連絡し、満足度を確認する",
            "Call personally and check satisfaction",
        ),
        r(Some("champions"), None, None, "VIP 待遇・担当者からの個別連絡", "VIP treatment and a personal contact"),
        r(
            Some("loyal"),
            None,
            None,
            "ポイント・会員プログラムへの案内、上位商品の提案",
            "Invite to the loyalty programme; suggest an upgrade",
        ),
        r(Some("potential"), None, None, "2 回目・3 回目の購入を後押しする特典", "An offer for the next purchases"),
        r(
            Some("new"),
            None,
            None,
            "オンボーディング: 使い方の案内とフォロー",
            "Onboarding: how-to guidance and a follow-up",
        ),
        r(
            Some("needs_attention"),
            None,
            None,
            "満足度の確認と、最近の購入へのお礼",
            "Check satisfaction; thank them for recent purchases",
        ),
        r(
            Some("at_risk"),
            None,
            None,
            "満足度の確認・問題の解決・特別なオファー",
            "Satisfaction check, solve problems, a special offer",
        ),
        r(Some("dormant"), None, None, "再来店を促すオファー (休眠掘り起こし)", "A reactivation offer"),
        r(
            Some("lost"),
            None,
            None,
            "季節のお知らせのみ (費用をかけすぎない)",
            "Seasonal news only (keep the cost low)",
        ),
        r(None, None, None, "通常のお知らせを続ける", "Keep up the usual newsletters"),
    ]
}

/// The first rule that matches the customer's metrics.
pub fn suggest(rules: &[Rule], m: &CustomerMetrics) -> Option<Suggestion> {
    rules.iter().find_map(|rule| {
        let mut reasons = Vec::new();
        if let Some(s) = &rule.segment {
            if *s != m.segment {
                return None;
            }
            reasons.push(Reason::Segment { segment: s.clone() });
        }
        if let Some(b) = &rule.churn_band {
            if m.churn_band.as_deref() != Some(b.as_str()) {
                return None;
            }
            reasons.push(Reason::ChurnBand { band: b.clone(), score: m.churn_score });
        }
        if let Some(min) = rule.min_clv {
            let clv = m.clv_12m?;
            if clv < min {
                return None;
            }
            reasons.push(Reason::Clv { clv, min });
        }
        if reasons.is_empty() {
            reasons.push(Reason::Default);
        }
        let because = reasons
            .iter()
            .map(|r| match r {
                Reason::Segment { segment } => format!("segment = {segment}"),
                Reason::ChurnBand { band, score } => format!("churn band = {band} ({})", score.unwrap_or_default()),
                Reason::Clv { clv, min } => format!("CLV {clv:.0} ≥ {min:.0}"),
                Reason::Default => "default".into(),
            })
            .collect();
        Some(Suggestion { action_ja: rule.action_ja.clone(), action_en: rule.action_en.clone(), because, reasons })
    })
}

impl App {
    /// The shop's next-best-action rules (the defaults until the owner changes them).
    pub async fn next_action_rules(&self) -> Result<Vec<Rule>> {
        match self.store.setting(SETTING).await? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| crate::AppError::Internal(format!("stored rules: {e}")))
            }
            None => Ok(default_rules()),
        }
    }

    /// Replaces the rules (owners). Unknown segment or band codes are refused by name.
    pub async fn set_next_action_rules(&self, actor: &Actor, rules: Vec<Rule>) -> Result<()> {
        actor.require_owner()?;
        for (i, r) in rules.iter().enumerate() {
            if let Some(s) = &r.segment
                && joren_analytics::rfm::Segment::from_code(s).is_none()
            {
                return Err(joren_core::FieldError::new(
                    format!("rules[{i}].segment"),
                    joren_core::Code::NoSuchRfmSegment,
                )
                .arg(s)
                .into());
            }
            if let Some(b) = &r.churn_band
                && !matches!(b.as_str(), "low" | "medium" | "high")
            {
                return Err(joren_core::FieldError::new(format!("rules[{i}].churn_band"), joren_core::Code::NotOneOf)
                    .arg(b)
                    .arg("low, medium, high")
                    .into());
            }
            if r.action_ja.trim().is_empty() {
                return Err(
                    joren_core::FieldError::new(format!("rules[{i}].action_ja"), joren_core::Code::Required).into()
                );
            }
        }
        let json = serde_json::to_string(&rules).map_err(|e| crate::AppError::Internal(e.to_string()))?;
        self.store.set_setting(SETTING, &json).await?;
        self.audit(actor, "settings.next_action_rules", "settings", SETTING, serde_json::json!({"rules": rules.len()}))
            .await
    }

    /// The suggestion for one customer from the newest snapshot.
    pub async fn next_action(&self, customer_id: i64) -> Result<Option<Suggestion>> {
        let Some((_, m)) = self.customer_metrics(customer_id).await? else { return Ok(None) };
        Ok(suggest(&self.next_action_rules().await?, &m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(segment: &str, band: Option<&str>, clv: Option<f64>) -> CustomerMetrics {
        CustomerMetrics {
            customer_id: 1,
            recency_days: 10,
            frequency: 3,
            monetary: 9000,
            r_score: 3,
            f_score: 3,
            m_score: 3,
            segment: segment.into(),
            p_alive: Some(0.5),
            expected_purchases_90d: Some(0.4),
            expected_order_value: Some(3000.0),
            clv_12m: clv,
            churn_score: band.map(|_| 70),
            churn_band: band.map(str::to_string),
            expected_next_purchase: None,
        }
    }

    #[test]
    fn first_matching_rule_wins_and_says_why() {
        let rules = default_rules();
        let s = suggest(&rules, &metrics("dormant", Some("high"), Some(25_000.0))).unwrap();
        assert_eq!(s.action_en, "Call personally and check satisfaction");
        assert_eq!(s.because, ["churn band = high (70)", "CLV 25000 ≥ 10000"]);
        let s = suggest(&rules, &metrics("dormant", Some("high"), Some(2_000.0))).unwrap();
        assert_eq!(s.action_en, "A reactivation offer", "low value falls through to the segment rule");
        assert_eq!(s.because, ["segment = dormant"]);
        let s = suggest(&rules, &metrics("dormant", Some("high"), None)).unwrap();
        assert_eq!(s.action_en, "A reactivation offer", "no CLV (models not fitted) cannot satisfy min_clv");
        let s = suggest(&rules, &metrics("regular", None, None)).unwrap();
        assert_eq!(s.because, ["default"]);
        assert_eq!(suggest(&rules[1..2], &metrics("lost", None, None)), None);
    }

    #[test]
    fn every_segment_gets_an_action_from_the_defaults() {
        for seg in joren_analytics::rfm::Segment::ALL {
            assert!(suggest(&default_rules(), &metrics(seg.code(), Some("low"), Some(100.0))).is_some());
        }
    }
}
