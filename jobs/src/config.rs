//! The batch configuration the jobs read (seed 000): `retention_policies.yaml` (how long Silver
//! partitions stay in the lake, where they are archived, when run leftovers are stale),
//! `batch_schedules.yaml` (when each job runs) and `resource_limits.yaml` (what each job is sized
//! for), from `--config-dir`, else `$MEDALLION_CONFIG_DIR`
//! (the CronJob pods mount the ConfigMap at `/etc/medallion`), else `./config` when it holds them;
//! without any, the copies of `config/` built into the binary.

use std::path::{Path, PathBuf};

use medallion_core::{Error, Result};
use yaml_serde::Value;

/// The retention policies built into the binary.
const BUILT_IN_RETENTION: &str = include_str!("../../config/retention_policies.yaml");
/// The schedules built into the binary.
const BUILT_IN_SCHEDULES: &str = include_str!("../../config/batch_schedules.yaml");
/// The resource limits built into the binary.
const BUILT_IN_LIMITS: &str = include_str!("../../config/resource_limits.yaml");
/// The resource limits file name.
const LIMITS_FILE: &str = "resource_limits.yaml";
/// The environment variable naming the configuration folder.
pub const CONFIG_DIR_ENV: &str = "MEDALLION_CONFIG_DIR";
/// The retention policies file name.
const RETENTION_FILE: &str = "retention_policies.yaml";
/// The schedules file name.
const SCHEDULES_FILE: &str = "batch_schedules.yaml";

/// The batch configuration: the parsed files and where they came from.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    retention: Value,
    schedules: Value,
    limits: Value,
    /// The folder the files were read from (`None`: the built-in copies).
    pub source: Option<PathBuf>,
}

/// How one Silver table is archived (`lake.<table>` of `retention_policies.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeRetention {
    /// Months of partitions kept in the lake.
    pub hot_retention_months: u32,
    /// Where its partitions go, relative to the lake root (e.g. `archive/vitals/`).
    pub archive_prefix: String,
}

/// When a job runs (`jobs.<job>` of `batch_schedules.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSchedule {
    /// 5-field cron.
    pub schedule: String,
    /// IANA time zone of the cron.
    pub timezone: String,
    /// daily, weekly or monthly.
    pub cadence: String,
    /// How long a run may take (`timeout_minutes`).
    pub timeout_minutes: Option<u64>,
    /// How late a missed run may still start (`starting_deadline_minutes`).
    pub starting_deadline_minutes: Option<u64>,
}

/// What a job is sized for (`jobs.<job>` of `resource_limits.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResources {
    /// Executor task slots the job is sized for at production volume.
    pub executor_slots: Option<u64>,
    /// CPU limit of the pod that plans and submits it.
    pub client_cpu: Option<String>,
    /// Memory limit of that pod.
    pub client_memory: Option<String>,
}

