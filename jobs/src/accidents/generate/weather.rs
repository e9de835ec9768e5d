//! Synthetic weather observations: the dataset's `Weather_Condition` vocabulary with realistic
//! weights, temperature by month, latitude and hour, and the measurements that go with a condition
//! (snow mostly in winter and in the north, fog lowers the visibility, ...).

use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

use super::distributions::{normal, round_to};

/// Broad family of a weather condition, driving the other measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Fair, clear.
    Clear,
    /// Clouds, overcast.
    Cloudy,
    /// Rain, showers.
    Rain,
    /// Drizzle.
    Drizzle,
    /// Thunderstorms.
    Thunder,
    /// Snow.
    Snow,
    /// Freezing rain, sleet, ice pellets, wintry mix.
    Ice,
    /// Fog, mist, haze.
    Fog,
    /// Smoke, dust, sand.
    Dust,
    /// Squalls, tornadoes, funnel clouds, hail.
    Severe,
}

impl Kind {
    fn wintry(self) -> bool {
        matches!(self, Kind::Snow | Kind::Ice)
    }
}

/// The `Weather_Condition` vocabulary of the public dataset with approximate shares (percent).
pub const CONDITIONS: &[(&str, f64, Kind)] = &[
    ("Fair", 33.0, Kind::Clear),
    ("Cloudy", 13.0, Kind::Cloudy),
    ("Mostly Cloudy", 13.0, Kind::Cloudy),
    ("Partly Cloudy", 9.0, Kind::Cloudy),
    ("Clear", 5.0, Kind::Clear),
    ("Light Rain", 5.0, Kind::Rain),
    ("Overcast", 5.0, Kind::Cloudy),
    ("Scattered Clouds", 1.8, Kind::Cloudy),
    ("Light Snow", 1.6, Kind::Snow),
    ("Fog", 1.2, Kind::Fog),
    ("Rain", 1.1, Kind::Rain),
    ("Haze", 1.0, Kind::Fog),
    ("Fair / Windy", 0.5, Kind::Clear),
    ("Heavy Rain", 0.4, Kind::Rain),
    ("Light Drizzle", 0.3, Kind::Drizzle),
    ("Thunder in the Vicinity", 0.25, Kind::Thunder),
    ("T-Storm", 0.3, Kind::Thunder),
    ("Smoke", 0.3, Kind::Dust),
    ("Mostly Cloudy / Windy", 0.2, Kind::Cloudy),
    ("Cloudy / Windy", 0.2, Kind::Cloudy),
    ("Snow", 0.2, Kind::Snow),
    ("Light Rain with Thunder", 0.15, Kind::Thunder),
    ("Thunder", 0.15, Kind::Thunder),
    ("Partly Cloudy / Windy", 0.15, Kind::Cloudy),
    ("Heavy T-Storm", 0.1, Kind::Thunder),
    ("Wintry Mix", 0.1, Kind::Ice),
    ("Thunderstorm", 0.07, Kind::Thunder),
    ("Light Rain Showers", 0.05, Kind::Rain),
    ("Drizzle", 0.05, Kind::Drizzle),
    ("Patches of Fog", 0.05, Kind::Fog),
    ("Mist", 0.05, Kind::Fog),
    ("Heavy Snow", 0.05, Kind::Snow),
    ("N/A Precipitation", 0.05, Kind::Rain),
    ("Light Freezing Rain", 0.03, Kind::Ice),
    ("Light Snow / Windy", 0.03, Kind::Snow),
    ("Showers in the Vicinity", 0.03, Kind::Rain),
    ("Shallow Fog", 0.02, Kind::Fog),
    ("Rain / Windy", 0.02, Kind::Rain),
    ("Light Thunderstorms and Rain", 0.02, Kind::Thunder),
    ("Thunderstorms and Rain", 0.01, Kind::Thunder),
    ("Heavy Thunderstorms and Rain", 0.01, Kind::Thunder),
    ("Light Freezing Drizzle", 0.01, Kind::Ice),
    ("Blowing Snow", 0.01, Kind::Snow),
    ("Blowing Dust", 0.01, Kind::Dust),
    ("Widespread Dust", 0.01, Kind::Dust),
    ("Heavy Rain / Windy", 0.005, Kind::Rain),
    ("Light Ice Pellets", 0.005, Kind::Ice),
    ("Squalls", 0.003, Kind::Severe),
    ("Sand", 0.002, Kind::Dust),
    ("Sleet", 0.002, Kind::Ice),
    ("Ice Pellets", 0.002, Kind::Ice),
    ("Freezing Rain", 0.002, Kind::Ice),
    ("Hail", 0.001, Kind::Severe),
    ("Tornado", 0.001, Kind::Severe),
    ("Funnel Cloud", 0.0005, Kind::Severe),
];

