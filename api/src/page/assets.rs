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
}
