//! `adosexo backup` and `adosexo restore` for the embedded SQLite database
//! (PostgreSQL has its own tools: docs/OPERATIONS.md).
//!
//! A backup is one [age](https://age-encryption.org) file encrypted to the
//! operator's X25519 recipients (readable by `age`/`rage` too). Its
//! plaintext is framed as: `ADXBAK01`, the manifest's length (u32, big
//! endian) and JSON, the database's length (u64, big endian) and bytes.
//! The database is a `VACUUM INTO` snapshot taken in a private folder next
//! to the live file (same file system, mode 0700), deleted whatever
//! happens; the encrypted file is written as `NAME.tmp`, synced, renamed,
//! and its folder synced.
//!
//! A restore decrypts and checks the whole file in a private folder next to
//! the target before anything appears at the target: age authenticates
//! every chunk and the end of the stream (truncation, tampering and a wrong
//! key are refused), then the manifest's length, digest, counts and audit
//! head must match the database, SQLite's `quick_check` must pass, the
//! schema must be one this binary knows (older ones are migrated), and the
//! audit chain must verify. Only then is the file linked into place, never
//! over an existing one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use adosexo_persistence::audit::{self, Verification};
use adosexo_persistence::backup::{self as snapshot, Inspection};
use adosexo_persistence::{Backend, DatabaseUrl};
use age::x25519;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The manifest's `format`.
pub const FORMAT: &str = "adosexo-backup/1";
/// First bytes of the plaintext.
const MAGIC: &[u8; 8] = b"ADXBAK01";
/// Largest manifest accepted on restore.
const MAX_MANIFEST: u32 = 1 << 20;
/// Names of the backups `--to DIRECTORY` writes (and `--keep` counts).
const NAME_PREFIX: &str = "adosexo-";
const NAME_SUFFIX: &str = ".backup.age";

/// Why a backup or a restore stopped (one line, never a key or a row).
pub type BackupError = String;

/// What a backup holds besides the database (inside the encryption).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken (just before it).
    pub created_at: DateTime<Utc>,
    /// The version of the `adosexo` that wrote it.
    pub adosexo_version: String,
    /// The newest applied migration.
    pub schema_version: String,
    /// Size of the database file.
    pub database_bytes: u64,
    /// Its SHA-256, hex.
    pub database_sha256: String,
    /// Migrations, counts, audit head, notes key ids.
    pub contents: Inspection,
}

/// Parses age X25519 recipients (`age1…`): given one by one, or one per
/// line of files (`#` comments and blank lines skipped).
pub fn parse_recipients(
    given: &[String],
    files: &[PathBuf],
) -> Result<Vec<x25519::Recipient>, BackupError> {
    let mut recipients = Vec::new();
    for (n, value) in given.iter().enumerate() {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        recipients.push(x25519::Recipient::from_str(value).map_err(|_| {
            format!(
                "--recipient / ADOSEXO_BACKUP_RECIPIENT: value {} is not an age X25519 recipient (age1…)",
                n + 1
            )
        })?);
    }
    for file in files {
        let text = fs::read_to_string(file)
            .map_err(|e| format!("--recipients-file {}: {e}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            recipients.push(x25519::Recipient::from_str(line).map_err(|_| {
                format!(
                    "--recipients-file {}: line {} is not an age X25519 recipient (age1…)",
                    file.display(),
                    n + 1
                )
            })?);
        }
    }
    if recipients.is_empty() {
        return Err(
            "no recipient: give --recipient age1…, ADOSEXO_BACKUP_RECIPIENT or --recipients-file \
             (`adosexo keys generate-backup --out FILE` makes a key pair)"
                .to_owned(),
        );
    }
    Ok(recipients)
}

/// Reads age X25519 identities from a file (`AGE-SECRET-KEY-1…` lines, as
/// `adosexo keys generate-backup` or `age-keygen` write them). Errors name
/// the line, never its content.
pub fn read_identities(file: &Path) -> Result<Vec<x25519::Identity>, BackupError> {
    let text =
        fs::read_to_string(file).map_err(|e| format!("identity file {}: {e}", file.display()))?;
    let mut identities = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        identities.push(x25519::Identity::from_str(line).map_err(|_| {
            format!(
                "identity file {}: line {} is not an age X25519 identity (AGE-SECRET-KEY-1…)",
                file.display(),
                n + 1
            )
        })?);
    }
    if identities.is_empty() {
        return Err(format!(
            "identity file {}: no AGE-SECRET-KEY-1… line",
            file.display()
        ));
    }
    Ok(identities)
}

