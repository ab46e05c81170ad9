//! The attributes of a run that MyRunStreak keeps but never computes with, declared once.
//!
//! SmashRun's activity summary carries some thirty fields (weather, heart rate, cadence, flags,
//! the device...) that no streak rule reads and that the mirror keeps as they came. Each is named
//! a single time, in the one `run_attributes!` invocation below: its Rust field, its kind and
//! SmashRun's key. Everything else derives from that line:
//! - the client reads them by walking the keys ([`RunAttributes::read`], one typed reader per
//!   kind), so no parser lists them;
//! - the store builds its staging columns, its merge and its appender row from
//!   [`RunAttributes::FIELDS`] and [`RunAttributes::values`], and a store test checks that the
//!   migrated `runs` table has a column of the right type for each, so an attribute added here
//!   without a migration fails a test.
//!
//! Adding a SmashRun field is one line here and one migration. SmashRun's key is carried as data
//! so that it too is written once; this crate still parses nothing.

use serde::Serialize;

/// What an attribute holds: each kind is one Rust type (and one column type in the store).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttrKind {
    /// Text kept as written (`String`), unknown enum values included.
    Text,
    /// A whole number (`i64`).
    Integer,
    /// A finite number (`f64`).
    Real,
    /// A yes/no flag (`bool`).
    Flag,
}

/// One attribute as declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttrField {
    /// The Rust field, also the column name in the store.
    pub name: &'static str,
    /// What it holds.
    pub kind: AttrKind,
    /// SmashRun's key in an activity summary.
    pub key: &'static str,
}

/// One attribute's value, borrowed from a [`RunAttributes`]: what an adapter writes without
/// naming the field. `None` is a missing or unreadable value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttrValue<'a> {
    /// Of an [`AttrKind::Text`] attribute.
    Text(Option<&'a str>),
    /// Of an [`AttrKind::Integer`] attribute.
    Integer(Option<i64>),
    /// Of an [`AttrKind::Real`] attribute.
    Real(Option<f64>),
    /// Of an [`AttrKind::Flag`] attribute.
    Flag(Option<bool>),
}

/// Where attribute values are read from, by SmashRun key, with one reader per kind. The client
/// implements it over an activity's JSON; each reader returns `None` for a missing or
/// unreadable value and never fails.
pub trait AttrSource {
    /// The value under `key` as text.
    fn text(&self, key: &str) -> Option<String>;
    /// The value under `key` as a whole number.
    fn integer(&self, key: &str) -> Option<i64>;
    /// The value under `key` as a finite number.
    fn real(&self, key: &str) -> Option<f64>;
    /// The value under `key` as a flag.
    fn flag(&self, key: &str) -> Option<bool>;
}

/// The per-kind pieces of the declaration: the Rust type, the reader, the borrowed value.
macro_rules! attr {
    (@type Text) => {
        String
    };
    (@type Integer) => {
        i64
    };
    (@type Real) => {
        f64
    };
    (@type Flag) => {
        bool
    };
    (@read Text, $source:ident, $key:literal) => {
        $source.text($key)
    };
    (@read Integer, $source:ident, $key:literal) => {
        $source.integer($key)
    };
    (@read Real, $source:ident, $key:literal) => {
        $source.real($key)
    };
    (@read Flag, $source:ident, $key:literal) => {
        $source.flag($key)
    };
    (@value Text, $v:expr) => {
        AttrValue::Text($v.as_deref())
    };
    (@value $kind:ident, $v:expr) => {
        AttrValue::$kind($v)
    };
}

