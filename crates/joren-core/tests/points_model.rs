//! Property test of the points ledger: random sequences of earn / spend / cancel a redemption /
//! refund / expire / time passing, checked after every step against the ledger's invariants —
//! balances equal the sum of entries, no lot negative, spends take the soonest-expiring lots
//! first, paid and free value never mixed, points neither created nor lost, refused operations
//! change nothing.

use chrono::NaiveDate;
use joren_core::points::{EntryKind, ExpiryPolicy, Ledger, PointsError, ShortfallPolicy, ValueKind};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Earn { paid: bool, points: i64, order: Option<i64>, pending: u32, policy: usize },
    Spend { paid: bool, points: i64 },
    Restore { nth: usize },
    Refund { order: i64, tenths: i64, deduct: bool },
    Expire,
    Pass { days: u64 },
}

const POLICIES: [ExpiryPolicy; 4] = [
    ExpiryPolicy::Never,
    ExpiryPolicy::FixedTerm { months: 1, end_of_month: false },
    ExpiryPolicy::FixedTerm { months: 2, end_of_month: true },
    ExpiryPolicy::ExtendedByActivity { months: 1 },
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 1..500i64, proptest::option::of(0..6i64), 0..4u32, 0..POLICIES.len())
            .prop_map(|(paid, points, order, pending, policy)| Op::Earn { paid, points, order, pending, policy }),
        4 => (any::<bool>(), 1..700i64).prop_map(|(paid, points)| Op::Spend { paid, points }),
        1 => (0..8usize).prop_map(|nth| Op::Restore { nth }),
        2 => (0..6i64, 0..=10i64, any::<bool>()).prop_map(|(order, tenths, deduct)| Op::Refund { order, tenths, deduct }),
        2 => Just(Op::Expire),
        3 => (0..20u64).prop_map(|days| Op::Pass { days }),
    ]
}

fn kind(paid: bool) -> ValueKind {
    if paid { ValueKind::Paid } else { ValueKind::Free }
}