/// `adosexo keys generate-backup --out FILE`: writes a new identity (mode
/// 0600, never over an existing file) and returns its public recipient.
pub fn generate_identity(out: &Path, now: DateTime<Utc>) -> Result<String, BackupError> {
    let identity = x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| format!("--out {}: {e}", out.display()))?;
    use age::secrecy::ExposeSecret;
    let text = format!(
        "# adosexo backup identity, created {}\n# public key: {recipient}\n{}\n",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        identity.to_string().expose_secret()
    );
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("--out {}: {e}", out.display()))?;
    Ok(recipient)
}

/// What `adosexo backup` was asked.
#[derive(Debug)]
pub struct BackupRequest {
    /// The live database.
    pub database: DatabaseUrl,
    /// A directory (a name is made: `adosexo-<UTC time>.backup.age`) or a
    /// new file.
    pub to: PathBuf,
    /// Who can decrypt it.
    pub recipients: Vec<x25519::Recipient>,
    /// Keep the newest N backups of the directory, delete older ones.
    pub keep: Option<usize>,
}

/// What `adosexo backup` did.
#[derive(Debug)]
pub struct BackupReport {
    /// The backup written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its manifest.
    pub manifest: Manifest,
    /// Older backups deleted by `--keep`.
    pub removed: Vec<PathBuf>,
}

fn io_error(what: &Path) -> impl Fn(io::Error) -> BackupError + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// A folder of our own next to `near` (same file system), mode 0700,
/// deleted with everything in it when dropped.
fn private_dir(near: &Path, prefix: &str) -> Result<tempfile::TempDir, BackupError> {
    let parent = match near.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(format!("the folder {} does not exist", parent.display()));
    }
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(&parent)
        .map_err(|e| {
            format!(
                "cannot create a private folder in {}: {e}",
                parent.display()
            )
        })
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

fn sha256_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(io_error(path))?);
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut reader, &mut hasher).map_err(io_error(path))?;
    Ok((bytes, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where the backup goes: `(file, directory for --keep)`.
fn target_of(request: &BackupRequest, now: DateTime<Utc>) -> Result<(PathBuf, bool), BackupError> {
    if request.to.is_dir() {
        let name = format!(
            "{NAME_PREFIX}{}{NAME_SUFFIX}",
            now.format("%Y%m%dT%H%M%S%.3fZ")
        );
        return Ok((request.to.join(name), true));
    }
    if request.to.as_os_str().to_string_lossy().ends_with('/') {
        return Err(format!(
            "--to {}: the folder does not exist",
            request.to.display()
        ));
    }
    if request.keep.is_some() {
        return Err(format!(
            "--keep needs --to to be an existing folder ({} is not)",
            request.to.display()
        ));
    }
    if request.to.exists() {
        return Err(format!(
            "--to {}: exists already; a backup never overwrites a file",
            request.to.display()
        ));
    }
    if !parent_of(&request.to).is_dir() {
        return Err(format!(
            "--to {}: the folder {} does not exist",
            request.to.display(),
            parent_of(&request.to).display()
        ));
    }
    Ok((request.to.clone(), false))
}

/// Prefix of the private snapshot folders next to the database.
const SNAPSHOT_PREFIX: &str = ".adosexo-backup-";

/// One backup at a time per database: an exclusive lock on
/// `.adosexo-backup.lock` next to it (released when the process ends, even
/// killed). Holding it, any snapshot folder left by a killed backup is
/// deleted: plaintext must not linger.
fn lock_and_clean(database: &Path) -> Result<File, BackupError> {
    let folder = parent_of(database);
    let path = folder.join(".adosexo-backup.lock");
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_error(&path))?;
    lock.try_lock().map_err(|e| match e {
        fs::TryLockError::WouldBlock => {
            "another backup of this database is running; try again when it has finished".to_owned()
        }
        fs::TryLockError::Error(e) => format!("{}: {e}", path.display()),
    })?;
    for entry in fs::read_dir(&folder).map_err(io_error(&folder))? {
        let entry = entry.map_err(io_error(&folder))?;
        let is_stale = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(SNAPSHOT_PREFIX))
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if is_stale {
            let stale = entry.path();
            fs::remove_dir_all(&stale).map_err(io_error(&stale))?;
            tracing::warn!("deleted the snapshot folder a killed backup left behind");
        }
    }
    Ok(lock)
}

