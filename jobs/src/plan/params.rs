//! Job parameters: numbers and dates named in `job.toml`'s `[params]`, overridden with
//! `--set name=value` (or, for the `period_start`/`period_end` dates, with `--date`/`--week`/`--month`),
//! substituted into the SQL as `${name}`. Only numbers and validated dates are accepted, so a
//! parameter can never inject SQL. Secrets (`[secrets]`, e.g. a pseudonymisation key) are set from
//! the environment or a file, substituted as quoted SQL strings and masked in every description.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};

/// A job's parameter values.
#[derive(Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Number>,
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Params({})", self.describe())
    }
}

/// A parameter value, printed back exactly as SQL: an integer, a float, a date
/// (`DATE 'YYYY-MM-DD'`) or a secret string (a quoted SQL string literal).
#[derive(Clone, PartialEq)]
enum Number {
    Integer(i64),
    Float(f64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Secret(String),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Integer(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x:?}"),
            Number::Date(d) => write!(f, "DATE '{}'", d.format("%Y-%m-%d")),
            Number::Timestamp(t) => write!(f, "TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.f")),
            Number::Secret(text) => write!(f, "'{}'", text.replace('\'', "''")),
        }
    }
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Parses a timestamp `YYYY-MM-DDTHH:MM[:SS[.fff]]` (or with a space), or a date `YYYY-MM-DD`
/// (midnight), in UTC.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim().trim_end_matches('Z');
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

impl Number {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Integer(i));
        }
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Number::Float)
    }
}

