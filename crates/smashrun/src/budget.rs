use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A client-side request budget over sliding windows, kept below SmashRun's reported limits
/// (250 per hour and 80 per 10 seconds per token) so that a well-behaved sync never sees a 429.
#[derive(Debug)]
pub struct RateBudget {
    windows: Vec<(usize, Duration)>,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateBudget {
    /// Budget under SmashRun's limits, with a margin for clock skew and other clients.
    pub fn smashrun() -> Self {
        RateBudget::new(&[
            (240, Duration::from_secs(3600)),
            (72, Duration::from_secs(10)),
        ])
    }

    /// A budget of `max` requests per `window` for each pair.
    pub fn new(windows: &[(usize, Duration)]) -> Self {
        RateBudget {
            windows: windows.to_vec(),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// No budget at all.
    pub fn unlimited() -> Self {
        RateBudget::new(&[])
    }

    /// Takes a slot at `now`, or says how long to wait for one.
    pub fn try_acquire(&self, now: Instant) -> Result<(), Duration> {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let longest = self.windows.iter().map(|w| w.1).max().unwrap_or_default();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= longest)
        {
            sent.pop_front();
        }
        let mut wait = Duration::ZERO;
        for &(max, window) in &self.windows {
            let in_window = sent
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < window)
                .count();
            if in_window >= max {
                // the max-th most recent request leaves the window first; a window of 0 requests
                // waits the whole window
                let frees_at = sent
                    .len()
                    .checked_sub(max)
                    .and_then(|i| sent.get(i))
                    .map_or(Duration::ZERO, |oldest| now.duration_since(*oldest));
                wait = wait.max(
                    window
                        .saturating_sub(frees_at)
                        .max(Duration::from_millis(1)),
                );
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        sent.push_back(now);
        Ok(())
    }

    /// Counts `count` requests as sent at `at`: what an earlier process spent, so that a new
    /// process does not start with a full hourly budget. More than the largest window's maximum
    /// changes nothing and is not stored (a corrupt count cannot exhaust memory).
    pub fn preload(&self, count: usize, at: Instant) {
        let largest = self.windows.iter().map(|w| w.0).max().unwrap_or(0);
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let position = sent.partition_point(|t| *t <= at);
        for _ in 0..count.min(largest) {
            sent.insert(position, at);
        }
    }

    /// Requests sent within the last `window`.
    pub fn used(&self, now: Instant, window: Duration) -> usize {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < window)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_when_a_window_is_full() {
        let b = RateBudget::new(&[(3, Duration::from_secs(10)), (5, Duration::from_secs(60))]);
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire(t0).unwrap();
        }
        assert_eq!(b.try_acquire(t0), Err(Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(10);
        b.try_acquire(t1).unwrap();
        b.try_acquire(t1).unwrap();
        let wait = b.try_acquire(t1).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50), "the minute window is full");
        assert!(RateBudget::unlimited().try_acquire(t0).is_ok());
    }

    #[test]
    fn preloaded_requests_count_against_the_window() {
        let b = RateBudget::new(&[(240, Duration::from_secs(3600))]);
        let t0 = Instant::now();
        b.preload(240, t0);
        assert_eq!(b.used(t0, Duration::from_secs(3600)), 240);
        let wait = b.try_acquire(t0 + Duration::from_secs(60)).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(3540),
            "the earlier process's hour must pass"
        );
        assert!(b.try_acquire(t0 + Duration::from_secs(3600)).is_ok());
    }
}
