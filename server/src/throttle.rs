//! Progressive throttling of failed sign-ins, per account and per network address.
//!
//! A few failures cost nothing (people mistype); after that each failure locks the account
//! (or the address) for twice as long as the one before, up to [`MAX_LOCK_MS`]. While locked,
//! a sign-in is refused before any password is checked, with the time to wait. An account's
//! count is cleared by a successful sign-in; an address's only by time (an office's tablets
//! share one address behind its router, so it is allowed more failures). The same holds for
//! names that are not accounts, so the answers do not tell which names exist.
//!
//! Kept in memory, bounded by [`MAX_ENTRIES`]: a restart forgets it (and with several
//! instances each keeps its own; see ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed before locking starts, per account and per address.
pub const FREE_ACCOUNT_FAILURES: u32 = 5;
pub const FREE_ADDRESS_FAILURES: u32 = 20;
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK_MS: i64 = 1_000;
pub const MAX_LOCK_MS: i64 = 15 * 60 * 1000;
/// Failures are forgotten this long after the last one.
pub const FORGET_MS: i64 = 60 * 60 * 1000;
/// Entries kept at most; beyond it the oldest are dropped.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_ms: i64,
    until_ms: i64,
}

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

/// Whether a sign-in may be checked now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Check,
    /// Refused unchecked; the caller may try again after this many milliseconds.
    Wait(i64),
    /// Only the address is locked, for this many milliseconds: a device the account has
    /// signed in from before may be checked; any other is refused unchecked.
    AddressLocked(i64),
}

fn keys(username: &str, address: &str) -> [(String, u32); 2] {
    [
        (
            format!("u:{}", username.trim().to_lowercase()),
            FREE_ACCOUNT_FAILURES,
        ),
        (format!("a:{address}"), FREE_ADDRESS_FAILURES),
    ]
}

impl Throttle {
    /// May a sign-in for `username` from `address` be checked at `now`?
    pub fn decide(&self, username: &str, address: &str, now: i64) -> Decision {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let [account, address] = keys(username, address)
            .map(|(key, _)| entries.get(&key).map_or(0, |e| e.until_ms - now));
        if account > 0 {
            Decision::Wait(account.max(address))
        } else if address > 0 {
            Decision::AddressLocked(address)
        } else {
            Decision::Check
        }
    }

    /// A failed sign-in (a wrong password, or a name that is no account).
    pub fn failed(&self, username: &str, address: &str, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now - e.last_ms < FORGET_MS || e.until_ms > now);
            if entries.len() >= MAX_ENTRIES {
                // Still full (a storm from many addresses): keep the most recent half.
                let mut ages: Vec<i64> = entries.values().map(|e| e.last_ms).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                entries.retain(|_, e| e.last_ms > cut);
            }
        }
        for (key, free) in keys(username, address) {
            let e = entries.entry(key).or_insert(Entry {
                failures: 0,
                last_ms: now,
                until_ms: 0,
            });
            if now - e.last_ms >= FORGET_MS {
                e.failures = 0;
            }
            e.failures += 1;
            e.last_ms = now;
            if e.failures > free {
                let doublings = (e.failures - free - 1).min(20);
                e.until_ms = now + (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
            }
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, username: &str, address: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let [(account, _), _] = keys(username, address);
        entries.remove(&account);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_its_free_failures_for_ever_longer_and_a_success_clears_it() {
        let t = Throttle::default();
        let now = 1_000_000;
        for _ in 0..FREE_ACCOUNT_FAILURES {
            assert_eq!(t.decide("zhang", "10.0.0.1", now), Decision::Check);
            t.failed("zhang", "10.0.0.1", now);
        }
        assert_eq!(t.decide("zhang", "10.0.0.1", now), Decision::Check);
        t.failed("zhang", "10.0.0.1", now);
        assert_eq!(t.decide("zhang", "10.0.0.1", now), Decision::Wait(1_000));
        // From another address too: the account is locked, not the address.
        assert_eq!(t.decide("Zhang ", "10.0.0.2", now), Decision::Wait(1_000));
        // Another account from the first address is not.
        assert_eq!(t.decide("li", "10.0.0.1", now), Decision::Check);
        t.failed("zhang", "10.0.0.1", now + 1_000);
        assert_eq!(
            t.decide("zhang", "10.0.0.1", now + 1_000),
            Decision::Wait(2_000)
        );
        for i in 0..30 {
            t.failed("zhang", "10.0.0.1", now + 2_000 + i);
        }
        assert_eq!(
            t.decide("zhang", "10.0.0.9", now + 2_029),
            Decision::Wait(MAX_LOCK_MS)
        );
        t.succeeded("zhang", "10.0.0.1");
        assert_eq!(t.decide("zhang", "10.0.0.9", now + 2_029), Decision::Check);
        // The address that failed 38 times is locked for every name (but a device the name
        // has signed in from before may still try: the caller asks the store).
        assert!(matches!(
            t.decide("li", "10.0.0.1", now + 2_029),
            Decision::AddressLocked(_)
        ));
    }

    #[test]
    fn an_address_locks_after_many_names_fail_and_failures_are_forgotten() {
        let t = Throttle::default();
        let now = 5_000_000;
        for i in 0..=FREE_ADDRESS_FAILURES {
            t.failed(&format!("user{i}"), "10.0.0.7", now);
        }
        assert_eq!(
            t.decide("nobody", "10.0.0.7", now),
            Decision::AddressLocked(1_000)
        );
        assert_eq!(t.decide("nobody", "10.0.0.8", now), Decision::Check);
        // An account locked as well: the longer of the two is the wait.
        for _ in 0..=FREE_ACCOUNT_FAILURES {
            t.failed("zhao", "10.0.0.8", now);
        }
        assert_eq!(t.decide("zhao", "10.0.0.7", now), Decision::Wait(1_000));
        // An hour later the count starts again.
        let later = now + FORGET_MS;
        t.failed("user0", "10.0.0.7", later);
        assert_eq!(t.decide("nobody", "10.0.0.7", later), Decision::Check);
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = Throttle::default();
        for i in 0..(MAX_ENTRIES + 10) {
            t.failed(&format!("u{i}"), "10.0.0.1", i as i64);
        }
        assert!(t.len() <= MAX_ENTRIES, "{}", t.len());
        assert!(!t.is_empty());
    }
}
