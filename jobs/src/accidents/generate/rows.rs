//! Generates synthetic accident rows: where, when, how bad, what the road and the weather were.

use std::fmt::Write as _;

use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

use super::distributions::{MICROS_PER_SECOND, YearCalendar, normal, round_to, twilight};
use super::places::Places;
use super::weather::{Observation, WeatherSampler};
use crate::accidents::silver_writer::row::{Row, Value};

/// Severity 1..=4 shares of the public dataset, in percent.
const SEVERITY_SHARES: [f64; 4] = [0.9, 79.7, 16.9, 2.5];

/// `Source` values and their shares.
const SOURCES: [(&str, f64); 3] = [("Source1", 56.0), ("Source2", 42.0), ("Source3", 2.0)];

/// Rate of `True` of each infrastructure flag, in [`INFRASTRUCTURE_FLAGS`] order (amenity, bump,
/// crossing, give_way, junction, no_exit, railway, roundabout, station, stop, traffic_calming,
/// traffic_signal, turning_loop).
///
/// [`INFRASTRUCTURE_FLAGS`]: crate::accidents::schema::INFRASTRUCTURE_FLAGS
const FLAG_RATES: [f64; 13] = [
    0.012, 0.0005, 0.11, 0.005, 0.07, 0.0025, 0.009, 0.00003, 0.026, 0.03, 0.001, 0.15, 0.0,
];

/// Highways, as the dataset's `Street` spells them.
const HIGHWAYS: [&str; 24] = [
    "I-5 N", "I-5 S", "I-10 E", "I-10 W", "I-95 N", "I-95 S", "I-75 N", "I-75 S", "I-35 N",
    "I-35 S", "I-80 E", "I-80 W", "I-405 N", "I-405 S", "I-94 E", "I-94 W", "US-101 N", "US-101 S",
    "I-85 N", "I-85 S", "I-4 E", "I-4 W", "I-26 E", "I-26 W",
];

/// Local streets.
const STREETS: [&str; 30] = [
    "Main St",
    "Broadway",
    "Oak St",
    "Park Ave",
    "Washington Blvd",
    "Maple Ave",
    "Elm St",
    "Lincoln Ave",
    "Market St",
    "2nd St",
    "3rd Ave",
    "Pine St",
    "Cedar Rd",
    "Jefferson St",
    "Highland Ave",
    "Lake Dr",
    "Hill Rd",
    "Church St",
    "Center St",
    "Sunset Blvd",
    "River Rd",
    "Airport Blvd",
    "Franklin Ave",
    "Madison St",
    "Martin Luther King Jr Blvd",
    "Spring St",
    "Mill Rd",
    "Union St",
    "College Ave",
    "Valley View Dr",
];

/// Directions used in descriptions.
const BOUNDS: [&str; 4] = ["Northbound", "Southbound", "Eastbound", "Westbound"];

/// The patterns planted in the data so that the datamart's analytics (SPEC section 3b) find
/// something: `medallion generate accidents --spike-factor --severity-distance-mi
/// --storm-severity-share`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patterns {
    /// How many times its usual share of the year's accidents the spike month of an odd year gets.
    pub spike_factor: f64,
    /// Miles each severity level above 1 adds to a non-zero distance.
    pub severity_distance_mi: f64,
    /// Share of the severity-2 accidents in snow, ice or thunderstorm weather made severity 3.
    pub storm_severity_share: f64,
}

impl Default for Patterns {
    /// The CLI defaults.
    fn default() -> Self {
        Self {
            spike_factor: 3.0,
            severity_distance_mi: 1.2,
            storm_severity_share: 0.1,
        }
    }
}

/// Read-only tables shared by every chunk (and thread).
#[derive(Debug, Clone)]
pub struct Tables {
    places: Places,
    weather: WeatherSampler,
    severity: WeightedIndex<f64>,
    source: WeightedIndex<f64>,
    patterns: Patterns,
}

impl Tables {
    /// Builds every sampler; `None` if a static table is empty (a bug caught by the unit tests).
    pub fn new(patterns: Patterns) -> Option<Self> {
        Some(Self {
            places: Places::new()?,
            weather: WeatherSampler::new()?,
            severity: WeightedIndex::new(SEVERITY_SHARES).ok()?,
            source: WeightedIndex::new(SOURCES.iter().map(|s| s.1)).ok()?,
            patterns,
        })
    }
}

