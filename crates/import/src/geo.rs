//! Distance over a track: the haversine sum, for files with no summary.

/// Mean Earth radius in metres (IUGG), the usual radius for haversine.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two (latitude, longitude) points in degrees.
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The length of a track of (latitude, longitude) points in metres; `None` with fewer than two
/// valid points. Points off the globe (a receiver's garbage) are skipped.
pub fn track_m(points: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let mut points = points.into_iter().filter(|(lat, lon)| {
        lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
    });
    let mut last = points.next()?;
    let mut total = 0.0;
    let mut segments = 0;
    for p in points {
        total += haversine_m(last, p);
        last = p;
        segments += 1;
    }
    (segments > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_degree_of_latitude_is_about_111_km() {
        let m = haversine_m((0.0, 0.0), (1.0, 0.0));
        assert!((m - 111_195.0).abs() < 1.0, "{m}");
        assert_eq!(track_m([(0.0, 0.0)]), None);
        assert_eq!(track_m([(0.0, 0.0), (91.0, 0.0)]), None);
    }
}
