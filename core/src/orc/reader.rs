//! Byte-range reads of an ORC file through `object_store`, for orc-rust's async reader.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use orc_rust::reader::AsyncChunkReader;

/// One ORC file in an object store.
pub(super) struct ObjectChunkReader {
    store: Arc<dyn ObjectStore>,
    file: ObjectMeta,
}

impl ObjectChunkReader {
    pub(super) fn new(store: Arc<dyn ObjectStore>, file: ObjectMeta) -> Self {
        Self { store, file }
    }
}

impl AsyncChunkReader for ObjectChunkReader {
    fn len(&mut self) -> BoxFuture<'_, std::io::Result<u64>> {
        let size = self.file.size;
        async move { Ok(size) }.boxed()
    }

    fn get_bytes(
        &mut self,
        offset_from_start: u64,
        length: u64,
    ) -> BoxFuture<'_, std::io::Result<Bytes>> {
        // orc-rust asks for zero-length streams (a column that is all NULL in a stripe); object
        // stores refuse empty ranges.
        if length == 0 {
            return async { Ok(Bytes::new()) }.boxed();
        }
        let range = offset_from_start..offset_from_start + length;
        self.store
            .get_range(&self.file.location, range)
            .map_err(std::io::Error::other)
            .boxed()
    }
}
