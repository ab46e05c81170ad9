//! Times parsing a saved listing (profiling aid): `parse_listing FILE [repeat]`.
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_listing FILE [repeat]");
    let repeat: usize = args.next().map_or(5, |a| a.parse().expect("a count"));
    let bytes = std::fs::read(&path).expect("a readable file");
    for _ in 0..repeat {
        let t = Instant::now();
        let listing = smashrun_client::parse_listing(&bytes, None).expect("a listing");
        println!(
            "{} activities, {} rejected: {:?}",
            listing.activities.len(),
            listing.rejected.len(),
            t.elapsed()
        );
    }
}