/// Whether a weather condition is snow, ice or a thunderstorm (the conditions whose accidents
/// lean more severe).
pub(super) fn stormy(condition: &str) -> bool {
    let lower = condition.to_ascii_lowercase();
    [
        "snow", "sleet", "ice", "freezing", "wintry", "thunder", "storm",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

/// A uniform number in [0, 1) from the row number alone (a multiplicative hash): a decision that
/// draws nothing from the row's random stream, so the other values of the row stay as they were.
fn unit_from(number: u64) -> f64 {
    (number.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64
}

/// One generated row; the string fields are reused buffers so a chunk allocates almost nothing.
#[derive(Debug, Clone, Default)]
pub struct GeneratedRow {
    id: String,
    source: &'static str,
    severity: i32,
    start_time: i64,
    end_time: i64,
    start_lat: f64,
    start_lng: f64,
    end: Option<(f64, f64)>,
    distance_mi: f64,
    description: String,
    street: Option<&'static str>,
    city: Option<&'static str>,
    county: &'static str,
    state: &'static str,
    zipcode: String,
    has_zipcode: bool,
    timezone: Option<&'static str>,
    airport_code: Option<&'static str>,
    weather_timestamp: Option<i64>,
    weather: Observation,
    flags: [bool; 13],
    twilight: Option<[&'static str; 4]>,
    /// Whether the Bronze CSV writes this row's timestamps with (zero) fractional seconds, as ~10%
    /// of the public file does.
    pub fractional_seconds: bool,
}

impl GeneratedRow {
    /// The row as Silver values, in schema order.
    pub fn values(&self) -> Row<'_> {
        let (end_lat, end_lng) = match self.end {
            Some((lat, lng)) => (Some(lat), Some(lng)),
            None => (None, None),
        };
        let w = &self.weather;
        let flag = |i: usize| Value::Bool(Some(self.flags[i]));
        let light = |i: usize| Value::Str(self.twilight.map(|t| t[i]));
        [
            Value::Str(Some(&self.id)),
            Value::Str(Some(self.source)),
            Value::Int(Some(self.severity)),
            Value::Timestamp(Some(self.start_time)),
            Value::Timestamp(Some(self.end_time)),
            Value::Float(Some(self.start_lat)),
            Value::Float(Some(self.start_lng)),
            Value::Float(end_lat),
            Value::Float(end_lng),
            Value::Float(Some(self.distance_mi)),
            Value::Str(Some(&self.description)),
            Value::Str(self.street),
            Value::Str(self.city),
            Value::Str(Some(self.county)),
            Value::Str(Some(self.state)),
            Value::Str(self.has_zipcode.then_some(self.zipcode.as_str())),
            Value::Str(Some("US")),
            Value::Str(self.timezone),
            Value::Str(self.airport_code),
            Value::Timestamp(self.weather_timestamp),
            Value::Float(w.temperature_f),
            Value::Float(w.wind_chill_f),
            Value::Float(w.humidity_pct),
            Value::Float(w.pressure_in),
            Value::Float(w.visibility_mi),
            Value::Str(w.wind_direction),
            Value::Float(w.wind_speed_mph),
            Value::Float(w.precipitation_in),
            Value::Str(w.condition),
            flag(0),
            flag(1),
            flag(2),
            flag(3),
            flag(4),
            flag(5),
            flag(6),
            flag(7),
            flag(8),
            flag(9),
            flag(10),
            flag(11),
            flag(12),
            light(0),
            light(1),
            light(2),
            light(3),
        ]
    }
}

/// Fills [`GeneratedRow`]s of one year.
pub struct RowGenerator<'t> {
    tables: &'t Tables,
    calendar: YearCalendar,
}

impl<'t> RowGenerator<'t> {
    /// A generator of rows starting in `year`; `None` for a year chrono cannot represent.
    pub fn new(tables: &'t Tables, year: i32) -> Option<Self> {
        Some(Self {
            tables,
            calendar: YearCalendar::new(year, tables.patterns.spike_factor)?,
        })
    }

    /// Overwrites `row` with a fresh random accident whose id is `A-<number>`.
    pub fn fill<R: Rng + ?Sized>(&self, rng: &mut R, number: u64, row: &mut GeneratedRow) {
        let t = self.tables;
        row.id.clear();
        // Writing into a String cannot fail.
        let _ = write!(row.id, "A-{number}");
        row.source = SOURCES[t.source.sample(rng)].0;
        row.severity = t.severity.sample(rng) as i32 + 1;

        // When.
        let (day, hour, start) = self.calendar.sample(rng);
        row.start_time = start;
        let mut minutes = normal(rng, 60f64.ln(), 0.7).exp();
        if row.severity == 4 {
            minutes *= 1.5;
        }
        let seconds = (minutes.clamp(15.0, 360.0) * 60.0).round() as i64;
        row.end_time = start + seconds * MICROS_PER_SECOND;
        let second_of_day = (start / MICROS_PER_SECOND).rem_euclid(86_400);
        let hour_of_day = second_of_day as f64 / 3600.0;
        row.twilight = (!rng.gen_bool(0.003)).then(|| twilight(day.month, hour_of_day));
        row.weather_timestamp = (!rng.gen_bool(0.015)).then(|| {
            // METAR observations at :53 past the hour, the last one before the accident.
            let hour_start = start - (second_of_day % 3600) * MICROS_PER_SECOND;
            let observed = hour_start + 53 * 60 * MICROS_PER_SECOND;
            if observed <= start {
                observed
            } else {
                observed - 3600 * MICROS_PER_SECOND
            }
        });

        // Where.
        let city = t.places.sample(rng);
        row.state = city.state;
        row.county = city.county;
        row.city = (!rng.gen_bool(0.0005)).then_some(city.name);
        row.timezone = (!rng.gen_bool(0.001)).then_some(city.timezone);
        row.airport_code = (!rng.gen_bool(0.003)).then_some(city.airport);
        row.start_lat = round_to(city.lat + normal(rng, 0.0, 0.1).clamp(-0.3, 0.3), 6);
        row.start_lng = round_to(city.lng + normal(rng, 0.0, 0.1).clamp(-0.3, 0.3), 6);
        row.distance_mi = if rng.gen_bool(0.15) {
            0.0
        } else {
            // severity leans on distance (SPEC 3b's correlations have something to find)
            let lean = t.patterns.severity_distance_mi * f64::from(row.severity - 1);
            round_to((normal(rng, -1.6, 1.4).exp() + lean).clamp(0.001, 150.0), 3)
        };
        row.end = (row.source != "Source2").then(|| {
            let angle = rng.gen_range(0.0..std::f64::consts::TAU);
            let miles = row.distance_mi;
            let lat = row.start_lat + miles / 69.0 * angle.cos();
            let lng =
                row.start_lng + miles / (69.0 * row.start_lat.to_radians().cos()) * angle.sin();
            (round_to(lat, 6), round_to(lng, 6))
        });
        row.zipcode.clear();
        let _ = write!(row.zipcode, "{}{:02}", city.zip3, rng.gen_range(0..100));
        if rng.gen_bool(0.25) {
            let _ = write!(row.zipcode, "-{:04}", rng.gen_range(0..10_000));
        }
        row.has_zipcode = !rng.gen_bool(0.0003);

        // What happened.
        let highway = rng.gen_bool(0.4);
        let street = if highway {
            HIGHWAYS[rng.gen_range(0..HIGHWAYS.len())]
        } else {
            STREETS[rng.gen_range(0..STREETS.len())]
        };
        row.street = (!rng.gen_bool(0.001)).then_some(street);
        let cross = STREETS[rng.gen_range(0..STREETS.len())];
        let bound = BOUNDS[rng.gen_range(0..BOUNDS.len())];
        row.description.clear();
        let _ = match rng.gen_range(0..6) {
            0 => write!(row.description, "Accident on {street} at {cross}."),
            1 => write!(
                row.description,
                "Right lane blocked due to accident on {street} {bound} at Exit {}.",
                rng.gen_range(1..300)
            ),
            2 => write!(
                row.description,
                "Incident on {street} near {cross}. Drive with caution."
            ),
            3 => write!(
                row.description,
                "Crash on {street}, near {cross}, lanes blocked."
            ),
            4 => write!(
                row.description,
                "Slow traffic on {street} {bound} from {cross} to Exit {}, due to an accident.",
                rng.gen_range(1..300)
            ),
            _ => write!(
                row.description,
                "Road closed due to accident on {street} at {cross} - \"use alternate route\"."
            ),
        };
        for (flag, rate) in row.flags.iter_mut().zip(FLAG_RATES) {
            *flag = rate > 0.0 && rng.gen_bool(rate);
        }

        // Weather.
        row.weather = t.weather.observe(rng, city.lat, city.lng, day.month, hour);
        // accidents in snow, ice or thunderstorms lean more severe (a weather anomaly to find)
        if row.severity == 2
            && row.weather.condition.is_some_and(stormy)
            && unit_from(number) < t.patterns.storm_severity_share
        {
            row.severity = 3;
        }
        row.fractional_seconds = rng.gen_bool(0.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accidents::schema::accidents_schema;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn values_follow_the_schema_order_and_types() {
        let tables = Tables::new(Patterns::default()).expect("tables");
        let generator = RowGenerator::new(&tables, 2021).expect("2021");
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut row = GeneratedRow::default();
        let mut builder =
            crate::accidents::silver_writer::row::SilverBatchBuilder::new(4).expect("builder");
        for n in 1..=4 {
            generator.fill(&mut rng, n, &mut row);
            builder.append(&row.values()).expect("types match");
        }
        let batch = builder.finish().expect("batch");
        assert_eq!(batch.schema(), accidents_schema());
        assert_eq!(batch.num_rows(), 4);
    }

    #[test]
    fn end_time_is_15_minutes_to_6_hours_after_start_time() {
        let tables = Tables::new(Patterns::default()).expect("tables");
        let generator = RowGenerator::new(&tables, 2019).expect("2019");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut row = GeneratedRow::default();
        for n in 0..2000 {
            generator.fill(&mut rng, n, &mut row);
            let minutes = (row.end_time - row.start_time) / MICROS_PER_SECOND / 60;
            assert!((15..=360).contains(&minutes), "{minutes}");
            assert!(row.weather_timestamp.is_none_or(|w| w <= row.start_time));
        }
    }
}
