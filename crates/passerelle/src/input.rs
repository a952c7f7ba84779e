//! Opening STIX input: a file, a gzip-compressed file (recognised by its
//! magic bytes, whatever its name) or standard input (`-`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `name` for reading, decompressing gzip transparently; `-` is stdin.
pub fn open(name: &str) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(Path::new(name))?)
    };
    let mut buffered = BufReader::with_capacity(256 << 10, raw);
    let is_gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
    Ok(if is_gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_and_gzip_files_alike() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.json");
        std::fs::write(&plain, b"{\"x\": 1}").unwrap();
        let gz = dir.path().join("b.json.gz");
        let mut encoder =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        encoder.write_all(b"{\"x\": 1}").unwrap();
        encoder.finish().unwrap();
        for path in [plain, gz] {
            let mut text = String::new();
            open(path.to_str().unwrap())
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "{\"x\": 1}");
        }
        assert!(open(dir.path().join("missing").to_str().unwrap()).is_err());
    }
}
