//! `--order`: the order of the rows inside each year partition of the generated lake.
//!
//! The rows (their ids and values) do not depend on the order; only where they stand in the files
//! does. `id` is the order they are generated in (ascending numbers); `time` sorts each year by
//! `start_time`, as a Spark job or a streaming ingest writes Silver (ids then come in no particular
//! order); `random` shuffles each year with a stream of the seed. Tests and benchmarks use them to
//! show that what medallion does, and how fast, does not depend on the lake's order.

use datafusion::arrow::array::{AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use medallion_core::{Error, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The order of the rows inside each year of a generated lake.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowOrder {
    /// In generation order: ascending id numbers (medallion's output before `--order` existed).
    Id,
    /// Sorted by start_time within each year, as Silver lakes written by time usually are.
    #[default]
    Time,
    /// Shuffled within each year (seeded: the same arguments give the same files).
    Random,
}

/// RNG stream of the shuffle of a year (far from the chunk streams, which count from 0).
const SHUFFLE_STREAM: u64 = 1 << 40;

/// The batches of one year, held until the year is complete and then reordered.
#[derive(Debug, Default)]
pub struct YearBuffer {
    batches: Vec<RecordBatch>,
}

impl YearBuffer {
    /// Keeps `batch` for the year being generated.
    pub fn push(&mut self, batch: RecordBatch) {
        self.batches.push(batch);
    }

    /// The year's rows in `order`, as batches of at most `batch_rows` rows; empties the buffer.
    pub fn take_ordered(
        &mut self,
        order: RowOrder,
        seed: u64,
        year: i32,
        batch_rows: usize,
    ) -> Result<Vec<RecordBatch>> {
        let batches = std::mem::take(&mut self.batches);
        let Some(first) = batches.first() else {
            return Ok(Vec::new());
        };
        if order == RowOrder::Id {
            return Ok(batches);
        }
        let failed = |e: datafusion::arrow::error::ArrowError| {
            Error::invalid("generated rows", format!("reordering year {year}: {e}"))
        };
        let year_rows = concat_batches(&first.schema(), &batches).map_err(failed)?;
        drop(batches);
        let rows = u32::try_from(year_rows.num_rows())
            .map_err(|_| Error::invalid("--rows", format!("too many rows in year {year}")))?;
        let mut indices: Vec<u32> = (0..rows).collect();
        match order {
            RowOrder::Id => {}
            RowOrder::Time => {
                let column = year_rows.column_by_name("start_time").ok_or_else(|| {
                    Error::invalid("generated rows", "no start_time column".to_string())
                })?;
                let times = column
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .ok_or_else(|| {
                        Error::invalid("generated rows", "start_time is not in µs".to_string())
                    })?;
                // (time, generation position) pairs are unique: the same order on every run
                indices.sort_unstable_by_key(|&i| (times.value(i as usize), i));
            }
            RowOrder::Random => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(SHUFFLE_STREAM + year.unsigned_abs() as u64);
                indices.shuffle(&mut rng);
            }
        }
        indices
            .chunks(batch_rows.max(1))
            .map(|chunk| {
                let chunk = UInt32Array::from(chunk.to_vec());
                take_record_batch(&year_rows, &chunk).map_err(failed)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    fn batch(ids: &[&str], times: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new(
                "start_time",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                false,
            ),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(ids.to_vec())),
                Arc::new(TimestampMicrosecondArray::from(times.to_vec())),
            ],
        )
        .unwrap()
    }

    fn ids(batches: &[RecordBatch]) -> Vec<String> {
        batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn buffer() -> YearBuffer {
        let mut buffer = YearBuffer::default();
        buffer.push(batch(&["A-1", "A-2", "A-3"], &[30, 10, 20]));
        buffer.push(batch(&["A-4", "A-5"], &[5, 10]));
        buffer
    }

    #[test]
    fn time_order_sorts_the_year_by_start_time() {
        let ordered = buffer().take_ordered(RowOrder::Time, 7, 2016, 2).unwrap();
        assert_eq!(ids(&ordered), ["A-4", "A-2", "A-5", "A-3", "A-1"]);
        assert_eq!(
            ordered
                .iter()
                .map(RecordBatch::num_rows)
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
    }

    #[test]
    fn id_order_keeps_the_generated_batches() {
        let ordered = buffer().take_ordered(RowOrder::Id, 7, 2016, 2).unwrap();
        assert_eq!(ids(&ordered), ["A-1", "A-2", "A-3", "A-4", "A-5"]);
    }

    #[test]
    fn random_order_is_a_seeded_permutation() {
        let a = ids(&buffer()
            .take_ordered(RowOrder::Random, 7, 2016, 10)
            .unwrap());
        let b = ids(&buffer()
            .take_ordered(RowOrder::Random, 7, 2016, 10)
            .unwrap());
        assert_eq!(a, b, "same seed, same order");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, ["A-1", "A-2", "A-3", "A-4", "A-5"]);
        let mut empty = YearBuffer::default();
        assert!(
            empty
                .take_ordered(RowOrder::Time, 7, 2016, 10)
                .unwrap()
                .is_empty()
        );
    }
}
