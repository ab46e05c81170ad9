//! TCX (Garmin's Training Center XML), read with `roxmltree`: no TCX crate is kept up.

use jiff::Timestamp;
use jiff::tz::Offset;
use roxmltree::{Document, Node};

use crate::{DistanceFrom, ImportError, Parsed, geo, xml_time};

const FORMAT: &str = "tcx";

fn malformed(detail: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        format: FORMAT,
        detail: detail.to_string(),
    }
}

/// Children of `node` named `name`, whatever their namespace (files differ in their prefixes).
fn children<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> Option<Node<'a, 'i>> {
    children(node, name).next()
}

fn number(node: Option<Node>) -> Option<f64> {
    node?
        .text()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

pub(crate) fn read(bytes: &[u8]) -> Result<Parsed, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(format!("not UTF-8 text: {e}")))?;
    // a byte-order mark is allowed before the declaration
    let text = text.trim_start_matches('\u{feff}');
    let doc = Document::parse(text).map_err(malformed)?;
    let root = doc.root_element();
    if root.tag_name().name() != "TrainingCenterDatabase" {
        return Err(malformed(
            "the root element is not <TrainingCenterDatabase>",
        ));
    }
    let activity = child(root, "Activities")
        .and_then(|a| child(a, "Activity"))
        .ok_or_else(|| malformed("no <Activities><Activity>"))?;
    let laps: Vec<Node> = children(activity, "Lap").collect();
    let points: Vec<Node> = laps
        .iter()
        .flat_map(|lap| children(*lap, "Track"))
        .flat_map(|track| children(track, "Trackpoint"))
        .collect();
    let point_times: Vec<(Timestamp, Option<Offset>)> = points
        .iter()
        .filter_map(|p| child(*p, "Time").and_then(|t| t.text()).and_then(xml_time))
        .collect();

    let start = laps
        .first()
        .and_then(|lap| lap.attribute("StartTime"))
        .and_then(xml_time)
        .or_else(|| {
            child(activity, "Id")
                .and_then(|id| id.text())
                .and_then(xml_time)
        })
        .or_else(|| point_times.first().copied());

    let lap_distances: Vec<f64> = laps
        .iter()
        .filter_map(|lap| number(child(*lap, "DistanceMeters")))
        .collect();
    let cumulative = points
        .iter()
        .filter_map(|p| number(child(*p, "DistanceMeters")))
        .fold(None, |max: Option<f64>, d| {
            Some(max.map_or(d, |m| m.max(d)))
        });
    let positions = points.iter().filter_map(|p| {
        let pos = child(*p, "Position")?;
        Some((
            number(child(pos, "LatitudeDegrees"))?,
            number(child(pos, "LongitudeDegrees"))?,
        ))
    });
    let laps_m: f64 = lap_distances.iter().sum();
    let distance = if laps_m > 0.0 {
        Some((laps_m, DistanceFrom::Summary))
    } else if let Some(m) = cumulative.filter(|m| *m > 0.0) {
        Some((m, DistanceFrom::Summary))
    } else {
        geo::track_m(positions).map(|m| (m, DistanceFrom::TrackPoints))
    };

    let lap_times: Vec<f64> = laps
        .iter()
        .filter_map(|lap| number(child(*lap, "TotalTimeSeconds")))
        .collect();
    let moving_s = (!lap_times.is_empty()).then(|| lap_times.iter().sum());
    let elapsed_s = match (start, point_times.last()) {
        (Some((first, _)), Some((last, _))) if *last > first => {
            Some(last.duration_since(first).as_secs_f64())
        }
        _ => None,
    };
    Ok(Parsed {
        start: start.map(|(t, _)| t),
        local_offset: start.and_then(|(_, o)| o),
        distance,
        moving_s,
        elapsed_s,
        sport: activity.attribute("Sport").map(str::to_owned),
    })
}
