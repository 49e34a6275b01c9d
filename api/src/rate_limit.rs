//! A per-address request limit for the public endpoints: a fixed window
//! per client address, in memory (each instance counts for itself; behind
//! N instances the effective limit is at most N times the setting).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::problem::ApiError;

/// Addresses tracked before expired windows are swept.
const SWEEP_AT: usize = 50_000;

/// Counts requests per address in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` requests per `window` and address.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `address` at `now`; 429 with `Retry-After`
    /// when the address has used its window's allowance.
    pub fn check(&self, address: Option<&str>, now: Instant) -> Result<(), ApiError> {
        let key = address.unwrap_or("unknown");
        let Ok(mut counts) = self.counts.lock() else {
            // A poisoned lock only means another request panicked while
            // counting: serve rather than fail everyone.
            return Ok(());
        };
        if counts.len() >= SWEEP_AT {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(ApiError::too_many_requests(
                left.as_secs().max(1),
                "too many requests from this address; retry later",
            ));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_allowance_per_window() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(Some("10.0.0.1"), t0).is_ok());
        }
        assert!(limiter.check(Some("10.0.0.1"), t0).is_err());
        assert!(
            limiter.check(Some("10.0.0.2"), t0).is_ok(),
            "another address"
        );
        let later = t0 + Duration::from_secs(61);
        assert!(
            limiter.check(Some("10.0.0.1"), later).is_ok(),
            "a new window"
        );
    }
}