/// `adosexo backup`: a consistent, encrypted copy of the SQLite database
/// while it serves.
pub fn backup(request: &BackupRequest) -> Result<BackupReport, BackupError> {
    let Some(database) = request.database.sqlite_path() else {
        return Err("adosexo backup copies the embedded SQLite database; \
             back up PostgreSQL with pg_dump or base backups (docs/OPERATIONS.md)"
            .to_owned());
    };
    if request.keep == Some(0) {
        return Err("--keep: at least 1".to_owned());
    }
    let now = Utc::now();
    let (target, in_directory) = target_of(request, now)?;
    let _lock = lock_and_clean(database)?;
    // The plaintext copy stays on the database's own file system, in a
    // folder only we can enter, and goes with the folder whatever happens.
    let private = private_dir(database, SNAPSHOT_PREFIX)?;
    let copy = private.path().join("snapshot.db");
    let contents = {
        let mut conn = snapshot::open_sqlite_file(database).map_err(|e| e.to_string())?;
        snapshot::vacuum_into(&mut conn, &copy)
            .map_err(|e| format!("cannot take the snapshot: {e}"))?;
        drop(conn);
        let mut copy_conn = snapshot::open_sqlite_file(&copy).map_err(|e| e.to_string())?;
        snapshot::inspect(&mut copy_conn).map_err(|e| e.to_string())?
    };
    let (database_bytes, database_sha256) = sha256_file(&copy)?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: now,
        adosexo_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: contents.schema_version().to_owned(),
        database_bytes,
        database_sha256,
        contents,
    };
    let mut temporary = target.clone().into_os_string();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let written = encrypt_to(&temporary, &manifest, &copy, &request.recipients);
    drop(private);
    let bytes = match written.and_then(|()| {
        fs::rename(&temporary, &target).map_err(io_error(&target))?;
        sync_dir(&parent_of(&target))?;
        fs::metadata(&target)
            .map(|m| m.len())
            .map_err(io_error(&target))
    }) {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = fs::remove_file(&temporary);
            return Err(e);
        }
    };
    let removed = match (request.keep, in_directory) {
        (Some(keep), true) => prune(&request.to, keep)?,
        _ => Vec::new(),
    };
    Ok(BackupReport {
        path: target,
        bytes,
        manifest,
        removed,
    })
}

fn encrypt_to(
    temporary: &Path,
    manifest: &Manifest,
    database: &Path,
    recipients: &[x25519::Recipient],
) -> Result<(), BackupError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temporary)
        .map_err(io_error(temporary))?;
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| -> &dyn age::Recipient { r }))
            .map_err(|e| format!("cannot encrypt: {e}"))?;
    let manifest_json = serde_json::to_vec(manifest).map_err(|e| format!("manifest: {e}"))?;
    let manifest_len = u32::try_from(manifest_json.len())
        .ok()
        .filter(|n| *n <= MAX_MANIFEST)
        .ok_or("the manifest is too large")?;
    let failed = io_error(temporary);
    let mut writer = encryptor
        .wrap_output(BufWriter::with_capacity(1 << 20, file))
        .map_err(&failed)?;
    writer.write_all(MAGIC).map_err(&failed)?;
    writer
        .write_all(&manifest_len.to_be_bytes())
        .map_err(&failed)?;
    writer.write_all(&manifest_json).map_err(&failed)?;
    writer
        .write_all(&manifest.database_bytes.to_be_bytes())
        .map_err(&failed)?;
    let mut source = File::open(database).map_err(io_error(database))?;
    let copied = io::copy(&mut source, &mut writer).map_err(&failed)?;
    if copied != manifest.database_bytes {
        return Err("the snapshot changed while it was encrypted".to_owned());
    }
    let file = writer
        .finish()
        .map_err(&failed)?
        .into_inner()
        .map_err(|e| failed(e.into_error()))?;
    file.sync_all().map_err(&failed)
}

