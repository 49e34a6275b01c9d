//! The page's static files, built into the binary: its own style sheet and
//! script, and Leaflet 1.9.4 exactly as published on npm (`api/assets/vendor/
//! leaflet/`, checked against `tests/browser/package-lock.json` by the
//! browser test). Served under `/aide/static/{version}/…`, where the version
//! is a hash of every file: a new build gets new addresses, so browsers may
//! keep each file for a year.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under the version (`aide.js`, `leaflet/leaflet.css`…).
    pub path: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// Every file the page may load.
pub static ASSETS: &[Asset] = &[
    Asset {
        path: "aide.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/page/aide.css"),
    },
    Asset {
        path: "aide.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/page/aide.js"),
    },
    Asset {
        path: "leaflet/leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/vendor/leaflet/leaflet.js"),
    },
    Asset {
        path: "leaflet/leaflet.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/vendor/leaflet/leaflet.css"),
    },
    Asset {
        path: "leaflet/LICENSE",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/vendor/leaflet/LICENSE"),
    },
];

/// The hash of every file (hex, 16 characters): the assets' version.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    for asset in ASSETS {
        hasher.update(asset.path.as_bytes());
        hasher.update([0]);
        hasher.update(asset.bytes);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The file at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Every file gzipped once at the best level (Leaflet: 43 KB instead of
/// 58 KB from the on-the-fly compressor), and its entity tag.
static GZIPPED: LazyLock<Vec<Option<Vec<u8>>>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            use std::io::Write as _;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(asset.bytes).ok()?;
            encoder.finish().ok()
        })
        .collect()
});

/// Strong entity tags of the files, computed once.
static TAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| crate::http_cache::etag_of(asset.bytes))
        .collect()
});

impl Asset {
    fn index(&self) -> Option<usize> {
        ASSETS.iter().position(|a| std::ptr::eq(a, self))
    }

    /// The file gzipped, when compression worked.
    pub fn gzipped(&self) -> Option<&'static [u8]> {
        self.index()
            .and_then(|i| GZIPPED.get(i))
            .and_then(|g| g.as_deref())
    }

    /// Its entity tag (strong form).
    pub fn tag(&self) -> String {
        self.index()
            .and_then(|i| TAGS.get(i).cloned())
            .unwrap_or_else(|| crate::http_cache::etag_of(self.bytes))
    }
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*`, not with `q=0`).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// Where the page links a file: `/aide/static/{version}/{path}`.
pub fn url(path: &str) -> String {
    format!("/aide/static/{}/{path}", *VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_leaflet_is_the_published_1_9_4() {
        let js = find("leaflet/leaflet.js")
            .map(|a| a.bytes)
            .unwrap_or_default();
        assert!(js.starts_with(b"/* @preserve\n * Leaflet 1.9.4,"));
        assert!(find("leaflet/LICENSE").is_some_and(|a| a.bytes.starts_with(b"BSD 2-Clause")));
        assert_eq!(VERSION.len(), 16);
        assert!(url("aide.js").starts_with("/aide/static/"));
    }

    #[test]
    fn gzip_once_and_only_when_accepted() {
        let js = find("leaflet/leaflet.js");
        let gz = js
            .and_then(Asset::gzipped)
            .map(<[u8]>::len)
            .unwrap_or(usize::MAX);
        assert!(gz < 45_000, "{gz}");
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip(""));
    }
}
