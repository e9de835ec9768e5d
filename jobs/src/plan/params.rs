//! Job parameters: numbers named in `job.toml`'s `[params]`, overridden with `--set name=value`,
//! substituted into the SQL as `${name}`. Only numbers are accepted, so a parameter can never
//! inject SQL.

use std::collections::BTreeMap;
use std::fmt;

/// A job's parameter values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Number>,
}

/// A parameter value: an integer or a float, printed back exactly as SQL.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Integer(i64),
    Float(f64),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Integer(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x:?}"),
        }
    }
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
                other => return Err(format!("parameter {name} must be a number, found {other}")),
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
        let number =
            Number::parse(value).ok_or_else(|| format!("{name} must be a number, found '{value}'"))?;
        self.values.insert(name.to_string(), number);
        Ok(())
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
            .map(|(k, v)| format!("{k}={v}"))
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
        assert!(p.set("nope=1").unwrap_err().contains("known: threshold, top"));
        assert!(p.set("top").is_err());
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        assert!(params().substitute("${missing}").is_err());
        assert!(params().substitute("${top").is_err());
    }
}
