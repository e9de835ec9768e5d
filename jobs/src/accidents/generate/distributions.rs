//! Small samplers shared by the row generator: normal draws, rows per year, the calendar of a year
//! (winter and weekday effects), hours of day (rush-hour peaks) and daylight.

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

/// Microseconds per second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Yearly growth of the number of accidents (more recent years have more rows).
const YEARLY_GROWTH: f64 = 1.2;

/// Relative accident rate per month, January first: winter months a bit higher.
const MONTH_WEIGHTS: [f64; 12] = [
    1.10, 1.00, 0.95, 0.90, 0.92, 0.88, 0.85, 0.92, 0.98, 1.05, 1.12, 1.18,
];

/// Relative rate of a Saturday or Sunday compared to a weekday.
const WEEKEND_WEIGHT: f64 = 0.55;

/// Relative accident rate per hour on weekdays: morning and evening rush hours.
const WEEKDAY_HOURS: [f64; 24] = [
    0.9, 0.7, 0.6, 0.6, 0.8, 1.5, 3.0, 5.5, 5.5, 3.8, 3.3, 3.4, 3.6, 4.0, 4.5, 5.6, 6.2, 6.0, 4.0,
    2.8, 2.2, 1.9, 1.6, 1.2,
];

/// Relative accident rate per hour on weekends: a flat midday hump.
const WEEKEND_HOURS: [f64; 24] = [
    1.4, 1.2, 1.0, 0.8, 0.7, 0.8, 1.0, 1.4, 1.9, 2.5, 3.0, 3.4, 3.6, 3.7, 3.7, 3.6, 3.5, 3.3, 2.9,
    2.5, 2.2, 2.0, 1.8, 1.5,
];

/// A standard normal draw (Box-Muller).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A normal draw with the given mean and standard deviation.
pub fn normal<R: Rng + ?Sized>(rng: &mut R, mean: f64, std_dev: f64) -> f64 {
    mean + std_dev * standard_normal(rng)
}

/// `value` rounded to `decimals` decimal places.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// Splits `rows` over the years `start..=end`, growing [`YEARLY_GROWTH`] per year, by largest
/// remainder so the counts add up to `rows` exactly. Independent of the seed.
pub fn rows_per_year(rows: u64, start: i32, end: i32) -> Vec<(i32, u64)> {
    let years: Vec<i32> = (start..=end).collect();
    let weights: Vec<f64> = (0..years.len())
        .map(|i| YEARLY_GROWTH.powi(i32::try_from(i).unwrap_or(i32::MAX)))
        .collect();
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| rows as f64 * w / total).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut by_remainder: Vec<usize> = (0..years.len()).collect();
    // Largest remainder first; the most recent year wins ties.
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(b.cmp(&a))
    });
    for &i in by_remainder.iter().take((rows - assigned) as usize) {
        counts[i] += 1;
    }
    years.into_iter().zip(counts).collect()
}

/// The month (1..=12) of `year` with a spike of accidents: one in every odd year, a different
/// month from one odd year to the next (2017 August, 2019 October, 2021 December, 2023 February).
pub fn spike_month(year: i32) -> Option<u32> {
    (year.rem_euclid(2) == 1).then(|| (year.rem_euclid(12) * 7).rem_euclid(12) as u32 + 1)
}

/// One day of a [`YearCalendar`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Days since 1970-01-01.
    pub epoch_day: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Saturday or Sunday.
    pub weekend: bool,
}

/// The days of one year, weighted by month and weekday, and the hour-of-day samplers.
#[derive(Debug, Clone)]
pub struct YearCalendar {
    days: Vec<Day>,
    day_weights: WeightedIndex<f64>,
    weekday_hours: WeightedIndex<f64>,
    weekend_hours: WeightedIndex<f64>,
}

