//! The app's clock: every use case asks it for the time instead of calling `Utc::now()`, so a
//! test can put the shop on any day and move time forward (a scenario's wait, a nightly job,
//! a birthday on 29 February).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The system clock, or a manual one a test sets and moves. Cheap to clone; clones share the
/// time.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock standing at `at` until it is set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Milliseconds since the epoch, now.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves a manual clock to `at` (a system clock cannot be set: it panics, as a test bug).
    pub fn set(&self, at: DateTime<Utc>) {
        let t = self.0.as_ref().expect("only a manual clock can be set");
        *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves a manual clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let t = self.0.as_ref().expect("only a manual clock can be advanced");
        let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }

    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_clones_share_it() {
        let at = DateTime::parse_from_rfc3339("2028-02-29T09:00:00+09:00").unwrap().with_timezone(&Utc);
        let c = Clock::manual(at);
        let other = c.clone();
        assert_eq!(c.now(), at);
        other.advance(chrono::Duration::hours(15));
        assert_eq!(c.now(), at + chrono::Duration::hours(15));
        c.set(at);
        assert_eq!(other.now_ms(), at.timestamp_millis());
        let real = Clock::system().now();
        assert!((Utc::now() - real).num_seconds().abs() < 5);
    }
}
