//! Reporting periods for `medallion run --date/--week/--month/--from/--to`: a half-open window of
//! calendar dates `[start, end)` that sets a job's `${period_start}` and `${period_end}` date
//! parameters.

use std::fmt;

use chrono::{Datelike, Duration, IsoWeek, Months, NaiveDate, Weekday};

use super::params::parse_date;

/// The parameter set to a period's first day.
pub const PERIOD_START: &str = "period_start";
/// The parameter set to the day after a period's last day.
pub const PERIOD_END: &str = "period_end";

/// The length of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// A calendar day, written `YYYY-MM-DD`.
    Day,
    /// An ISO week (Monday to Sunday), written `YYYY-Www`.
    Week,
    /// A calendar month, written `YYYY-MM`.
    Month,
}

/// A window of whole days `[start, end)`, made of one or more periods of one grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The grain the window was given in.
    pub grain: Grain,
    /// The first day.
    pub start: NaiveDate,
    /// The day after the last day.
    pub end: NaiveDate,
}

impl Period {
    /// The day `text` (`YYYY-MM-DD`).
    pub fn day(text: &str) -> Result<Self, String> {
        let start = parse_date(text).ok_or_else(|| format!("'{text}' is not a date YYYY-MM-DD"))?;
        let end = start
            .succ_opt()
            .ok_or_else(|| format!("'{text}' is out of range"))?;
        Ok(Self {
            grain: Grain::Day,
            start,
            end,
        })
    }

    /// The ISO week `text` (`YYYY-Www`, e.g. `2024-W03`), Monday to Sunday.
    pub fn week(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not an ISO week YYYY-Www (e.g. 2024-W03)");
        let (year, week) = text.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        let start = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
        Ok(Self {
            grain: Grain::Week,
            start,
            end: start + Duration::days(7),
        })
    }

    /// The calendar month `text` (`YYYY-MM`).
    pub fn month(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a month YYYY-MM");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if month.len() != 2 {
            return Err(bad());
        }
        let start = NaiveDate::from_ymd_opt(
            year.parse().map_err(|_| bad())?,
            month.parse().map_err(|_| bad())?,
            1,
        )
        .ok_or_else(bad)?;
        let end = start.checked_add_months(Months::new(1)).ok_or_else(bad)?;
        Ok(Self {
            grain: Grain::Month,
            start,
            end,
        })
    }

    /// A day, week or month, recognised by its format.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.contains("-W") {
            Self::week(text)
        } else if text.len() == 7 {
            Self::month(text)
        } else {
            Self::day(text)
        }
    }

    /// The window from the period `from` to the period `to`, both included and of the same grain
    /// (`--from 2024-01-01 --to 2024-01-31`, `--from 2024-W01 --to 2024-W04`,
    /// `--from 2024-01 --to 2024-06`).
    pub fn range(from: &str, to: &str) -> Result<Self, String> {
        let (first, last) = (Self::parse(from)?, Self::parse(to)?);
        if first.grain != last.grain {
            return Err(format!(
                "--from {from} and --to {to} are not periods of the same kind"
            ));
        }
        if last.start < first.start {
            return Err(format!("--to {to} is before --from {from}"));
        }
        Ok(Self {
            grain: first.grain,
            start: first.start,
            end: last.end,
        })
    }

    /// How many periods of its grain the window holds.
    pub fn periods(&self) -> u32 {
        let days = (self.end - self.start).num_days().max(0);
        match self.grain {
            Grain::Day => u32::try_from(days).unwrap_or(u32::MAX),
            Grain::Week => u32::try_from(days / 7).unwrap_or(u32::MAX),
            Grain::Month => {
                let months = (self.end.year() - self.start.year()) * 12 + self.end.month() as i32
                    - self.start.month() as i32;
                u32::try_from(months).unwrap_or(0)
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.end.pred_opt().unwrap_or(self.end);
        let label = |d: NaiveDate| match self.grain {
            Grain::Day => d.format("%Y-%m-%d").to_string(),
            Grain::Week => iso_week_label(d.iso_week()),
            Grain::Month => d.format("%Y-%m").to_string(),
        };
        let (a, b) = (label(self.start), label(last));
        if a == b {
            f.write_str(&a)
        } else {
            write!(f, "{a}..{b}")
        }
    }
}

/// `2024-W03`.
pub fn iso_week_label(week: IsoWeek) -> String {
    format!("{}-W{:02}", week.year(), week.week())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        parse_date(text).unwrap()
    }

    #[test]
    fn days_weeks_and_months_are_half_open_windows() {
        let day = Period::day("2024-02-29").unwrap();
        assert_eq!(
            (day.start, day.end),
            (date("2024-02-29"), date("2024-03-01"))
        );
        // ISO week 1 of 2025 starts on Monday 2024-12-30.
        let week = Period::week("2025-W01").unwrap();
        assert_eq!(
            (week.start, week.end),
            (date("2024-12-30"), date("2025-01-06"))
        );
        let month = Period::month("2024-12").unwrap();
        assert_eq!(
            (month.start, month.end),
            (date("2024-12-01"), date("2025-01-01"))
        );
        assert_eq!(month.to_string(), "2024-12");
        assert_eq!(week.to_string(), "2025-W01");
    }

    #[test]
    fn ranges_cover_both_ends() {
        let r = Period::range("2024-W01", "2024-W04").unwrap();
        assert_eq!((r.start, r.end), (date("2024-01-01"), date("2024-01-29")));
        assert_eq!(r.periods(), 4);
        assert_eq!(r.to_string(), "2024-W01..2024-W04");
        assert_eq!(Period::range("2024-01", "2024-06").unwrap().periods(), 6);
        assert_eq!(
            Period::range("2024-01-30", "2024-02-02").unwrap().periods(),
            4
        );
        assert!(Period::range("2024-02", "2024-01").is_err());
        assert!(Period::range("2024-01", "2024-01-05").is_err());
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in ["2024-13", "2024-W54", "2024-02-30", "yesterday", "2024-1"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