impl YearCalendar {
    /// The calendar of `year`; `None` for a year chrono cannot represent. In an odd year, the
    /// days of its spike month ([`spike_month`]) weigh `spike_factor` times as much.
    pub fn new(year: i32, spike_factor: f64) -> Option<Self> {
        let spike = spike_month(year);
        let mut days = Vec::with_capacity(366);
        let mut date = NaiveDate::from_ymd_opt(year, 1, 1)?;
        while date.year() == year {
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            days.push(Day {
                epoch_day: i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE,
                month: date.month(),
                weekend,
            });
            date = date.succ_opt()?;
        }
        let day_weights = WeightedIndex::new(days.iter().map(|d| {
            let mut month = MONTH_WEIGHTS[(d.month - 1) as usize];
            if Some(d.month) == spike {
                month *= spike_factor;
            }
            if d.weekend {
                month * WEEKEND_WEIGHT
            } else {
                month
            }
        }))
        .ok()?;
        Some(Self {
            days,
            day_weights,
            weekday_hours: WeightedIndex::new(WEEKDAY_HOURS).ok()?,
            weekend_hours: WeightedIndex::new(WEEKEND_HOURS).ok()?,
        })
    }

    /// A random start time: its day, hour, and the microseconds since 1970-01-01 (whole seconds).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> (Day, u32, i64) {
        let day = self.days[self.day_weights.sample(rng)];
        let hour = if day.weekend {
            self.weekend_hours.sample(rng)
        } else {
            self.weekday_hours.sample(rng)
        } as u32;
        let second_of_hour: i64 = rng.gen_range(0..3600);
        let seconds = day.epoch_day * 86_400 + i64::from(hour) * 3600 + second_of_hour;
        (day, hour, seconds * MICROS_PER_SECOND)
    }
}

/// Sunrise and sunset hours (local clock time, daylight saving included) for `month`, roughly for
/// the latitude of the contiguous US.
fn sun_hours(month: u32) -> (f64, f64) {
    // +1 around the June solstice, -1 around the December one.
    let season = (std::f64::consts::TAU * (f64::from(month) - 6.5) / 12.0).cos();
    (6.5 - 1.0 * season, 19.0 + 1.5 * season)
}

/// 'Day' or 'Night' for the four twilight columns (sunrise/sunset, civil, nautical, astronomical) at
/// `hour` (fractional, local time) in `month`.
pub fn twilight(month: u32, hour: f64) -> [&'static str; 4] {
    let (sunrise, sunset) = sun_hours(month);
    [0.0, 0.5, 1.0, 1.5].map(|margin| {
        if hour >= sunrise - margin && hour < sunset + margin {
            "Day"
        } else {
            "Night"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rows_per_year_adds_up_and_grows() {
        let split = rows_per_year(1_000_003, 2016, 2023);
        assert_eq!(split.len(), 8);
        assert_eq!(split.iter().map(|(_, n)| n).sum::<u64>(), 1_000_003);
        assert!(split.windows(2).all(|w| w[0].1 < w[1].1));
        assert_eq!(rows_per_year(1, 2020, 2020), vec![(2020, 1)]);
        assert_eq!(
            rows_per_year(2, 2016, 2023)
                .iter()
                .map(|(_, n)| n)
                .sum::<u64>(),
            2
        );
    }

    #[test]
    fn calendar_knows_leap_years_and_weekends() {
        let calendar = YearCalendar::new(2020, 3.0).expect("2020");
        assert_eq!(calendar.days.len(), 366);
        // 2020-01-04 was a Saturday; 1970-01-01 is epoch day 0.
        assert!(calendar.days[3].weekend && !calendar.days[0].weekend);
        assert_eq!(
            YearCalendar::new(1970, 3.0).expect("1970").days[0].epoch_day,
            0
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (day, hour, micros) = calendar.sample(&mut rng);
        assert!(hour < 24);
        assert_eq!(micros / MICROS_PER_SECOND / 86_400, day.epoch_day);
    }

    #[test]
    fn twilight_follows_the_clock() {
        assert_eq!(twilight(6, 12.0), ["Day"; 4]);
        assert_eq!(twilight(12, 2.0), ["Night"; 4]);
        // Just after a December sunset: civil twilight is still 'Day'.
        let dusk = twilight(12, sun_hours(12).1 + 0.25);
        assert_eq!(dusk, ["Night", "Day", "Day", "Day"]);
    }
}
