//! Group sessions end to end.