/// The dataset's `Wind_Direction` values other than `CALM` and `VAR`.
const COMPASS: [&str; 16] = [
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW",
    "NNW",
];

/// One weather observation; `None` fields are NULL.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observation {
    /// `Weather_Condition`.
    pub condition: Option<&'static str>,
    /// `Temperature(F)`.
    pub temperature_f: Option<f64>,
    /// `Wind_Chill(F)`.
    pub wind_chill_f: Option<f64>,
    /// `Humidity(%)`.
    pub humidity_pct: Option<f64>,
    /// `Pressure(in)`.
    pub pressure_in: Option<f64>,
    /// `Visibility(mi)`.
    pub visibility_mi: Option<f64>,
    /// `Wind_Direction`.
    pub wind_direction: Option<&'static str>,
    /// `Wind_Speed(mph)`.
    pub wind_speed_mph: Option<f64>,
    /// `Precipitation(in)`.
    pub precipitation_in: Option<f64>,
}

/// Weighted samplers of the condition vocabulary.
#[derive(Debug, Clone)]
pub struct WeatherSampler {
    all: WeightedIndex<f64>,
    mild: Vec<usize>,
    mild_weights: WeightedIndex<f64>,
    wintry: Vec<usize>,
    wintry_weights: WeightedIndex<f64>,
}

impl WeatherSampler {
    /// Builds the samplers from [`CONDITIONS`]; `None` if the table is empty (a bug).
    pub fn new() -> Option<Self> {
        let all = WeightedIndex::new(CONDITIONS.iter().map(|c| c.1)).ok()?;
        let (wintry, mild): (Vec<usize>, Vec<usize>) =
            (0..CONDITIONS.len()).partition(|&i| CONDITIONS[i].2.wintry());
        let mild_weights = WeightedIndex::new(mild.iter().map(|&i| CONDITIONS[i].1)).ok()?;
        let wintry_weights = WeightedIndex::new(wintry.iter().map(|&i| CONDITIONS[i].1)).ok()?;
        Some(Self {
            all,
            mild,
            mild_weights,
            wintry,
            wintry_weights,
        })
    }

    /// A condition index plausible at `temperature_f`: snow and ice only in the cold (and more often
    /// there), thunderstorms only in the warmth.
    fn condition<R: Rng + ?Sized>(&self, rng: &mut R, temperature_f: f64) -> usize {
        if temperature_f < 30.0 && rng.gen_bool(0.15) {
            return self.wintry[self.wintry_weights.sample(rng)];
        }
        let mut index = self.all.sample(rng);
        for _ in 0..4 {
            let kind = CONDITIONS[index].2;
            let implausible = (kind.wintry() && temperature_f > 38.0)
                || (kind == Kind::Thunder && temperature_f < 45.0);
            if !implausible {
                return index;
            }
            index = self.mild[self.mild_weights.sample(rng)];
        }
        index
    }

