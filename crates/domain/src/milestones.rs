use serde::Serialize;

/// Streak lengths worth celebrating: 7, 30, 100, 365 and 1,000 days, and every further year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Milestones {
    /// Milestones the streak has reached, smallest first.
    pub reached: Vec<u32>,
    /// The next milestone.
    pub next: u32,
    /// Days still to run to reach it.
    pub days_to_next: u32,
    /// A streak of 365 days or more can be listed by the USRSA.
    pub usrsa_listable: bool,
}

/// Days from which a streak is eligible for the USRSA's lists.
pub const USRSA_LISTABLE_DAYS: u32 = 365;

impl Milestones {
    /// The milestones of a streak of `days` days.
    pub fn for_days(days: u32) -> Self {
        let mut reached = Vec::new();
        let mut next = 7;
        for m in all() {
            if m <= days {
                reached.push(m);
            } else {
                next = m;
                break;
            }
        }
        Milestones {
            reached,
            next,
            days_to_next: next - days,
            usrsa_listable: days >= USRSA_LISTABLE_DAYS,
        }
    }
}

/// Every milestone in increasing order, without end.
fn all() -> impl Iterator<Item = u32> {
    let fixed = [7u32, 30, 100, 1000];
    let years = (1u32..).map(|y| y * 365);
    let mut fixed = fixed.into_iter().peekable();
    let mut years = years.peekable();
    std::iter::from_fn(move || match (fixed.peek(), years.peek()) {
        (Some(&f), Some(&y)) if f < y => fixed.next(),
        _ => years.next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestone_sequence() {
        let first: Vec<u32> = all().take(8).collect();
        assert_eq!(first, [7, 30, 100, 365, 730, 1000, 1095, 1460]);
    }

    #[test]
    fn reached_and_next() {
        let m = Milestones::for_days(0);
        assert!(m.reached.is_empty());
        assert_eq!((m.next, m.days_to_next), (7, 7));
        let m = Milestones::for_days(365);
        assert_eq!(m.reached, [7, 30, 100, 365]);
        assert_eq!((m.next, m.days_to_next, m.usrsa_listable), (730, 365, true));
        assert!(!Milestones::for_days(364).usrsa_listable);
    }
}