fn parse(text: &str, origin: &str) -> Result<Value> {
    yaml_serde::from_str(text).map_err(|e| Error::invalid(origin.to_string(), e.to_string()))
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

impl BatchConfig {
    /// The configuration built into the binary (a copy of the repository's `config/`).
    pub fn built_in() -> Result<Self> {
        Ok(Self {
            retention: parse(BUILT_IN_RETENTION, "built-in retention_policies.yaml")?,
            schedules: parse(BUILT_IN_SCHEDULES, "built-in batch_schedules.yaml")?,
            limits: parse(BUILT_IN_LIMITS, "built-in resource_limits.yaml")?,
            source: None,
        })
    }

    /// Reads the files of `dir`; a missing file falls back to the built-in copy, an unreadable or
    /// malformed one is an error naming it.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read = |name: &str, built_in: &str| -> Result<Value> {
            let path = dir.join(name);
            if !path.exists() {
                return parse(built_in, name);
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
            parse(&text, &path.display().to_string())
        };
        Ok(Self {
            retention: read(RETENTION_FILE, BUILT_IN_RETENTION)?,
            schedules: read(SCHEDULES_FILE, BUILT_IN_SCHEDULES)?,
            limits: read(LIMITS_FILE, BUILT_IN_LIMITS)?,
            source: Some(dir.to_path_buf()),
        })
    }

    /// The configuration of `dir`, else `$MEDALLION_CONFIG_DIR`, else `./config` when it holds
    /// `retention_policies.yaml`, else the built-in one. A folder given explicitly must exist.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        let explicit = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CONFIG_DIR_ENV).map(PathBuf::from));
        if let Some(dir) = explicit {
            if !dir.is_dir() {
                return Err(Error::invalid(
                    "--config-dir",
                    format!("{} is not a folder", dir.display()),
                ));
            }
            return Self::from_dir(&dir);
        }
        let local = Path::new("config");
        if local.join(RETENTION_FILE).is_file() {
            return Self::from_dir(local);
        }
        Self::built_in()
    }

    /// The archiving policy of Silver table `table`, when its action is `archive`.
    pub fn lake_retention(&self, table: &str) -> Option<LakeRetention> {
        let policy = at(&self.retention, &["lake", table])?;
        if policy.get("action").and_then(Value::as_str) != Some("archive") {
            return None;
        }
        let months = policy.get("hot_retention_months")?.as_u64()?;
        Some(LakeRetention {
            hot_retention_months: u32::try_from(months).ok()?,
            archive_prefix: policy
                .get("archive_prefix")
                .and_then(Value::as_str)
                .map_or_else(|| format!("archive/{table}/"), str::to_string),
        })
    }

    /// The Silver tables whose policy is `archive`, by name.
    pub fn archived_tables(&self) -> Vec<String> {
        let Some(lake) = at(&self.retention, &["lake"]).and_then(Value::as_mapping) else {
            return Vec::new();
        };
        let mut tables: Vec<String> = lake
            .keys()
            .filter_map(Value::as_str)
            .filter(|t| self.lake_retention(t).is_some())
            .map(str::to_string)
            .collect();
        tables.sort();
        tables
    }

    /// Hours after which a MySQL staging table of an unfinished run is stale
    /// (`staging.mysql_max_age_hours`, 24 when absent).
    pub fn mysql_staging_max_age_hours(&self) -> u64 {
        at(&self.retention, &["staging", "mysql_max_age_hours"])
            .and_then(Value::as_u64)
            .unwrap_or(24)
    }

    /// What `job` is sized for (`jobs.<job>` of `resource_limits.yaml`), if it is listed.
    pub fn resources(&self, job: &str) -> Option<JobResources> {
        let entry = at(&self.limits, &["jobs", job])?;
        let limit = |key: &str| {
            at(entry, &["client", "limits", key]).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Some(JobResources {
            executor_slots: entry.get("executor_slots").and_then(Value::as_u64),
            client_cpu: limit("cpu"),
            client_memory: limit("memory"),
        })
    }

    /// The memory pool of an embedded run, in bytes: `memory` (a quantity given by `--memory`),
    /// else the memory limit of one executor (`components.executor.limits.memory`, the budget
    /// the same work has on the cluster), times the executor's `memory_pool_fraction` (1 when
    /// absent). `None` when neither is set.
    pub fn embedded_memory_pool_bytes(&self, memory: Option<&str>) -> Result<Option<usize>> {
        let executor = at(&self.limits, &["components", "executor"]);
        let bytes = match memory {
            Some(text) => memory_quantity_bytes(text).ok_or_else(|| {
                Error::invalid(
                    "--memory",
                    format!("'{text}' is not a memory quantity (e.g. 1Gi, 512Mi)"),
                )
            })?,
            None => {
                let Some(limit) = executor.and_then(|e| at(e, &["limits", "memory"])) else {
                    return Ok(None);
                };
                let text = match limit {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                memory_quantity_bytes(&text).ok_or_else(|| {
                    Error::invalid(
                        LIMITS_FILE,
                        format!("components.executor.limits.memory: '{text}' is not a memory quantity (e.g. 4Gi)"),
                    )
                })?
            }
        };
        let fraction = executor
            .and_then(|e| e.get("memory_pool_fraction"))
            .and_then(Value::as_f64)
            .unwrap_or(1.0);
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(Error::invalid(
                LIMITS_FILE,
                format!("components.executor.memory_pool_fraction: {fraction} is not in (0, 1]"),
            ));
        }
        Ok(Some((bytes as f64 * fraction) as usize))
    }

    /// The schedule of `job`, if it is scheduled.
    pub fn schedule(&self, job: &str) -> Option<JobSchedule> {
        let entry = at(&self.schedules, &["jobs", job])?;
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
        Some(JobSchedule {
            schedule: text("schedule")?,
            timezone: text("timezone").unwrap_or_else(|| "Etc/UTC".to_string()),
            cadence: text("cadence").unwrap_or_default(),
            timeout_minutes: entry.get("timeout_minutes").and_then(Value::as_u64),
            starting_deadline_minutes: entry
                .get("starting_deadline_minutes")
                .and_then(Value::as_u64),
        })
    }
}