/// Declares [`RunAttributes`] and everything derived from it, from one line per attribute:
/// `field: Kind = "smashRunKey"`, with optional doc lines.
macro_rules! run_attributes {
    ($( $(#[doc = $doc:literal])* $field:ident: $kind:ident = $key:literal, )*) => {
        /// What SmashRun says of a run beyond its start, distance and moving time, kept as it
        /// came: each attribute is `None` when missing or unreadable. Declared once (see the
        /// module docs); serialized with its fields inline.
        #[derive(Clone, Debug, Default, PartialEq, Serialize)]
        pub struct RunAttributes {
            $(
                #[doc = concat!("`", $key, "`.")]
                $(#[doc = $doc])*
                pub $field: Option<attr!(@type $kind)>,
            )*
        }

        impl RunAttributes {
            /// Every attribute, in declaration order (the order of [`RunAttributes::values`]).
            pub const FIELDS: &'static [AttrField] = &[
                $(AttrField { name: stringify!($field), kind: AttrKind::$kind, key: $key },)*
            ];

            /// How many attributes there are.
            pub const COUNT: usize = Self::FIELDS.len();

            /// Reads every attribute from `source` under its SmashRun key, with the reader of
            /// its kind.
            pub fn read(source: &impl AttrSource) -> Self {
                RunAttributes {
                    $($field: attr!(@read $kind, source, $key),)*
                }
            }

            /// Each attribute's value, in the order of [`RunAttributes::FIELDS`].
            pub fn values(&self) -> [AttrValue<'_>; Self::COUNT] {
                [$(attr!(@value $kind, self.$field),)*]
            }
        }
    };
}

run_attributes! {
    /// `running` in every real sample; a missing type is read as running.
    activity_type: Text = "activityType",
    calories: Integer = "calories",
    /// The runner's text, untrusted.
    notes: Text = "notes",
    external_id: Text = "externalId",
    source: Text = "source",
    app_version: Text = "appVersion",
    device_type: Text = "deviceType",
    has_details: Flag = "hasDetails",
    has_details_gps: Flag = "hasDetailsGPS",
    start_latitude: Real = "startLatitude",
    start_longitude: Real = "startLongitude",
    heart_rate_min: Real = "heartRateMin",
    heart_rate_max: Real = "heartRateMax",
    heart_rate_average: Real = "heartRateAverage",
    /// Steps per minute.
    cadence_min: Real = "cadenceMin",
    cadence_max: Real = "cadenceMax",
    cadence_average: Real = "cadenceAverage",
    /// Kept whatever it says.
    weather_type: Text = "weatherType",
    /// °C.
    temperature: Real = "temperature",
    temperature_apparent: Real = "temperatureApparent",
    temperature_wind_chill: Real = "temperatureWindChill",
    /// Percent.
    humidity: Real = "humidity",
    /// km/h.
    wind_speed: Real = "windSpeed",
    /// Kept whatever it says.
    how_felt: Text = "howFelt",
    /// Kept whatever it says (`treadmill` makes a treadmill run).
    terrain: Text = "terrain",
    is_race: Flag = "isRace",
    is_treadmill: Flag = "isTreadmill",
    is_bad_hr: Flag = "isBadHR",
    is_bad_elevation: Flag = "isBadElevation",
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Answers every key with a value derived from the key, to see which reader each field uses.
    struct Echo;

    impl AttrSource for Echo {
        fn text(&self, key: &str) -> Option<String> {
            Some(key.to_owned())
        }
        fn integer(&self, key: &str) -> Option<i64> {
            Some(key.len() as i64)
        }
        fn real(&self, key: &str) -> Option<f64> {
            Some(key.len() as f64 + 0.5)
        }
        fn flag(&self, key: &str) -> Option<bool> {
            Some(key.len().is_multiple_of(2))
        }
    }

    #[test]
    fn each_field_is_read_under_its_key_with_its_kind_and_given_back_in_order() {
        let read = RunAttributes::read(&Echo);
        assert_eq!(read.heart_rate_min, Some("heartRateMin".len() as f64 + 0.5));
        assert_eq!(read.notes.as_deref(), Some("notes"));
        for (field, value) in RunAttributes::FIELDS.iter().zip(read.values()) {
            let expected = match field.kind {
                AttrKind::Text => AttrValue::Text(Some(field.key)),
                AttrKind::Integer => AttrValue::Integer(Echo.integer(field.key)),
                AttrKind::Real => AttrValue::Real(Echo.real(field.key)),
                AttrKind::Flag => AttrValue::Flag(Echo.flag(field.key)),
            };
            assert_eq!(value, expected, "{}", field.name);
        }
        assert!(RunAttributes::default().values().iter().all(|v| matches!(
            v,
            AttrValue::Text(None)
                | AttrValue::Integer(None)
                | AttrValue::Real(None)
                | AttrValue::Flag(None)
        )));
    }

    #[test]
    fn names_and_keys_are_unique() {
        let names: HashSet<_> = RunAttributes::FIELDS.iter().map(|f| f.name).collect();
        let keys: HashSet<_> = RunAttributes::FIELDS.iter().map(|f| f.key).collect();
        assert_eq!(names.len(), RunAttributes::COUNT);
        assert_eq!(keys.len(), RunAttributes::COUNT);
    }
}
