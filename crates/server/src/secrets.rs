//! Institution secrets at rest. Every scheme the gateways use needs the secret itself to verify
//! a request (x-tif hashes it with the timestamp and nonce, `_api_*` keys an HMAC with it, OAuth2
//! compares it), so a hash would not do: the store keeps each secret sealed with
//! ChaCha20-Poly1305 under a key that is not in the database, and the service opens them when it
//! starts or an institution is registered. A copy of the database alone hands out no secret.
//!
//! The keys live in a key file (`--secret-key-file`, `YIBAO_SECRET_KEY_FILE`), one per line as
//! `ID HEX` (32 bytes as 64 hex digits); `#` starts a comment. The first key seals; the others
//! only open what they sealed. Rotation: put a new key on the first line and restart; at start
//! every secret not sealed with the first key is sealed again with it (and any secret still in
//! the clear, stored before sealing existed, is sealed), after which the old lines may go.
//!
//! A sealed secret reads `sealed:v1:ID:BASE64`, the Base64 holding the 12-byte nonce and the
//! ciphertext with its tag. The institution's code is the associated data: a sealed secret
//! copied onto another institution's row does not open.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use yibao_store::InstitutionRecord;

/// The largest key file read: a few keys of a line each.
pub const KEY_FILE_BYTES_MAX: u64 = 64 * 1024;
/// Keys a key file may hold: the current one and those being rotated out.
pub const KEYS_MAX: usize = 16;
/// The longest key id.
const KEY_ID_CHARS_MAX: usize = 32;
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const SEALED_PREFIX: &str = "sealed:v1:";

struct SecretKey {
    id: String,
    cipher: ChaCha20Poly1305,
}

/// The keys of a key file, the sealing one first.
pub struct SecretKeys {
    keys: Vec<SecretKey>,
}

impl std::fmt::Debug for SecretKeys {
    // The key bytes are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("SecretKeys").field("ids", &ids).finish()
    }
}