/// Keeps the newest `keep` backups named by `backup` in `dir`.
fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(io_error(dir))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .collect();
    // The UTC time in the name sorts as text.
    names.sort();
    let excess = names.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in names.into_iter().take(excess) {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(io_error(&path))?;
        removed.push(path);
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// `adosexo-YYYYMMDDTHHMMSS.mmmZ.backup.age` exactly.
fn is_backup_name(name: &str) -> bool {
    name.strip_prefix(NAME_PREFIX)
        .and_then(|rest| rest.strip_suffix(NAME_SUFFIX))
        .is_some_and(|time| {
            chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%.3fZ").is_ok()
        })
}

/// What `adosexo restore` was asked.
pub struct RestoreRequest {
    /// The backup file.
    pub from: PathBuf,
    /// Where to restore (a new SQLite file).
    pub to: DatabaseUrl,
    /// Keys that may open it.
    pub identities: Vec<x25519::Identity>,
    /// The erasure journal to replay (`ADOSEXO_ERASURE_JOURNAL`), if any.
    pub erasure_journal: Option<PathBuf>,
}

impl std::fmt::Debug for RestoreRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreRequest")
            .field("from", &self.from)
            .field("to", &self.to)
            .field(
                "identities",
                &format_args!("{} (hidden)", self.identities.len()),
            )
            .finish()
    }
}

/// What `adosexo restore` did.
#[derive(Debug)]
pub struct RestoreReport {
    /// The database written.
    pub path: PathBuf,
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Migrations applied to bring it to this binary's schema.
    pub migrated: usize,
    /// Audit entries verified.
    pub audit_checked: u64,
    /// Erasures replayed from the journal (`None`: no journal given).
    pub replayed: Option<Replayed>,
}

/// `adosexo restore`: decrypts and checks everything first; writes a new
/// SQLite file only once all checks passed.
pub fn restore(request: &RestoreRequest) -> Result<RestoreReport, BackupError> {
    let Some(target) = request.to.sqlite_path() else {
        return Err(
            "--to: a SQLite backup restores to a new SQLite file (sqlite://PATH); \
             PostgreSQL databases are restored with pg_restore (docs/OPERATIONS.md)"
                .to_owned(),
        );
    };
    let mut wal = target.as_os_str().to_owned();
    wal.push("-wal");
    if target.exists() || Path::new(&wal).exists() {
        return Err(format!(
            "--to {}: a database is there already; restore writes a new file only \
             (stop the server and move the old file aside first)",
            target.display()
        ));
    }
    // Read first: a bad journal stops the restore before any work.
    let journal = request
        .erasure_journal
        .as_deref()
        .map(read_journal)
        .transpose()?;
    let source =
        File::open(&request.from).map_err(|e| format!("--from {}: {e}", request.from.display()))?;
    let private = private_dir(target, ".adosexo-restore-")?;
    let restored = private.path().join("restored.db");
    let manifest = decrypt_to(source, &request.identities, &restored)?;
    let (migrated, audit_checked, replayed) =
        check_restored(&restored, &manifest, journal.as_deref())?;
    File::open(&restored)
        .and_then(|f| f.sync_all())
        .map_err(io_error(&restored))?;
    // A hard link never replaces an existing file (a rename would).
    fs::hard_link(&restored, target).map_err(|e| format!("--to {}: {e}", target.display()))?;
    sync_dir(&parent_of(target))?;
    drop(private);
    Ok(RestoreReport {
        path: target.to_path_buf(),
        manifest,
        migrated,
        audit_checked,
        replayed,
    })
}

fn corrupt(detail: &str) -> BackupError {
    format!("the backup is not a complete adosexo backup ({detail}); nothing was restored")
}

