//! GPX, read with the georust `gpx` crate. GPX has no summary: the distance is the track's.

use jiff::Timestamp;

use crate::{DistanceFrom, ImportError, Parsed, geo};

fn instant(time: gpx::Time) -> Option<Timestamp> {
    // the crate keeps times in UTC (it converts any offset); its ISO text is what jiff reads
    time.format().ok()?.parse().ok()
}

pub(crate) fn read(bytes: &[u8]) -> Result<Parsed, ImportError> {
    let gpx = gpx::read(bytes).map_err(|e| ImportError::Malformed {
        format: "gpx",
        detail: e.to_string(),
    })?;
    let points: Vec<&gpx::Waypoint> = gpx
        .tracks
        .iter()
        .flat_map(|t| &t.segments)
        .flat_map(|s| &s.points)
        .collect();
    let times: Vec<Timestamp> = points
        .iter()
        .filter_map(|p| p.time.and_then(instant))
        .collect();
    let start = times
        .first()
        .copied()
        .or_else(|| gpx.metadata.as_ref().and_then(|m| m.time).and_then(instant));
    let elapsed_s = match (times.first(), times.last()) {
        (Some(first), Some(last)) if last > first => {
            Some(last.duration_since(*first).as_secs_f64())
        }
        _ => None,
    };
    // each segment alone: the gap between two segments (a pause, a lost signal) was not run;
    // geo_types points are (x, y) = (longitude, latitude)
    let distance = gpx
        .tracks
        .iter()
        .flat_map(|t| &t.segments)
        .filter_map(|s| geo::track_m(s.points.iter().map(|p| (p.point().y(), p.point().x()))))
        .reduce(|a, b| a + b)
        .map(|m| (m, DistanceFrom::TrackPoints));
    Ok(Parsed {
        start,
        local_offset: None,
        distance,
        moving_s: None,
        elapsed_s,
        sport: gpx.tracks.iter().find_map(|t| t.type_.clone()),
    })
}
