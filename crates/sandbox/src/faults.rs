//! Faults injected into API answers, deterministic under a seed: the n-th API request of a
//! sandbox always gets the same fault.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which faults to inject, and how often.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Seed for fault decisions.
    pub seed: u64,
    /// Share of API requests that get one of the enabled faults (0 to 1).
    pub rate: f64,
    /// 500 and 503 answers.
    pub server_errors: bool,
    /// Connections dropped in the middle of the body.
    pub drops: bool,
    /// Bodies cut in half (valid HTTP, broken JSON).
    pub truncations: bool,
    /// 429 with `Retry-After` although the client is within its limits.
    pub bursts_429: bool,
    /// Answers delayed by two seconds.
    pub slow: bool,
    /// Latency added to every API answer, in milliseconds.
    pub latency_ms: u64,
}

impl Faults {
    /// Every kind of fault at `rate`.
    pub fn all(seed: u64, rate: f64) -> Self {
        Faults {
            seed,
            rate,
            server_errors: true,
            drops: true,
            truncations: true,
            bursts_429: true,
            slow: false,
            latency_ms: 0,
        }
    }

    /// The fault for the `seq`-th API request, if any.
    pub(crate) fn decide(&self, seq: u64) -> Option<Fault> {
        let mut kinds = Vec::new();
        if self.server_errors {
            kinds.push(Fault::ServerError(500));
            kinds.push(Fault::ServerError(503));
        }
        if self.drops {
            kinds.push(Fault::Drop);
        }
        if self.truncations {
            kinds.push(Fault::Truncate);
        }
        if self.bursts_429 {
            kinds.push(Fault::TooManyRequests);
        }
        if self.slow {
            kinds.push(Fault::Slow);
        }
        if kinds.is_empty() || self.rate <= 0.0 {
            return None;
        }
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if rng.random::<f64>() >= self.rate {
            return None;
        }
        Some(kinds[rng.random_range(0..kinds.len())])
    }
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    ServerError(u16),
    Drop,
    Truncate,
    TooManyRequests,
    Slow,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError(500) => "500",
            Fault::ServerError(_) => "503",
            Fault::Drop => "drop",
            Fault::Truncate => "truncate",
            Fault::TooManyRequests => "429",
            Fault::Slow => "slow",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_rate_is_respected() {
        let f = Faults::all(7, 0.1);
        let a: Vec<_> = (0..1000).map(|i| f.decide(i)).collect();
        let b: Vec<_> = (0..1000).map(|i| f.decide(i)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|x| x.is_some()).count();
        assert!((60..140).contains(&hits), "{hits}");
        assert!(Faults::default().decide(3).is_none());
    }
}