impl SecretKeys {
    /// Reads a key file's text; every error names its line.
    pub fn parse(text: &str) -> Result<SecretKeys, String> {
        let mut keys: Vec<SecretKey> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = |why: &str| format!("密钥文件第{}行: {why}", n + 1);
            let mut parts = line.split_whitespace();
            let (Some(id), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(at("应为“密钥编号 64位十六进制密钥”"));
            };
            let id_ok = !id.is_empty()
                && id.len() <= KEY_ID_CHARS_MAX
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(at(&format!("密钥编号应为1至{KEY_ID_CHARS_MAX}个字母、数字、-或_")));
            }
            let bytes = decode_hex(hex).filter(|b| b.len() == KEY_BYTES);
            let Some(bytes) = bytes else {
                return Err(at("密钥应为64位十六进制数字(32字节)"));
            };
            if keys.iter().any(|k| k.id == id) {
                return Err(at(&format!("密钥编号{id}重复")));
            }
            if keys.len() == KEYS_MAX {
                return Err(at(&format!("密钥文件最多{KEYS_MAX}个密钥")));
            }
            keys.push(SecretKey {
                id: id.to_owned(),
                cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            });
        }
        if keys.is_empty() {
            return Err("密钥文件中没有密钥".into());
        }
        Ok(SecretKeys { keys })
    }

    /// The keys of the file at `path`; when there is none, a new file with one new key is made
    /// (readable by its owner only) and its keys returned with `true`. Two processes starting at
    /// once agree on one file: it appears whole or not at all (written aside, then linked).
    pub fn load_or_create(path: &Path) -> Result<(SecretKeys, bool), String> {
        match read_key_file(path) {
            Ok(text) => {
                return SecretKeys::parse(&text)
                    .map(|k| (k, false))
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: 无法读取密钥文件({e})", path.display())),
        }
        let text = new_key_file_text()?;
        let aside = path.with_extension(format!("new-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&aside)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        };
        let made = write().and_then(|()| std::fs::hard_link(&aside, path));
        let _ = std::fs::remove_file(&aside);
        let created = match made {
            Ok(()) => true,
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(format!("{}: 无法创建密钥文件({e})", path.display())),
        };
        let text = read_key_file(path).map_err(|e| format!("{}: 无法读取密钥文件({e})", path.display()))?;
        SecretKeys::parse(&text)
            .map(|k| (k, created))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// `secret` sealed for the institution `code` with the current key.
    pub fn seal(&self, code: &str, secret: &str) -> Result<String, String> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| format!("无法生成随机数: {e}"))?;
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: code.as_bytes(),
                },
            )
            .map_err(|_| "机构密钥加密失败".to_owned())?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}:{}", key.id, BASE64.encode(bytes)))
    }

    /// The secret as stored for the institution `code`, opened: `Ok((secret, true))` when it
    /// should be sealed again (it is in the clear, or sealed with a key that no longer seals).
    pub fn open(&self, code: &str, stored: &str) -> Result<(String, bool), String> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            // Stored before secrets were sealed.
            return Ok((stored.to_owned(), true));
        };
        let (id, encoded) = rest
            .split_once(':')
            .ok_or_else(|| format!("机构{code}的密钥格式错误"))?;
        let (index, key) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, k)| k.id == id)
            .ok_or_else(|| format!("机构{code}的密钥由密钥{id}加密,密钥文件中没有该密钥"))?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| format!("机构{code}的密钥格式错误"))?;
        if bytes.len() < NONCE_BYTES {
            return Err(format!("机构{code}的密钥格式错误"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: code.as_bytes(),
                },
            )
            .map_err(|_| format!("机构{code}的密钥无法用密钥{id}解密(密钥不对或数据被改动)"))?;
        let secret = String::from_utf8(plain).map_err(|_| format!("机构{code}的密钥不是UTF-8文本"))?;
        Ok((secret, index != 0))
    }

    /// Opens every record's secret. Returns the records in the clear (for the verifier) and,
    /// sealed with the current key, those that must be stored again.
    pub fn open_all(
        &self,
        records: Vec<InstitutionRecord>,
    ) -> Result<(Vec<InstitutionRecord>, Vec<InstitutionRecord>), String> {
        let mut plain = Vec::with_capacity(records.len());
        let mut reseal = Vec::new();
        for mut record in records {
            let (secret, stale) = self.open(&record.code, &record.secret)?;
            if stale {
                reseal.push(InstitutionRecord {
                    secret: self.seal(&record.code, &secret)?,
                    ..record.clone()
                });
            }
            record.secret = secret;
            plain.push(record);
        }
        Ok((plain, reseal))
    }
}