/// age's refusals, said for an operator.
fn decrypt_error(error: &age::DecryptError) -> BackupError {
    use age::DecryptError as E;
    match error {
        E::NoMatchingKeys => "the identity does not open this backup (wrong key: it was encrypted for other recipients); nothing was restored".to_owned(),
        E::InvalidHeader | E::UnknownFormat => corrupt("no valid age header"),
        E::InvalidMac | E::DecryptionFailed | E::KeyDecryptionFailed => corrupt("its header fails authentication: altered"),
        E::Io(e) => read_error(e),
        _ => corrupt("it cannot be decrypted"),
    }
}

/// An error while reading the decrypted stream: age refuses an altered
/// chunk (InvalidData) and a missing end (UnexpectedEof or InvalidData).
fn read_error(error: &io::Error) -> BackupError {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => corrupt("it ends early: truncated"),
        io::ErrorKind::InvalidData => corrupt("a part fails authentication: truncated or altered"),
        _ => format!("cannot read the backup: {error}; nothing was restored"),
    }
}

fn decrypt_to(
    source: File,
    identities: &[x25519::Identity],
    restored: &Path,
) -> Result<Manifest, BackupError> {
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, source))
        .map_err(|e| decrypt_error(&e))?;
    if decryptor.is_scrypt() {
        return Err("this file is encrypted with a passphrase, not for a backup identity; nothing was restored".to_owned());
    }
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| -> &dyn age::Identity { i }))
        .map_err(|e| decrypt_error(&e))?;
    let mut magic = [0_u8; 8];
    reader.read_exact(&mut magic).map_err(|e| read_error(&e))?;
    if &magic != MAGIC {
        return Err(corrupt("it decrypts, but is not an adosexo backup"));
    }
    let mut length = [0_u8; 4];
    reader.read_exact(&mut length).map_err(|e| read_error(&e))?;
    let manifest_len = u32::from_be_bytes(length);
    if manifest_len > MAX_MANIFEST {
        return Err(corrupt("its manifest is too large"));
    }
    let mut manifest_json = vec![0_u8; usize::try_from(manifest_len).unwrap_or(0)];
    reader
        .read_exact(&mut manifest_json)
        .map_err(|e| read_error(&e))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_json)
        .map_err(|_| corrupt("its manifest is not readable"))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "the backup's format is {}, this adosexo reads {FORMAT}; nothing was restored",
            manifest.format
        ));
    }
    let mut length = [0_u8; 8];
    reader.read_exact(&mut length).map_err(|e| read_error(&e))?;
    let database_len = u64::from_be_bytes(length);
    if database_len != manifest.database_bytes {
        return Err(corrupt("the database's length differs from the manifest"));
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(restored)
        .map_err(io_error(restored))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut body = (&mut reader).take(database_len);
    let mut buffer = vec![0_u8; 1 << 20];
    let mut copied = 0_u64;
    loop {
        let n = body.read(&mut buffer).map_err(|e| read_error(&e))?;
        if n == 0 {
            break;
        }
        let chunk = buffer.get(..n).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk).map_err(io_error(restored))?;
        copied += n as u64;
    }
    if copied != database_len {
        return Err(corrupt("it ends early: truncated"));
    }
    // Reading to the end makes age check the stream's final chunk: a file
    // cut at a chunk boundary is refused here.
    let mut rest = [0_u8; 1];
    match reader.read(&mut rest) {
        Ok(0) => {}
        Ok(_) => return Err(corrupt("unexpected bytes after the database")),
        Err(e) => return Err(read_error(&e)),
    }
    if hex(&hasher.finalize()) != manifest.database_sha256 {
        return Err(corrupt("the database's digest differs from the manifest"));
    }
    out.into_inner()
        .map_err(|e| io_error(restored)(e.into_error()))?
        .sync_all()
        .map_err(io_error(restored))?;
    Ok(manifest)
}