/// Invariants that hold after every operation.
fn check(l: &Ledger) -> Result<(), TestCaseError> {
    for lot in &l.lots {
        let sum: i64 = l.entries.iter().filter(|e| e.lot == lot.id).map(|e| e.points).sum();
        prop_assert_eq!(lot.remaining, sum, "lot {} equals the sum of its entries", lot.id);
        prop_assert!(lot.remaining >= 0, "lot {} negative: {}", lot.id, lot.remaining);
        prop_assert!(lot.remaining <= lot.granted, "lot {} above what it was granted", lot.id);
    }
    for k in [ValueKind::Free, ValueKind::Paid] {
        let from_entries: i64 = l.entries.iter().filter(|e| l.lots[e.lot].kind == k).map(|e| e.points).sum();
        prop_assert_eq!(l.balance(k), from_entries, "{:?} balance is derived from the entries", k);
        prop_assert!(l.debt(k) >= 0);
        let granted: i64 = l.lots.iter().filter(|x| x.kind == k).map(|x| x.granted).sum();
        let moved = |kind: EntryKind| -> i64 {
            l.entries.iter().filter(|e| e.kind == kind && l.lots[e.lot].kind == k).map(|e| e.points).sum()
        };
        let accounted = moved(EntryKind::Spend)
            + moved(EntryKind::Restore)
            + moved(EntryKind::Reverse)
            + moved(EntryKind::Deduct)
            + moved(EntryKind::Repay)
            + moved(EntryKind::Expire);
        prop_assert_eq!(granted + accounted, l.balance(k), "{:?}: no point created or lost", k);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_keeps_its_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let mut l = Ledger::default();
        let mut today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut redemptions = Vec::new();
        for op in ops {
            let before = l.clone();
            match op {
                Op::Earn { paid, points, order, pending, policy } => {
                    let order = if paid { None } else { order };
                    l.earn(kind(paid), points, order, today, pending, POLICIES[policy]).unwrap();
                    if POLICIES[policy].extends_on_activity() {
                        let e = POLICIES[policy].expires_on(today);
                        for lot in l.lots.iter().filter(|x| x.kind == kind(paid) && x.remaining > 0
                            && before.lots.get(x.id).is_none_or(|b| b.expires_on.is_none_or(|e| today <= e))) {
                            prop_assert_eq!(lot.expires_on, e, "activity extends every live lot");
                        }
                    }
                }
                Op::Spend { paid, points } => {
                    let k = kind(paid);
                    let available = l.available(k, today);
                    let id = redemptions.len() as i64 + 1;
                    match l.spend(k, points, today, id) {
                        Ok(alloc) => {
                            prop_assert!(points <= available);
                            prop_assert_eq!(alloc.iter().map(|a| a.points).sum::<i64>(), points);
                            for a in &alloc {
                                prop_assert_eq!(l.lots[a.lot].kind, k, "paid and free never mixed");
                                let lot = &before.lots[a.lot];
                                prop_assert!(lot.available_on <= today, "no pending points spent");
                                prop_assert!(lot.expires_on.is_none_or(|e| today <= e), "no expired points spent");
                            }
                            // Soonest expiry first: every lot drawn from expires no later than
                            // any spendable lot of the kind left untouched, and all but the last
                            // are emptied.
                            let key = |i: usize| (before.lots[i].expires_on.is_none(), before.lots[i].expires_on);
                            let drawn: Vec<usize> = alloc.iter().map(|a| a.lot).collect();
                            for other in before.lots.iter().filter(|x| {
                                x.kind == k && x.remaining > 0 && x.available_on <= today
                                    && x.expires_on.is_none_or(|e| today <= e) && !drawn.contains(&x.id)
                            }) {
                                for &d in &drawn {
                                    prop_assert!(key(d) <= key(other.id), "lot {} spent before sooner-expiring lot {}", d, other.id);
                                }
                            }
                            for a in &alloc[..alloc.len() - 1] {
                                prop_assert_eq!(l.lots[a.lot].remaining, 0);
                            }
                            redemptions.push(id);
                        }
                        Err(PointsError::Insufficient { available: a, wanted }) => {
                            prop_assert_eq!((a, wanted), (available, points));
                            prop_assert!(points > available);
                            prop_assert_eq!(l.entries.len(), before.entries.len(), "a refused spend changes nothing");
                        }
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                }
                Op::Restore { nth } => {
                    if let Some(&r) = redemptions.get(nth) {
                        let first = l.clone().restore(r, today).is_ok();
                        let again = l.restore(r, today).map(|_| ());
                        prop_assert!(!first || again.is_ok(), "the first restore succeeds");
                        prop_assert_eq!(l.restore(r, today).map(|_| ()), Err(PointsError::AlreadyRestored(r)), "applied once");
                    }
                }
                Op::Refund { order, tenths, deduct } => {
                    let policy = if deduct { ShortfallPolicy::DeductOtherLots } else { ShortfallPolicy::RecordDebt };
                    let debt_before = l.debt(ValueKind::Free);
                    let (_, deducted, owed) = l.reverse_order(order, tenths * 1_000, 10_000, today, policy);
                    prop_assert_eq!(l.debt(ValueKind::Free), debt_before + owed);
                    if !deduct {
                        prop_assert_eq!(deducted, 0, "the debt policy never touches other lots");
                    }
                    let again = l.reverse_order(order, tenths * 1_000, 10_000, today, policy);
                    prop_assert_eq!(again, (0, 0, 0), "the same refund twice takes nothing more");
                    prop_assert_eq!(l.lots.iter().filter(|x| x.kind == ValueKind::Paid).map(|x| x.remaining).sum::<i64>(),
                        before.balance(ValueKind::Paid), "a refund of earned points leaves paid value alone");
                }
                Op::Expire => {
                    l.expire(today);
                    for lot in &l.lots {
                        if lot.expires_on.is_some_and(|e| e < today) {
                            prop_assert_eq!(lot.remaining, 0, "nothing left in an expired lot");
                        }
                    }
                }
                Op::Pass { days } => today = today + chrono::Days::new(days),
            }
            check(&l)?;
        }
    }
}
