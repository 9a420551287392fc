//! Cross-sell from purchase co-occurrence: which products the customers who bought X also
//! bought. Each customer's distinct products form one basket; for every ordered pair X → Y
//! seen together in at least `min_pair_count` baskets:
//!
//! - support = n(X ∧ Y) / N (the share of all customers who bought both),
//! - confidence = n(X ∧ Y) / n(X) (of those who bought X, the share who also bought Y),
//! - lift = confidence / (n(Y) / N) (how much more likely Y is given X than in general).
//!
//! Only pairs with lift above `min_lift` are kept (a lift of 1 means X says nothing about Y),
//! the best `per_product` per X by confidence, then lift.

use std::collections::HashMap;

/// Thresholds of the association rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Baskets a pair must share to count (fewer is chance).
    pub min_pair_count: u32,
    /// Keep rules with a lift strictly above this.
    pub min_lift: f64,
    /// Rules kept per antecedent product.
    pub per_product: usize,
    /// Products per basket considered (a basket larger than this keeps its first products):
    /// pairs grow with the square of a basket's size.
    pub max_basket: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { min_pair_count: 3, min_lift: 1.0, per_product: 10, max_basket: 200 }
    }
}

/// One rule X → Y, products given by their index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Association {
    pub antecedent: u32,
    pub consequent: u32,
    /// Baskets holding both.
    pub pair_count: u32,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

/// Association rules over `baskets` (each a list of product indices below `products`;
/// repeats within a basket are ignored). Sorted by antecedent, then confidence and lift
/// descending.
pub fn associations(baskets: &[Vec<u32>], products: usize, settings: &Settings) -> Vec<Association> {
    let mut item_count = vec![0u32; products];
    let mut pair_count: HashMap<(u32, u32), u32> = HashMap::new();
    let mut n = 0u32;
    let mut basket = Vec::new();
    for b in baskets {
        basket.clear();
        basket.extend(b.iter().copied().filter(|&i| (i as usize) < products));
        basket.sort_unstable();
        basket.dedup();
        if basket.is_empty() {
            continue;
        }
        basket.truncate(settings.max_basket);
        n += 1;
        for (k, &x) in basket.iter().enumerate() {
            item_count[x as usize] += 1;
            for &y in &basket[k + 1..] {
                *pair_count.entry((x, y)).or_insert(0) += 1;
            }
        }
    }
    let total = f64::from(n.max(1));
    let mut rules: Vec<Association> = Vec::new();
    for (&(x, y), &both) in &pair_count {
        if both < settings.min_pair_count {
            continue;
        }
        for (a, c) in [(x, y), (y, x)] {
            let confidence = f64::from(both) / f64::from(item_count[a as usize]);
            let lift = confidence / (f64::from(item_count[c as usize]) / total);
            if lift > settings.min_lift {
                rules.push(Association {
                    antecedent: a,
                    consequent: c,
                    pair_count: both,
                    support: f64::from(both) / total,
                    confidence,
                    lift,
                });
            }
        }
    }
    rules.sort_by(|p, q| {
        p.antecedent
            .cmp(&q.antecedent)
            .then(q.confidence.total_cmp(&p.confidence))
            .then(q.lift.total_cmp(&p.lift))
            .then(p.consequent.cmp(&q.consequent))
    });
    let mut kept = Vec::with_capacity(rules.len());
    let mut current = None;
    let mut taken = 0;
    for r in rules {
        if current != Some(r.antecedent) {
            current = Some(r.antecedent);
            taken = 0;
        }
        if taken < settings.per_product {
            kept.push(r);
            taken += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 customers: 8 bought A and B, 4 only A, 4 only C, 3 B and C, 1 bought A, B and C.
    fn baskets() -> Vec<Vec<u32>> {
        let (a, b, c) = (0, 1, 2);
        let mut v = Vec::new();
        v.extend(std::iter::repeat_n(vec![a, b], 8));
        v.extend(std::iter::repeat_n(vec![a, a], 4));
        v.extend(std::iter::repeat_n(vec![c], 4));
        v.extend(std::iter::repeat_n(vec![b, c], 3));
        v.push(vec![c, b, a]);
        v
    }

    #[test]
    fn support_confidence_and_lift_by_hand() {
        let rules = associations(&baskets(), 3, &Settings::default());
        // n(A) = 13, n(B) = 12, n(C) = 8, N = 20; n(AB) = 9, n(BC) = 4, n(AC) = 1.
        let find = |a, c| rules.iter().find(|r| r.antecedent == a && r.consequent == c).copied();
        let ab = find(0, 1).expect("A → B");
        assert_eq!(ab.pair_count, 9);
        assert!((ab.support - 9.0 / 20.0).abs() < 1e-12);
        assert!((ab.confidence - 9.0 / 13.0).abs() < 1e-12);
        assert!((ab.lift - (9.0 / 13.0) / (12.0 / 20.0)).abs() < 1e-12);
        let ba = find(1, 0).expect("B → A");
        assert!((ba.confidence - 9.0 / 12.0).abs() < 1e-12);
        // B → C: confidence 4/12, lift (4/12)/(8/20) = 0.83 < 1: dropped, as is C → B.
        assert!(find(1, 2).is_none() && find(2, 1).is_none());
        // A and C share one basket: below the minimum count.
        assert!(find(0, 2).is_none());
        assert_eq!(rules.len(), 2);
    }

    #[test]
    fn thresholds_and_ranking() {
        let loose = Settings { min_pair_count: 1, min_lift: 0.0, per_product: 10, max_basket: 200 };
        let rules = associations(&baskets(), 3, &loose);
        assert_eq!(rules.len(), 6, "every ordered pair once the thresholds are off");
        let from_b: Vec<u32> = rules.iter().filter(|r| r.antecedent == 1).map(|r| r.consequent).collect();
        assert_eq!(from_b, [0, 2], "B → A (confidence 0.75) before B → C (0.33)");
        let one = Settings { per_product: 1, ..loose };
        let rules = associations(&baskets(), 3, &one);
        assert_eq!(rules.len(), 3, "one rule per antecedent");
        assert!(associations(&[], 3, &loose).is_empty());
        assert!(associations(&[vec![7]], 3, &loose).is_empty(), "indices out of range are ignored");
    }
}