/// Checks the decrypted database against its manifest and this binary;
/// migrates an older schema; replays the erasures journaled since the
/// backup; verifies the audit chain (replays included).
fn check_restored(
    restored: &Path,
    manifest: &Manifest,
    journal: Option<&[JournalEntry]>,
) -> Result<(usize, u64, Option<Replayed>), BackupError> {
    let mut conn = snapshot::open_sqlite_file(restored).map_err(|e| e.to_string())?;
    snapshot::quick_check(&mut conn)
        .map_err(|e| e.to_string())?
        .map_err(|found| {
            format!("the restored database fails SQLite's check ({found}); nothing was restored")
        })?;
    let found = snapshot::inspect(&mut conn).map_err(|e| e.to_string())?;
    if found != manifest.contents {
        return Err(corrupt("the database differs from its manifest"));
    }
    let known = snapshot::known_migrations(Backend::Sqlite)?;
    if let Some(unknown) = found.migrations.iter().find(|v| !known.contains(v)) {
        return Err(format!(
            "the backup's schema ({}, migration {unknown}) is newer than this adosexo knows (up to {}); \
             restore it with the adosexo version that wrote it ({}) or a later one; nothing was restored",
            manifest.schema_version,
            known.last().map_or("none", String::as_str),
            manifest.adosexo_version
        ));
    }
    let migrated = snapshot::migrate(&mut conn)
        .map_err(|e| format!("cannot migrate the restored database: {e}; nothing was restored"))?;
    let replayed = journal
        .map(|entries| replay_erasures(&mut conn, entries, manifest.created_at, Utc::now()))
        .transpose()?;
    match audit::verify_chain(&mut conn).map_err(|e| e.to_string())? {
        Verification::Intact { checked } => Ok((migrated, checked, replayed)),
        Verification::Broken(broken) => Err(format!(
            "the backup fails the audit verification: {broken}; nothing was restored"
        )),
    }
}

/// Notes key ids configured in `ADOSEXO_NOTES_KEYS` (`kid:base64,…`).
pub fn configured_notes_key_ids(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .filter_map(|entry| entry.split_once(':').map(|(id, _)| id.trim().to_owned()))
        .filter(|id| !id.is_empty())
        .collect()
}

/// What the operator must bring back besides the database, and what the
/// environment of this restore lacks. One line each.
pub fn what_else(
    manifest: &Manifest,
    configured_notes_keys: &[String],
    replayed: Option<Replayed>,
) -> Vec<String> {
    let needed = &manifest.contents.notes_key_ids;
    let mut lines = Vec::new();
    if needed.is_empty() {
        lines.push("notes keys: no sealed note or webhook secret in this backup".to_owned());
    } else {
        lines.push(format!(
            "notes keys: ADOSEXO_NOTES_KEYS must hold the key(s) {} (notes and webhook secrets are sealed with them; \
             development keeps its key in data/dev-notes.key)",
            needed.join(", ")
        ));
        let missing: Vec<&str> = needed
            .iter()
            .filter(|id| !configured_notes_keys.contains(id))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            lines.push(format!(
                "MISSING here: notes key(s) {} are not in ADOSEXO_NOTES_KEYS: without them those notes and webhook secrets cannot be opened",
                missing.join(", ")
            ));
        }
    }
    lines.push(
        "signing key: ADOSEXO_JWT_PRIVATE_KEY_FILE as before, or access tokens issued before are refused \
         (people sign in again; sessions, partner app secrets and calendar URLs are in the database)"
            .to_owned(),
    );
    let since = manifest
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    lines.push(match replayed {
        Some(r) => format!(
            "erasures: {} decided since {since} replayed from the journal ({} of people the backup does not hold, {} older); \
             then run `adosexo retention run`",
            r.erased, r.absent, r.older
        ),
        None => format!(
            "erasures: NO JOURNAL GIVEN: re-execute those decided after {since} before opening the service \
             (--erasure-journal, or docs/OPERATIONS.md, \"Erasure and old backups\"); then run `adosexo retention run`"
        ),
    });
    lines
}

/// One executed erasure, as the erasure journal keeps it: ids and a time,
/// nothing that names anyone.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JournalEntry {
    /// The erasure request.
    pub request_id: String,
    /// The person erased.
    pub person_id: String,
    /// When it was executed.
    pub decided_at: DateTime<Utc>,
}

