//! A folder whose files all appear at once: written under a temporary name, moved into place when
//! the work succeeded, removed otherwise.

use std::fs;
use std::path::{Path, PathBuf};

use medallion_core::{Error, Result};

/// A folder `DIR/.tmp-<pid>` whose files are moved into `DIR` by [`StagedDir::commit`] and which is
/// removed if dropped before that.
pub struct StagedDir {
    dir: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Creates `dir` and its staging folder.
    pub fn create(dir: &Path) -> Result<Self> {
        let tmp = dir.join(format!(".tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io("removing", &tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// Where to write a file called `name` (a path relative to the final folder).
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        let path = self.tmp.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        Ok(path)
    }

    /// Moves every staged file to its final place (replacing files of the same name); returns the
    /// final paths, sorted.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut moved = Vec::new();
        let mut stack = vec![self.tmp.clone()];
        while let Some(folder) = stack.pop() {
            for entry in fs::read_dir(&folder).map_err(|e| Error::io("listing", &folder, e))? {
                let path = entry.map_err(|e| Error::io("listing", &folder, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let relative = path.strip_prefix(&self.tmp).unwrap_or(&path);
                let target = self.dir.join(relative);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
                }
                fs::rename(&path, &target).map_err(|e| Error::io("moving", &path, e))?;
                moved.push(target);
            }
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.tmp);
        moved.sort();
        Ok(moved)
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}