/// Bytes of a Kubernetes memory quantity: a number with an optional suffix Ki/Mi/Gi/Ti (powers of
/// 1024) or k/M/G/T (powers of 1000), e.g. `4Gi`, `512Mi`, `2G`, `1000000`.
pub fn memory_quantity_bytes(text: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 8] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let text = text.trim();
    let (number, unit) = UNITS
        .iter()
        .find_map(|(suffix, unit)| text.strip_suffix(suffix).map(|n| (n, *unit)))
        .unwrap_or((text, 1));
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value > 0.0).then_some((value * unit as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities_read_as_bytes() {
        assert_eq!(memory_quantity_bytes("4Gi"), Some(4 << 30));
        assert_eq!(memory_quantity_bytes("512Mi"), Some(512 << 20));
        assert_eq!(memory_quantity_bytes("2G"), Some(2_000_000_000));
        assert_eq!(memory_quantity_bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(memory_quantity_bytes("1000"), Some(1000));
        assert_eq!(memory_quantity_bytes("lots"), None);
        assert_eq!(memory_quantity_bytes("-1Gi"), None);
        assert_eq!(memory_quantity_bytes(""), None);
    }

    #[test]
    fn the_embedded_pool_is_one_executor_s_share() {
        let config = BatchConfig::built_in().unwrap();
        // 4Gi x 0.7
        assert_eq!(
            config.embedded_memory_pool_bytes(None).unwrap(),
            Some(((4usize << 30) as f64 * 0.7) as usize)
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LIMITS_FILE),
            "components:\n  executor:\n    limits: { memory: 1Gi }\n",
        )
        .unwrap();
        let config = BatchConfig::load(Some(dir.path())).unwrap();
        assert_eq!(
            config.embedded_memory_pool_bytes(None).unwrap(),
            Some(1 << 30)
        );
        std::fs::write(
            dir.path().join(LIMITS_FILE),
            "components:\n  executor:\n    limits: { memory: lots }\n",
        )
        .unwrap();
        let config = BatchConfig::load(Some(dir.path())).unwrap();
        let err = config.embedded_memory_pool_bytes(None).unwrap_err();
        assert!(err.to_string().contains("not a memory quantity"), "{err}");
        std::fs::write(dir.path().join(LIMITS_FILE), "version: 1\n").unwrap();
        let config = BatchConfig::load(Some(dir.path())).unwrap();
        assert_eq!(config.embedded_memory_pool_bytes(None).unwrap(), None);
    }

    #[test]
    fn memory_sets_the_embedded_budget_with_the_executor_s_fraction() {
        let config = BatchConfig::built_in().unwrap();
        assert_eq!(
            config.embedded_memory_pool_bytes(Some("1Gi")).unwrap(),
            Some(((1usize << 30) as f64 * 0.7) as usize)
        );
        let err = config
            .embedded_memory_pool_bytes(Some("1 gig"))
            .unwrap_err();
        assert!(err.to_string().contains("--memory"), "{err}");
        assert!(err.to_string().contains("not a memory quantity"), "{err}");
    }

    #[test]
    fn the_built_in_configuration_is_the_seed_s() {
        let config = BatchConfig::built_in().unwrap();
        assert_eq!(
            config.lake_retention("vitals"),
            Some(LakeRetention {
                hot_retention_months: 6,
                archive_prefix: "archive/vitals/".into()
            })
        );
        assert_eq!(config.lake_retention("patients"), None);
        assert_eq!(config.archived_tables(), ["crises", "vitals"]);
        assert_eq!(config.mysql_staging_max_age_hours(), 24);
        let daily = config.schedule("daily-aggregations").unwrap();
        assert_eq!(daily.schedule, "0 2 * * *");
        assert_eq!(
            config.schedule("weekly-reports").unwrap().schedule,
            "0 1 * * 0"
        );
        assert_eq!(
            config.schedule("monthly-analytics").unwrap().schedule,
            "0 0 1 * *"
        );
        assert_eq!(config.schedule("nope"), None);
        assert_eq!(
            config.resources("monthly-analytics"),
            Some(JobResources {
                executor_slots: Some(16),
                client_cpu: Some("1".into()),
                client_memory: Some("1Gi".into()),
            })
        );
    }

    #[test]
    fn a_folder_overrides_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(RETENTION_FILE),
            "lake:\n  vitals: { action: archive, hot_retention_months: 3, archive_prefix: cold/v/ }\nstaging: { mysql_max_age_hours: 2 }\n",
        )
        .unwrap();
        let config = BatchConfig::load(Some(dir.path())).unwrap();
        assert_eq!(
            config
                .lake_retention("vitals")
                .unwrap()
                .hot_retention_months,
            3
        );
        assert_eq!(
            config.lake_retention("vitals").unwrap().archive_prefix,
            "cold/v/"
        );
        assert_eq!(config.mysql_staging_max_age_hours(), 2);
        // the schedules file is absent: the built-in one is used
        assert!(config.schedule("archive").is_some());

        std::fs::write(dir.path().join(RETENTION_FILE), "lake: [unclosed").unwrap();
        let err = BatchConfig::load(Some(dir.path())).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(RETENTION_FILE), "{err}");
        let err = BatchConfig::load(Some(&dir.path().join("missing"))).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
