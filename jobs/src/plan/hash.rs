//! The version of a job plan: the SHA-256 of its files (its `job.toml`, views and Gold SQL, those
//! of the jobs it includes, and the reference data they name), recorded in `pipeline_runs` as
//! `plan_hash`, so a run says exactly which plan it ran.

use std::collections::BTreeMap;
use std::path::PathBuf;

use include_dir::Dir;
use sha2::{Digest, Sha256};

use super::spec::JobSpec;
use super::{JOB_FOLDERS, MAX_INCLUDE_DEPTH, REFERENCE_DATA};

/// Adds every file under `dir` to `files`, by its path.
fn add_files(dir: &Dir<'static>, files: &mut BTreeMap<PathBuf, &'static [u8]>) {
    for file in dir.files() {
        files.insert(file.path().to_path_buf(), file.contents());
    }
    for sub in dir.dirs() {
        add_files(sub, files);
    }
}

/// Adds the files of job folder `name`, of the folders it includes and of its reference data
/// (under `data/`) to `files`; false when a folder or its `job.toml` is missing or unreadable.
fn add_job(name: &str, depth: usize, files: &mut BTreeMap<PathBuf, &'static [u8]>) -> bool {
    let Some(folder) = JOB_FOLDERS.get_dir(name) else {
        return false;
    };
    let Some(spec) = folder
        .get_file(folder.path().join("job.toml"))
        .and_then(|f| f.contents_utf8())
        .and_then(|text| toml::from_str::<JobSpec>(text).ok())
    else {
        return false;
    };
    add_files(folder, files);
    for reference in &spec.references {
        if let Some(file) = REFERENCE_DATA.get_file(&reference.file) {
            files.insert(PathBuf::from("data").join(file.path()), file.contents());
        }
    }
    spec.include.is_empty()
        || (depth < MAX_INCLUDE_DEPTH
            && spec
                .include
                .iter()
                .all(|included| add_job(included, depth + 1, files)))
}

/// The SHA-256 (hex) of the files of the job plan in folder `name` of `jobs/sql/` and of the
/// plans it includes: each file's path, length and bytes, in path order. `None` for a job that
/// is not a plan of files.
pub fn plan_hash(name: &str) -> Option<String> {
    let mut files = BTreeMap::new();
    if !add_job(name, 0, &mut files) {
        return None;
    }
    let mut hasher = Sha256::new();
    for (path, contents) in &files {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(contents);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_has_a_stable_hash_of_its_own() {
        let jobs = super::super::all_jobs().unwrap();
        let mut hashes = std::collections::BTreeSet::new();
        for job in &jobs {
            let hash = plan_hash(&job.name).unwrap_or_else(|| panic!("{} has no hash", job.name));
            assert_eq!(hash.len(), 64, "{hash}");
            assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
            assert_eq!(plan_hash(&job.name), Some(hash.clone()), "stable");
            assert!(hashes.insert(hash), "{} shares its hash", job.name);
        }
    }

    #[test]
    fn a_job_that_is_no_plan_has_none() {
        assert_eq!(plan_hash("optimize"), None);
        assert_eq!(plan_hash("no-such-job"), None);
    }
}
