//! [`StagedTables`]: the Gold tables a run has staged so far, shared by the tables' concurrent
//! writes.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// The names of the tables staged in the current run, in the order they were staged.
#[derive(Debug, Default)]
pub struct StagedTables(Mutex<Vec<String>>);

impl StagedTables {
    fn names(&self) -> MutexGuard<'_, Vec<String>> {
        // a panicking writer cannot leave the list half-changed: every change is one push or clear
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks `table` staged (once).
    pub fn add(&self, table: &str) {
        let mut names = self.names();
        if !names.iter().any(|t| t == table) {
            names.push(table.to_string());
        }
    }

    /// Whether `table` is staged.
    pub fn contains(&self, table: &str) -> bool {
        self.names().iter().any(|t| t == table)
    }

    /// The staged tables, as a snapshot.
    pub fn list(&self) -> Vec<String> {
        self.names().clone()
    }

    /// Forgets every staged table (a new run, a publish or an abort).
    pub fn clear(&self) {
        self.names().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_listed_once_in_staging_order() {
        let staged = StagedTables::default();
        staged.add("b");
        staged.add("a");
        staged.add("b");
        assert_eq!(staged.list(), ["b", "a"]);
        assert!(staged.contains("a") && !staged.contains("c"));
        staged.clear();
        assert!(staged.list().is_empty());
    }
}