/// A new key file: one key, id `k` + the date, 32 bytes from the operating system's random source.
pub fn new_key_file_text() -> Result<String, String> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| format!("无法生成密钥: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!("k{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    Ok(format!(
        "# yibao institution-secret keys: ID HEX, the first seals. Keep this file apart from the database.\n{id} {hex}\n"
    ))
}

fn read_key_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(KEY_FILE_BYTES_MAX + 1).read_to_string(&mut text)?;
    if text.len() as u64 > KEY_FILE_BYTES_MAX {
        return Err(std::io::Error::other(format!("超过上限{KEY_FILE_BYTES_MAX}字节")));
    }
    Ok(text)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "k1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    const K2: &str = "k2 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";

    fn record(code: &str, secret: &str) -> InstitutionRecord {
        InstitutionRecord {
            code: code.into(),
            name: "测试医院".into(),
            hosp_lv: "02".into(),
            admdvs: "500103".into(),
            paas_id: format!("p-{code}"),
            secret: secret.into(),
            active: true,
        }
    }

    #[test]
    fn sealed_secrets_open_only_for_their_institution_and_key() {
        let keys = SecretKeys::parse(K1).unwrap();
        let sealed = keys.seal("H50010300001", "demo-secret-01").unwrap();
        assert!(sealed.starts_with("sealed:v1:k1:"), "{sealed}");
        assert!(!sealed.contains("demo-secret"));
        assert_eq!(
            keys.open("H50010300001", &sealed).unwrap(),
            ("demo-secret-01".to_owned(), false)
        );
        // Each seal has its own nonce.
        assert_ne!(sealed, keys.seal("H50010300001", "demo-secret-01").unwrap());
        // Moved onto another institution's row, it does not open.
        assert_eq!(
            keys.open("H50010300002", &sealed).unwrap_err(),
            "机构H50010300002的密钥无法用密钥k1解密(密钥不对或数据被改动)"
        );
        // A key file without its key cannot open it.
        let other = SecretKeys::parse(K2).unwrap();
        assert_eq!(
            other.open("H50010300001", &sealed).unwrap_err(),
            "机构H50010300001的密钥由密钥k1加密,密钥文件中没有该密钥"
        );
        // A changed byte is found.
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(keys
            .open("H50010300001", &String::from_utf8(tampered).unwrap())
            .is_err());
    }

    #[test]
    fn rotation_reseals_what_the_first_key_did_not_seal() {
        let old = SecretKeys::parse(K1).unwrap();
        let sealed_old = old.seal("H50010300001", "s-one-secret").unwrap();
        let rotated = SecretKeys::parse(&format!("{K2}{K1}")).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        let sealed_new = rotated.seal("H50010300003", "s-three-secret").unwrap();
        let (plain, reseal) = rotated
            .open_all(vec![
                record("H50010300001", &sealed_old),
                record("H50010300002", "plain-legacy"),
                record("H50010300003", &sealed_new),
            ])
            .unwrap();
        let secrets: Vec<&str> = plain.iter().map(|r| r.secret.as_str()).collect();
        assert_eq!(secrets, ["s-one-secret", "plain-legacy", "s-three-secret"]);
        let codes: Vec<&str> = reseal.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["H50010300001", "H50010300002"]);
        for r in &reseal {
            assert!(r.secret.starts_with("sealed:v1:k2:"));
        }
        // After the restart the old key may go: everything opens with the new one alone.
        let new_only = SecretKeys::parse(K2).unwrap();
        let (_, again) = new_only.open_all(reseal).unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn key_file_errors_name_the_line() {
        assert_eq!(
            SecretKeys::parse("# only a comment\n").unwrap_err(),
            "密钥文件中没有密钥"
        );
        assert_eq!(
            SecretKeys::parse("k1 00ff\n").unwrap_err(),
            "密钥文件第1行: 密钥应为64位十六进制数字(32字节)"
        );
        assert_eq!(
            SecretKeys::parse(&format!("\n{K1}{K1}")).unwrap_err(),
            "密钥文件第3行: 密钥编号k1重复"
        );
        assert_eq!(
            SecretKeys::parse("k/1 00\n").unwrap_err(),
            "密钥文件第1行: 密钥编号应为1至32个字母、数字、-或_"
        );
        assert_eq!(
            SecretKeys::parse("k1\n").unwrap_err(),
            "密钥文件第1行: 应为“密钥编号 64位十六进制密钥”"
        );
        // Key bytes never show in debug output.
        let keys = SecretKeys::parse(K1).unwrap();
        assert_eq!(format!("{keys:?}"), "SecretKeys { ids: [\"k1\"] }");
    }

    #[test]
    fn a_missing_key_file_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("yibao-keys-{}-{}", std::process::id(), line!()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.keys");
        let (first, created) = SecretKeys::load_or_create(&path).unwrap();
        assert!(created);
        let (second, created) = SecretKeys::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.current_id(), second.current_id());
        let sealed = first.seal("H50010300001", "x-secret-x").unwrap();
        assert_eq!(second.open("H50010300001", &sealed).unwrap().0, "x-secret-x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
