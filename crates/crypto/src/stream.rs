//! Temporary files as a stream of sealed chunks, under a key that lives only in memory.
//!
//! Sorts, hash joins and aggregates that spill past `work_mem` write rows once and read them
//! back, in order, within one statement. Each such file gets its own random key
//! ([`StreamKey`]) that is never written anywhere: when the process ends, by exit or crash,
//! whatever the file held is unreadable, so there is nothing to clean up or rotate.
//!
//! ```text
//! chunk: length u32 (little-endian, bit 31 set on the last chunk) · ciphertext · tag [16]
//! ```
//!
//! The nonce of chunk `i` is `i` (64-bit big-endian) followed by four zero bytes, so reordered
//! or replayed chunks fail authentication; the length word is associated data, so the final
//! flag cannot be moved, and a file that ends before its final chunk is reported as truncated.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::aead::{Aead, Key, Suite, NONCE_LEN, TAG_LEN};

const LAST: u32 = 1 << 31;

/// The key of one temporary file.
#[derive(Clone, Debug)]
pub struct StreamKey {
    cipher: Arc<dyn Aead>,
}

impl StreamKey {
    /// A fresh random key.
    pub fn random() -> Self {
        Self {
            cipher: Arc::from(Suite::Sm4Gcm.cipher(&Key::random())),
        }
    }
}

impl Default for StreamKey {
    fn default() -> Self {
        Self::random()
    }
}

fn nonce(index: u64) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..8].copy_from_slice(&index.to_be_bytes());
    nonce
}

/// Writes sealed chunks of at most `chunk` bytes to `inner`; call
/// [`finish`](Self::finish) to seal the last one.
pub struct StreamWriter<W: Write> {
    inner: W,
    key: StreamKey,
    buffer: Vec<u8>,
    chunk: usize,
    index: u64,
}

impl<W: Write> StreamWriter<W> {
    /// A writer sealing chunks of `chunk` bytes under `key`.
    pub fn new(inner: W, key: StreamKey, chunk: usize) -> Self {
        let chunk = chunk.clamp(16, (LAST - 1) as usize);
        Self {
            inner,
            key,
            buffer: Vec::with_capacity(chunk),
            chunk,
            index: 0,
        }
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let len = self.buffer.len() as u32 | if last { LAST } else { 0 };
        let header = len.to_le_bytes();
        let tag = self
            .key
            .cipher
            .seal(&nonce(self.index), &header, &mut self.buffer);
        self.index += 1;
        self.inner.write_all(&header)?;
        self.inner.write_all(&self.buffer)?;
        self.inner.write_all(&tag)?;
        self.buffer.clear();
        Ok(())
    }

    /// Seals what is buffered as the last chunk and returns the inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_chunk(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for StreamWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.chunk - self.buffer.len();
        let n = room.min(data.len());
        self.buffer.extend_from_slice(&data[..n]);
        if self.buffer.len() == self.chunk {
            self.seal_chunk(false)?;
        }
        Ok(n)
    }

    /// Passes the flush on; a partly filled chunk stays buffered until it fills or
    /// [`finish`](Self::finish) seals it.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads and authenticates what a [`StreamWriter`] wrote. Any change to the file is an
/// [`io::ErrorKind::InvalidData`] error; no byte of a chunk is returned before the whole chunk
/// has been authenticated.
pub struct StreamReader<R: Read> {
    inner: R,
    key: StreamKey,
    chunk: Vec<u8>,
    pos: usize,
    index: u64,
    done: bool,
}

impl<R: Read> StreamReader<R> {
    /// A reader of `inner`, sealed under `key`.
    pub fn new(inner: R, key: StreamKey) -> Self {
        Self {
            inner,
            key,
            chunk: Vec::new(),
            pos: 0,
            index: 0,
            done: false,
        }
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let mut header = [0u8; 4];
        self.inner.read_exact(&mut header).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                invalid("temporary file is truncated")
            } else {
                e
            }
        })?;
        let word = u32::from_le_bytes(header);
        let len = (word & !LAST) as usize;
        self.chunk.resize(len, 0);
        let mut tag = [0u8; TAG_LEN];
        self.inner
            .read_exact(&mut self.chunk)
            .and_then(|()| self.inner.read_exact(&mut tag))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    invalid("temporary file is truncated")
                } else {
                    e
                }
            })?;
        self.key
            .cipher
            .open(&nonce(self.index), &header, &mut self.chunk, &tag)
            .map_err(|_| invalid("temporary file failed authentication (altered or damaged)"))?;
        self.index += 1;
        self.pos = 0;
        self.done = word & LAST != 0;
        Ok(())
    }
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(data: &[u8], chunk: usize) -> (Vec<u8>, StreamKey) {
        let key = StreamKey::random();
        let mut writer = StreamWriter::new(Vec::new(), key.clone(), chunk);
        writer.write_all(data).expect("write");
        (writer.finish().expect("finish"), key)
    }

    fn read_all(bytes: &[u8], key: &StreamKey) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        StreamReader::new(bytes, key.clone()).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_boundary() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for len in [0, 1, 63, 64, 65, 128, 1000] {
            let (bytes, key) = sealed(&data[..len], 64);
            assert_eq!(
                read_all(&bytes, &key).expect("read"),
                &data[..len],
                "len {len}"
            );
            assert!(!bytes.windows(16).any(|w| data.windows(16).any(|d| d == w)) || len < 16);
        }
    }

    #[test]
    fn tampering_reordering_and_truncation_are_errors() {
        let data = vec![42u8; 300];
        let (bytes, key) = sealed(&data, 100);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(read_all(&bad, &key).is_err(), "byte {i}");
        }
        // Every proper prefix is a truncation, including one that ends between chunks.
        for cut in 0..bytes.len() {
            assert!(read_all(&bytes[..cut], &key).is_err(), "cut at {cut}");
        }
        // Swap the first two (equal-length) chunks.
        let chunk = 4 + 100 + TAG_LEN;
        let mut swapped = bytes[chunk..2 * chunk].to_vec();
        swapped.extend_from_slice(&bytes[..chunk]);
        swapped.extend_from_slice(&bytes[2 * chunk..]);
        assert!(read_all(&swapped, &key).is_err());
        assert!(
            read_all(&bytes, &StreamKey::random()).is_err(),
            "another file's key"
        );
    }
}