/// Appends an executed erasure to the journal (`ADOSEXO_ERASURE_JOURNAL`,
/// created with mode 0600) and syncs it. One line, one write.
pub fn journal_erasure(
    journal: &Path,
    request_id: &str,
    person_id: &str,
    decided_at: DateTime<Utc>,
) -> io::Result<()> {
    let mut line = serde_json::to_vec(&JournalEntry {
        request_id: request_id.to_owned(),
        person_id: person_id.to_owned(),
        decided_at,
    })?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(journal)?;
    file.write_all(&line)?;
    file.sync_data()
}

/// Reads an erasure journal; a malformed line is an error naming it.
pub fn read_journal(journal: &Path) -> Result<Vec<JournalEntry>, BackupError> {
    let text = fs::read_to_string(journal)
        .map_err(|e| format!("erasure journal {}: {e}", journal.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|_| {
                format!(
                    "erasure journal {}: line {} is not a journal entry",
                    journal.display(),
                    n + 1
                )
            })
        })
        .collect()
}

/// What replaying the journal did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Erasures executed again.
    pub erased: usize,
    /// Erasures of people the database does not hold (created after it).
    pub absent: usize,
    /// Journal entries older than the cut-off (already in the database).
    pub older: usize,
}

/// Executes again every journaled erasure decided at or after `since`.
pub fn replay_erasures(
    conn: &mut adosexo_persistence::DbConnection,
    entries: &[JournalEntry],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Replayed, BackupError> {
    let mut replayed = Replayed::default();
    for entry in entries {
        if entry.decided_at < since {
            replayed.older += 1;
            continue;
        }
        let found = snapshot::replay_erasure(conn, &entry.request_id, &entry.person_id, now)
            .map_err(|e| format!("cannot replay an erasure: {e}"))?;
        if found {
            replayed.erased += 1;
        } else {
            replayed.absent += 1;
        }
    }
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names_are_recognised_exactly() {
        assert!(is_backup_name("adosexo-20261204T163000.123Z.backup.age"));
        assert!(!is_backup_name(
            "adosexo-20261204T163000.123Z.backup.age.tmp"
        ));
        assert!(!is_backup_name("adosexo-latest.backup.age"));
        assert!(!is_backup_name("other-20261204T163000.123Z.backup.age"));
    }

    #[test]
    fn notes_key_ids_are_read_without_the_keys() {
        assert_eq!(
            configured_notes_key_ids(Some("a:AAAA, b:BBBB")),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(configured_notes_key_ids(None).is_empty());
    }

    #[test]
    fn a_restore_names_the_notes_keys_it_lacks() {
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            adosexo_version: "0.1.0".to_owned(),
            schema_version: "1".to_owned(),
            database_bytes: 0,
            database_sha256: String::new(),
            contents: Inspection {
                migrations: vec!["1".to_owned()],
                counts: std::collections::BTreeMap::new(),
                audit_head_seq: 0,
                audit_head_hash: String::new(),
                audit_anchor_seq: 0,
                notes_key_ids: vec!["2025-01".to_owned(), "2026-11".to_owned()],
            },
        };
        let lines = what_else(&manifest, &["2026-11".to_owned()], None);
        assert!(lines[0].contains("2025-01, 2026-11"), "{lines:?}");
        assert!(
            lines[1].starts_with("MISSING here: notes key(s) 2025-01 are not"),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("2027-01-15T08:00:00Z")),
            "{lines:?}"
        );
        let all_there = what_else(
            &manifest,
            &["2025-01".to_owned(), "2026-11".to_owned()],
            Some(Replayed::default()),
        );
        assert!(
            !all_there.iter().any(|l| l.contains("MISSING")),
            "{all_there:?}"
        );
    }

    #[test]
    fn bad_recipients_are_named_not_echoed() {
        let error = parse_recipients(&["age1nope".to_owned()], &[]).err();
        assert_eq!(
            error.as_deref(),
            Some(
                "--recipient / ADOSEXO_BACKUP_RECIPIENT: value 1 is not an age X25519 recipient (age1…)"
            )
        );
        assert!(parse_recipients(&[], &[]).is_err());
    }
}