impl Params {
    /// The defaults of a `job.toml` `[params]` table.
    pub fn from_toml(table: &toml::Table) -> Result<Self, String> {
        let mut values = BTreeMap::new();
        for (name, value) in table {
            let number = match value {
                toml::Value::Integer(i) => Number::Integer(*i),
                toml::Value::Float(x) => Number::Float(*x),
                toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                    let date = dt
                        .date
                        .and_then(|d| {
                            NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                        })
                        .ok_or_else(|| format!("parameter {name}: bad date {dt}"))?;
                    Number::Date(date)
                }
                toml::Value::Datetime(dt) if dt.offset.is_none() => {
                    let stamp = parse_timestamp(&dt.to_string())
                        .ok_or_else(|| format!("parameter {name}: bad timestamp {dt}"))?;
                    Number::Timestamp(stamp)
                }
                other => {
                    return Err(format!(
                        "parameter {name} must be a number or a date, found {other}"
                    ));
                }
            };
            values.insert(name.clone(), number);
        }
        Ok(Self { values })
    }

    /// Overrides a parameter from a `name=value` argument.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("expected name=value, found '{assignment}'"))?;
        let name = name.trim();
        if !self.values.contains_key(name) {
            let known = self.values.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(format!("unknown parameter '{name}' (known: {known})"));
        }
        let number = match self.values.get(name) {
            Some(Number::Date(_)) => parse_date(value)
                .map(Number::Date)
                .ok_or_else(|| format!("{name} must be a date YYYY-MM-DD, found '{value}'"))?,
            Some(Number::Timestamp(_)) => parse_timestamp(value)
                .map(Number::Timestamp)
                .ok_or_else(|| {
                    format!("{name} must be a timestamp YYYY-MM-DDTHH:MM:SS, found '{value}'")
                })?,
            Some(Number::Secret(_)) => {
                return Err(format!(
                    "{name} is a secret: set it from its environment variable or --key-file"
                ));
            }
            _ => Number::parse(value)
                .ok_or_else(|| format!("{name} must be a number, found '{value}'"))?,
        };
        self.values.insert(name.to_string(), number);
        Ok(())
    }

    /// Adds every parameter of `other`, replacing those with the same name.
    pub fn extend(&mut self, other: &Params) {
        self.values
            .extend(other.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// Whether the job has a parameter called `name`.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The value of the date parameter `name`.
    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.values.get(name) {
            Some(Number::Date(d)) => Some(*d),
            _ => None,
        }
    }

    /// Sets the date parameter `name` (which the job must declare as a date).
    pub fn set_date(&mut self, name: &str, date: NaiveDate) -> Result<(), String> {
        match self.values.get(name) {
            Some(Number::Date(_)) => {
                self.values.insert(name.to_string(), Number::Date(date));
                Ok(())
            }
            Some(_) => Err(format!("parameter {name} is not a date")),
            None => Err(format!("the job has no date parameter {name}")),
        }
    }

    /// Sets the timestamp parameter `name` (which the job must declare as a timestamp).
    pub fn set_timestamp(&mut self, name: &str, stamp: NaiveDateTime) -> Result<(), String> {
        match self.values.get(name) {
            Some(Number::Timestamp(_)) => {
                self.values
                    .insert(name.to_string(), Number::Timestamp(stamp));
                Ok(())
            }
            Some(_) => Err(format!("parameter {name} is not a timestamp")),
            None => Err(format!("the job has no timestamp parameter {name}")),
        }
    }

    /// Sets the secret `name`, substituted as a quoted SQL string and masked as `***` by
    /// [`describe`](Self::describe) and [`redact`](Self::redact).
    pub fn set_secret(&mut self, name: &str, value: &str) {
        self.values
            .insert(name.to_string(), Number::Secret(value.to_string()));
    }

    /// `text` with every secret value replaced by `***` (for error messages and logs).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in self.values.values() {
            if let Number::Secret(secret) = value
                && !secret.is_empty()
            {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// `sql` with every `${name}` replaced by its value; an unknown name is an error.
    pub fn substitute(&self, sql: &str) -> Result<String, String> {
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| "unterminated ${ in SQL".to_string())?;
            let name = &after[..end];
            let value = self
                .values
                .get(name)
                .ok_or_else(|| format!("SQL uses unknown parameter ${{{name}}}"))?;
            out.push_str(&value.to_string());
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The parameters as `name=value` pairs, for logs and `medallion jobs`.
    pub fn describe(&self) -> String {
        self.values
            .iter()
            .map(|(k, v)| match v {
                Number::Secret(_) => format!("{k}=***"),
                Number::Date(d) => format!("{k}={}", d.format("%Y-%m-%d")),
                Number::Timestamp(t) => format!("{k}={}", t.format("%Y-%m-%dT%H:%M:%S%.f")),
                _ => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        let table: toml::Table = toml::from_str("top = 50\nthreshold = 0.05").unwrap();
        Params::from_toml(&table).unwrap()
    }

    #[test]
    fn placeholders_are_replaced() {
        let sql = params().substitute("LIMIT ${top} -- ${threshold}").unwrap();
        assert_eq!(sql, "LIMIT 50 -- 0.05");
    }

    #[test]
    fn overrides_must_be_known_numbers() {
        let mut p = params();
        p.set("top=3").unwrap();
        assert_eq!(p.substitute("${top}").unwrap(), "3");
        assert!(p.set("top=1; DROP TABLE x").is_err());
        assert!(
            p.set("nope=1")
                .unwrap_err()
                .contains("known: threshold, top")
        );
        assert!(p.set("top").is_err());
    }

    #[test]
    fn dates_are_validated_and_substituted_as_date_literals() {
        let table: toml::Table = toml::from_str("period_start = 1970-01-01\nn = 1").unwrap();
        let mut p = Params::from_toml(&table).unwrap();
        assert_eq!(
            p.substitute("${period_start}").unwrap(),
            "DATE '1970-01-01'"
        );
        p.set("period_start=2024-02-29").unwrap();
        assert_eq!(p.date("period_start"), parse_date("2024-02-29"));
        assert!(p.set("period_start=2023-02-29").is_err());
        assert!(p.set("period_start=2024-01-01' OR 1=1").is_err());
        assert!(p.set("n=2024-01-01").is_err());
        assert!(p.set_date("n", parse_date("2024-01-01").unwrap()).is_err());
        assert!(p.describe().contains("period_start=2024-02-29"));
    }

    #[test]
    fn secrets_are_quoted_and_masked() {
        let mut p = params();
        p.set_secret("key", "it's secret");
        assert_eq!(p.substitute("${key}").unwrap(), "'it''s secret'");
        assert!(p.describe().contains("key=***"));
        assert!(!format!("{p:?}").contains("secret"));
        assert_eq!(p.redact("bad key it's secret here"), "bad key *** here");
        assert!(p.set("key=x").is_err());
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        assert!(params().substitute("${missing}").is_err());
        assert!(params().substitute("${top").is_err());
    }
}