    /// An observation at a place of latitude `lat` and longitude `lng`, in `month` (1..=12), at
    /// `hour` (0..24) local. The Pacific coast (west of 117°W) gets milder seasons.
    pub fn observe<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        lat: f64,
        lng: f64,
        month: u32,
        hour: u32,
    ) -> Observation {
        let maritime = lng < -117.0;
        let annual_mean = 100.0 - 1.1 * lat + if maritime { 4.0 } else { 0.0 };
        let amplitude = (0.9 * (lat - 20.0) + 8.0) * if maritime { 0.45 } else { 1.0 };
        let season = (std::f64::consts::TAU * (f64::from(month) - 7.0) / 12.0).cos();
        let diurnal = 8.0 * (std::f64::consts::TAU * (f64::from(hour) - 15.0) / 24.0).cos();
        let temperature =
            normal(rng, annual_mean + amplitude * season + diurnal, 6.0).clamp(-30.0, 120.0);
        let temperature = round_to(temperature, 1);

        let index = self.condition(rng, temperature);
        let (name, _, kind) = CONDITIONS[index];

        let windy = name.ends_with("/ Windy") || kind == Kind::Severe;
        let (wind_direction, wind_speed) = if !windy && rng.gen_bool(0.1) {
            ("CALM", 0.0)
        } else {
            let base = if windy {
                normal(rng, 25.0, 5.0)
            } else {
                normal(rng, 8.0, 4.5)
            };
            let direction = if rng.gen_bool(0.04) {
                "VAR"
            } else {
                COMPASS[rng.gen_range(0..COMPASS.len())]
            };
            (direction, round_to(base.clamp(3.0, 60.0), 1))
        };
        let wind_chill = if temperature <= 50.0 && wind_speed >= 3.0 {
            let v = wind_speed.powf(0.16);
            round_to(
                35.74 + 0.6215 * temperature - 35.75 * v + 0.4275 * temperature * v,
                1,
            )
        } else {
            temperature
        };
        let humidity = match kind {
            Kind::Rain | Kind::Drizzle | Kind::Thunder | Kind::Fog | Kind::Snow | Kind::Ice => {
                normal(rng, 88.0, 8.0)
            }
            Kind::Dust => normal(rng, 30.0, 12.0),
            _ => normal(rng, 62.0, 18.0),
        }
        .clamp(5.0, 100.0)
        .round();
        let pressure = match kind {
            Kind::Rain | Kind::Thunder | Kind::Snow | Kind::Ice | Kind::Severe => {
                normal(rng, 29.7, 0.25)
            }
            _ => normal(rng, 29.95, 0.25),
        }
        .clamp(28.5, 30.8);
        let visibility = match kind {
            Kind::Fog => rng.gen_range(0.1..3.0),
            Kind::Snow | Kind::Ice => rng.gen_range(0.25..5.0),
            Kind::Rain | Kind::Thunder | Kind::Drizzle => {
                if rng.gen_bool(0.5) {
                    10.0
                } else {
                    rng.gen_range(1.0..10.0)
                }
            }
            Kind::Dust => rng.gen_range(0.5..6.0),
            _ => {
                if rng.gen_bool(0.9) {
                    10.0
                } else {
                    rng.gen_range(4.0..10.0)
                }
            }
        };
        let precipitation = match kind {
            Kind::Rain | Kind::Thunder | Kind::Snow | Kind::Ice => rng.gen_range(0.01..0.5),
            Kind::Drizzle => rng.gen_range(0.0..0.05),
            _ => 0.0,
        };

        let mut keep = |probability_null: f64| !rng.gen_bool(probability_null);
        Observation {
            condition: keep(0.02).then_some(name),
            temperature_f: keep(0.02).then_some(temperature),
            wind_chill_f: keep(0.25).then_some(wind_chill),
            humidity_pct: keep(0.022).then_some(humidity),
            pressure_in: keep(0.018).then_some(round_to(pressure, 2)),
            visibility_mi: keep(0.02).then_some(round_to(visibility, 1)),
            wind_direction: keep(0.022).then_some(wind_direction),
            wind_speed_mph: keep(0.07).then_some(wind_speed),
            precipitation_in: keep(0.28).then_some(round_to(precipitation, 2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn snow_is_a_winter_and_northern_thing() {
        let sampler = WeatherSampler::new().expect("tables");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let snowy = |obs: &Observation| {
            obs.condition
                .and_then(|c| CONDITIONS.iter().find(|e| e.0 == c))
                .is_some_and(|e| e.2.wintry())
        };
        let count = |rng: &mut ChaCha8Rng, lat: f64, month: u32| {
            (0..5000)
                .filter(|_| snowy(&sampler.observe(rng, lat, -90.0, month, 8)))
                .count()
        };
        let minneapolis_january = count(&mut rng, 45.0, 1);
        let miami_january = count(&mut rng, 25.8, 1);
        let minneapolis_july = count(&mut rng, 45.0, 7);
        assert!(minneapolis_january > 200, "{minneapolis_january}");
        assert!(miami_january < 5, "{miami_january}");
        assert!(minneapolis_july < 5, "{minneapolis_july}");
    }

    #[test]
    fn fair_is_the_most_common_condition() {
        let sampler = WeatherSampler::new().expect("tables");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let fair = (0..10_000)
            .filter(|_| sampler.observe(&mut rng, 35.0, -90.0, 5, 12).condition == Some("Fair"))
            .count();
        assert!((2500..4500).contains(&fair), "{fair}");
    }
}
