//! A reader that keeps the bytes the CSV parser has not moved past yet, so a rejected record can be
//! reported with its original raw text.

use std::io::{self, Read};

/// Drop consumed bytes once this many have piled up at the front of the buffer.
const COMPACT_AFTER: usize = 1 << 20;

/// Wraps a reader and remembers what it read from byte offset [`RawTee::base`] onwards.
#[derive(Debug)]
pub struct RawTee<R> {
    inner: R,
    buffer: Vec<u8>,
    /// Offset (in the whole stream) of `buffer[0]`.
    base: u64,
    /// Bytes read so far.
    total: u64,
}

impl<R: Read> RawTee<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buffer: Vec::new(),
            base: 0,
            total: 0,
        }
    }

    /// Bytes read from the underlying reader so far.
    pub fn bytes_read(&self) -> u64 {
        self.total
    }

    /// The bytes at stream offsets `start..end`, if still kept.
    pub fn raw(&self, start: u64, end: u64) -> Option<&[u8]> {
        let from = usize::try_from(start.checked_sub(self.base)?).ok()?;
        let to = usize::try_from(end.checked_sub(self.base)?).ok()?;
        self.buffer.get(from..to)
    }

    /// Forgets the bytes before stream offset `offset` (they will not be asked for again).
    pub fn consumed_up_to(&mut self, offset: u64) {
        let Some(done) = offset
            .checked_sub(self.base)
            .and_then(|n| usize::try_from(n).ok())
        else {
            return;
        };
        if done >= COMPACT_AFTER {
            let done = done.min(self.buffer.len());
            self.buffer.drain(..done);
            self.base += done as u64;
        }
    }
}

impl<R: Read> Read for RawTee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.buffer.extend_from_slice(read);
        }
        self.total += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unconsumed_bytes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
        let mut tee = RawTee::new(&data[..]);
        let mut sink = vec![0; 1 << 20];
        tee.read_exact(&mut sink).expect("read");
        assert_eq!(tee.raw(10, 13), Some(&data[10..13]));
        tee.consumed_up_to(COMPACT_AFTER as u64 + 5);
        assert_eq!(tee.raw(10, 13), None);
        tee.read_exact(&mut sink).expect("read");
        let (start, end) = (COMPACT_AFTER as u64 + 7, COMPACT_AFTER as u64 + 100);
        assert_eq!(
            tee.raw(start, end),
            Some(&data[start as usize..end as usize])
        );
        assert_eq!(tee.bytes_read(), 2 << 20);
    }
}
